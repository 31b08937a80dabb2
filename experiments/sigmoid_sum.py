"""Piecewise-linear curves are a constant plus hard sigmoids; sigmoid and ReLU sums approximate a smooth curve
better with more units (SCOPE §1.4–1.6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Exact hard-sigmoid construction, 2 ReLU = 1 hard sigmoid, error of sigmoid/ReLU sums vs units"
SECTION = "1.5"

LOW, HIGH = -5.0, 5.0
FAMILIES = ("hard", "sigmoid", "relu")
LABELS = {
    "hard": "hard sigmoids (construction)",
    "sigmoid": "sigmoid sum (trained)",
    "relu": "ReLU sum (trained)",
}


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(x) + 0.3 * x


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    units: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    n_train: int = 500
    epochs: int = 3000
    seeds: int = 4
    learning_rate: float = 3e-3
    final_learning_rate: float = 3e-5
    #: a sigmoid's initial slope |w| = sigmoid_slope · n/(HIGH − LOW): its ramp spans about 4/sigmoid_slope strata
    sigmoid_slope: float = 2.0

    QUICK = {"epochs": 600, "seeds": 2}


def _falls(metrics: dict[str, float], family: str) -> bool:
    return (
        metrics["unit_counts"] >= 5
        and metrics[f"{family}_worst_step_ratio"] < 1.0
        and metrics[f"{family}_max_error_worst_step_ratio"] < 1.0
    )


def _claim_numbers(family: str) -> tuple[str, ...]:
    return (
        "unit_counts",
        f"{family}_worst_step_ratio",
        f"{family}_rms_error_fewest",
        f"{family}_rms_error_most",
        f"{family}_max_error_worst_step_ratio",
    )


def _explain(family: str) -> Callable[[dict[str, float]], str]:
    def explain(m: dict[str, float]) -> str:
        ratio = m[f"{family}_worst_step_ratio"]
        max_ratio = m[f"{family}_max_error_worst_step_ratio"]
        return (
            f"RMS error {m[f'{family}_rms_error_fewest']:.3g} with the fewest units, "
            f"{m[f'{family}_rms_error_most']:.3g} with the most; the largest ratio of consecutive errors is "
            f"{ratio:.3g} ({'< 1: it falls at every step' if ratio < 1 else '≥ 1: it rises somewhere'}). The max "
            f"error's largest consecutive ratio is {max_ratio:.3g}"
            + (" (< 1: it falls at every step too)." if max_ratio < 1 else " (≥ 1: it rises somewhere).")
        )

    return explain


CLAIMS = (
    Claim(
        "construction_exact",
        "1.4",
        "A piecewise-linear curve is exactly a constant plus a sum of hard sigmoids (a construction, not a fit).",
        lambda m: m["construction_max_error"] < 1e-5,
        reads=("construction_max_error",),
    ),
    Claim(
        "two_relus_one_hard_sigmoid",
        "1.6",
        "Two ReLUs make one hard sigmoid: relu(0.2x + 0.5) − relu(0.2x − 0.5).",
        lambda m: m["two_relu_minus_hard_sigmoid_max_error"] < 1e-6,
        reads=("two_relu_minus_hard_sigmoid_max_error",),
    ),
    Claim(
        "hard_sigmoids_approximate",
        "1.4",
        "A smooth curve is approximated by enough hard sigmoids: the RMS and the max error over [−5, 5] fall with "
        "every added segment count.",
        lambda m: _falls(m, "hard"),
        reads=_claim_numbers("hard"),
        explain=_explain("hard"),
    ),
    Claim(
        "sigmoid_sum_improves",
        "1.5",
        "y = b + Σᵢ cᵢ σ(bᵢ + wᵢx): with more sigmoids the trained sum approximates the curve better (RMS and max "
        "error over [−5, 5] fall with every added unit count).",
        lambda m: _falls(m, "sigmoid"),
        reads=_claim_numbers("sigmoid"),
        explain=_explain("sigmoid"),
    ),
    Claim(
        "relu_sum_improves",
        "1.6",
        "y = b + Σ cᵢ max(0, bᵢ + wᵢx): with more ReLUs the trained sum approximates the curve better (RMS and max "
        "error over [−5, 5] fall with every added unit count).",
        lambda m: _falls(m, "relu"),
        reads=_claim_numbers("relu"),
        explain=_explain("relu"),
    ),
)


def _features(activation: Callable[[Any], Any], hidden: dict[str, Any], x: np.ndarray) -> np.ndarray:
    w = np.asarray(hidden["w"], dtype=np.float64)
    b = np.asarray(hidden["b"], dtype=np.float64)
    return np.asarray(activation(np.asarray(x, dtype=np.float64)[:, None] * w + b))


def _output_layer(
    activation: Callable[[Any], Any], hidden: dict[str, Any], mask: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float]:
    """The output layer (c, b) minimizing the training MSE once the hidden units are set: linear least squares.

    Units outside ``mask`` get c = 0, so a padded run keeps exactly its own n units.
    """
    a = _features(activation, hidden, x)[:, mask]
    sol = np.linalg.lstsq(np.c_[a, np.ones(len(x))], y, rcond=None)[0]
    c = np.zeros(len(mask))
    c[mask] = sol[:-1]
    return c, float(sol[-1])


def _initial_hidden(
    family: str, n: int, width: int, rng: np.random.Generator, jitter: bool, slope: float
) -> tuple[np.ndarray, np.ndarray]:
    """Hidden weights whose breakpoints −bᵢ/wᵢ spread over [LOW, HIGH], one per stratum of width (HIGH−LOW)/n.

    A ReLU's kink or a sigmoid's centre then sits in every part of the input range; a sigmoid's slope makes its
    ramp about 4/slope strata wide (|w| = slope·n/(HIGH−LOW)). Seed 0 places them at the strata's centres, the others
    jitter them uniformly within their strata; signs alternate (seed 0) or are random.
    """
    u = rng.uniform(size=n) if jitter else np.full(n, 0.5)
    t = LOW + (HIGH - LOW) * (np.arange(n) + u) / n
    sign = rng.choice([-1.0, 1.0], size=n) if jitter else np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    scale = slope * n / (HIGH - LOW) if family == "sigmoid" else 1.0
    w = np.zeros(width)
    b = np.zeros(width)
    w[:n] = sign * scale
    b[:n] = -w[:n] * t
    return w, b


def _train_family(
    config: Config, family: str, x: np.ndarray, y: np.ndarray
) -> tuple[dict[int, dict[str, Any]], dict[int, float]]:
    """Train a sum of n units for every n in ``config.units`` and ``config.seeds`` initializations, all in one
    compiled program: every run is padded to max(units) units with a fixed 0/1 mask on c.

    Each run starts from breakpoints spread over the input range with its output layer solved in closed form,
    then full-batch Adam with η decaying exponentially from ``learning_rate`` to ``final_learning_rate``
    trains every parameter; the output layer is solved again at the end (it can only lower the training MSE)
    and the seed with the lowest training MSE is kept. Returns, per n, the params of
    ``models.{sigmoid,relu}_sum(1, n)`` and the training MSE.
    """
    activation = jax.nn.sigmoid if family == "sigmoid" else jax.nn.relu
    width = max(config.units)
    rng = np.random.default_rng(config.seed)
    runs = []
    for n in config.units:
        mask = np.arange(width) < n
        for s in range(config.seeds):
            w, b = _initial_hidden(family, n, width, rng, jitter=s > 0, slope=config.sigmoid_slope)
            hidden = {"w": w[None, :], "b": b}
            c, b0 = _output_layer(activation, hidden, mask, x, y)
            runs.append({"hidden": hidden, "c": c, "b": np.asarray(b0), "mask": mask.astype(np.float64)})
    stacked = jax.tree_util.tree_map(lambda *a: jnp.asarray(np.stack(a), dtype=jnp.float32), *runs)
    padded = (models.sigmoid_sum if family == "sigmoid" else models.relu_sum)(1, width)

    def apply(params: dict[str, Any], inputs: Any) -> Any:
        # The mask is data, not a parameter: with c masked, padded units get zero gradient everywhere.
        c = params["c"] * jax.lax.stop_gradient(params["mask"])
        return padded.apply({"hidden": params["hidden"], "c": c, "b": params["b"]}, inputs)

    schedule = optax.exponential_decay(
        config.learning_rate, config.epochs, config.final_learning_rate / config.learning_rate
    )
    xd, yd = data.to_device(x, y)
    res = train.fit_sweep(
        train.supervised(apply, losses.mse),
        stacked,
        optax.adam(schedule),
        (xd, yd),
        keys=jax.random.split(jax.random.PRNGKey(config.seed), len(runs)),
        epochs=config.epochs,
    )
    best_params: dict[int, dict[str, Any]] = {}
    best_mse: dict[int, float] = {}
    for i, n in enumerate(config.units):
        for s in range(config.seeds):
            r = i * config.seeds + s
            hidden = {k: np.asarray(v[r], dtype=np.float64) for k, v in res.params["hidden"].items()}
            mask = np.arange(width) < n
            c, b0 = _output_layer(activation, hidden, mask, x, y)
            mse = float(np.mean((_features(activation, hidden, x) @ c + b0 - y) ** 2))
            if not np.isfinite(mse) or mse >= best_mse.get(n, np.inf):
                continue
            best_mse[n] = mse
            best_params[n] = {
                "hidden": {"w": jnp.asarray(hidden["w"][:, :n]), "b": jnp.asarray(hidden["b"][:n])},
                "c": jnp.asarray(c[:n]),
                "b": jnp.asarray(b0),
            }
    return best_params, best_mse


def _worst_step_ratio(errors: list[float]) -> float:
    e = np.asarray(errors)
    return float(np.max(e[1:] / e[:-1])) if len(e) > 1 else float("nan")


def compute(config: Config) -> Result:
    if len(config.units) < 2 or any(b <= a for a, b in zip(config.units, config.units[1:])):
        raise ValueError(f"units must be ≥ 2 increasing unit counts, got {config.units}")
    grid = np.linspace(LOW, HIGH, 2001)
    target = _smooth(grid)

    # 1. The exact construction: constant + Σ hard sigmoids through the breakpoints.
    bx, by = data.piecewise_linear_target()
    pw = models.piecewise_linear(bx, by)
    built = np.asarray(models.piecewise_linear_apply(pw, jnp.asarray(grid)))
    exact_error = float(np.max(np.abs(built - np.interp(grid, bx, by))))
    components = [
        (float(pw.c[i]), np.asarray(models.hard_sigmoid(pw.a[i] * grid + pw.b[i])), (bx[i], bx[i + 1]))
        for i in range(len(pw.c))
    ]

    # 2. Two ReLUs make one hard sigmoid.
    relu_pair = np.asarray(jax.nn.relu(0.2 * grid + 0.5) - jax.nn.relu(0.2 * grid - 0.5))
    relu_error = float(np.max(np.abs(relu_pair - np.asarray(models.hard_sigmoid(grid)))))

    # 3. The smooth curve: n hard sigmoids through n + 1 equally spaced knots, and trained sums of n units.
    # Approximation, not estimation: the curve is known everywhere, so train on a dense grid of it (a sparse
    # sample would leave gaps whose interpolation error, not the model's capacity, sets the error floor).
    x = np.linspace(LOW, HIGH, config.n_train)
    y = _smooth(x)
    errors: dict[str, list[float]] = {f: [] for f in FAMILIES}
    rms: dict[str, list[float]] = {f: [] for f in FAMILIES}
    fits: dict[tuple[str, int], np.ndarray] = {}
    for n in config.units:
        knots = np.linspace(LOW, HIGH, n + 1)
        approx = np.asarray(models.piecewise_linear_apply(models.piecewise_linear(knots, _smooth(knots)), grid))
        fits[("hard", n)] = approx
    train_mse = {}
    for family in ("sigmoid", "relu"):
        params, train_mse[family] = _train_family(config, family, x, y)
        model = models.sigmoid_sum if family == "sigmoid" else models.relu_sum
        for n in config.units:
            fits[(family, n)] = np.asarray(model(1, n).apply(params[n], jnp.asarray(grid)))
    for family in FAMILIES:
        for n in config.units:
            err = fits[(family, n)] - target
            errors[family].append(float(np.max(np.abs(err))))
            rms[family].append(float(np.sqrt(np.mean(err**2))))

    units = list(config.units)
    metrics: dict[str, float] = {
        "construction_max_error": exact_error,
        "two_relu_minus_hard_sigmoid_max_error": relu_error,
        "unit_counts": float(len(units)),
    }
    for family in FAMILIES:
        metrics[f"{family}_worst_step_ratio"] = _worst_step_ratio(rms[family])
        metrics[f"{family}_max_error_worst_step_ratio"] = _worst_step_ratio(errors[family])
        metrics[f"{family}_rms_error_fewest"] = rms[family][0]
        metrics[f"{family}_rms_error_most"] = rms[family][-1]
        metrics[f"{family}_max_error_fewest"] = errors[family][0]
        metrics[f"{family}_max_error_most"] = errors[family][-1]
        for n, e in zip(units, errors[family]):
            metrics[f"{family}_max_error_{n}_units"] = e
        for n, e in zip(units, rms[family]):
            metrics[f"{family}_rms_error_{n}_units"] = e
    rows = [
        [
            n,
            *(errors[f][i] for f in FAMILIES),
            *(rms[f][i] for f in FAMILIES),
            train_mse["sigmoid"][n],
            train_mse["relu"][n],
        ]
        for i, n in enumerate(units)
    ]
    word = lambda ratio: "falling at every step" if ratio < 1 else "not falling at every step"
    trend = "; ".join(
        f"{LABELS[f]}: RMS {rms[f][0]:.3g} → {rms[f][-1]:.3g} ({word(metrics[f'{f}_worst_step_ratio'])}), "
        f"max {errors[f][0]:.3g} → {errors[f][-1]:.3g} ({word(metrics[f'{f}_max_error_worst_step_ratio'])})"
        for f in FAMILIES
    )
    summary = (
        f"The piecewise-linear curve through {len(bx)} breakpoints equals a constant plus {len(pw.c)} hard sigmoids "
        f"to {exact_error:.1e} — a construction, not a fit. relu(0.2x+0.5) − relu(0.2x−0.5) equals the hard sigmoid "
        f"to {relu_error:.1e}.\n\n"
        f"The smooth curve sin(x) + 0.3x on [{LOW:g}, {HIGH:g}] with {len(units)} unit counts "
        f"({', '.join(map(str, units))}); error on a 2,001-point grid: {trend}. "
        f"The hard sigmoids interpolate n + 1 equally spaced knots. The trained sums ({config.n_train} "
        f"equally spaced points of the curve) start with breakpoints −bᵢ/wᵢ spread "
        f"over the input range and the output layer solved by least squares, then full-batch Adam trains every "
        f"parameter for {config.epochs} epochs (η decaying {config.learning_rate:g} → {config.final_learning_rate:g}), "
        f"the output layer is re-solved, and the best of {config.seeds} initializations (by training MSE) is kept."
    )
    return Result(
        title="Sums of sigmoids: hard, soft and ReLU",
        summary=summary,
        metrics=metrics,
        tables={
            "Error on [−5, 5] against the number of units (max and RMS over the grid; training MSE of the kept run)": (
                table(
                    [
                        "units",
                        *(f"max: {LABELS[f]}" for f in FAMILIES),
                        *(f"RMS: {LABELS[f]}" for f in FAMILIES),
                        "train MSE: sigmoid",
                        "train MSE: ReLU",
                    ],
                    rows,
                )
            )
        },
        data={
            "errors": {LABELS[f]: errors[f] for f in FAMILIES},
            "rms": {LABELS[f]: rms[f] for f in FAMILIES},
            "units": units,
            "grid": grid,
            "fits": fits,
            "x": x,
            "y": y,
            "construction": (bx, by, float(pw.constant), components, exact_error),
            "epochs": config.epochs,
            "seeds": config.seeds,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    grid, units = d["grid"], d["units"]
    bx, by, constant, components, exact_error = d["construction"]

    def draw_target(ax: Any) -> None:
        ax.plot(grid, np.interp(grid, bx, by), color="black", linewidth=2, label="target (piecewise linear)")
        ax.plot(
            grid,
            constant + sum(c * h for c, h, _ in components),
            "--",
            color="tab:orange",
            label="constant + Σ hard sigmoids",
        )
        ax.plot(bx, by, "o", color="black", markersize=4)
        ax.set_xlabel("x")
        ax.set_ylabel("y")

    def draw_parts(ax: Any) -> None:
        ax.axhline(constant, color="gray", linestyle=":", label=f"constant c₀ = {constant:g}")
        for c, h, (lo, hi) in components:
            ax.plot(grid, c * h, label=f"{c:+.2g}·hard_sigmoid, ramp on [{lo:g}, {hi:g}]")
        ax.set_xlabel("x")
        ax.set_ylabel("component")

    fig_build = plot.panels(
        out / "hard_sigmoid_construction.png",
        [draw_target, draw_parts],
        titles=[f"the sum equals the curve (max error {exact_error:.1e})", f"the {len(components)} hard sigmoids"],
        suptitle=f"A piecewise-linear curve = constant + {len(components)} hard sigmoids",
        ncols=1,
        panel_size=(7.0, 3.4),
        legend_loc="outside",
    )

    def draw_err(which: str) -> Any:
        def draw(ax: Any) -> None:
            for label, v in d[which].items():
                ax.plot(units, v, "o-", label=label)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(units)
            ax.set_xticklabels([str(n) for n in units])
            ax.minorticks_off()
            ax.set_xlabel("number of units")
            ax.set_ylabel(("RMS" if which == "rms" else "max |error|") + " on [−5, 5] (log)")

        return draw

    fig_err = plot.panels(
        out / "error_vs_units.png",
        [draw_err("rms"), draw_err("errors")],
        titles=["RMS error (what training minimizes)", "max error"],
        suptitle=f"Approximating sin(x) + 0.3x on [−5, 5] with {units[0]} to {units[-1]} units",
        ncols=2,
        panel_size=(5.2, 4.2),
        legend_loc="upper right",
    )
    target = _smooth(grid)
    shown = sorted({units[min(1, len(units) - 1)], units[len(units) // 2], units[-1]})
    draws, titles = [], []
    for family in ("sigmoid", "relu"):

        def draw(ax: Any, family: str = family) -> None:
            ax.scatter(d["x"], d["y"], s=6, color="lightgray", label="training points")
            ax.plot(grid, target, color="black", linewidth=1.5, label="target")
            for n in shown:
                ax.plot(grid, d["fits"][(family, n)], label=f"{n} units")
            ax.set_xlabel("x")
            ax.set_ylabel("y")

        draws.append(draw)
        titles.append(f"{LABELS[family]}, best of {d['seeds']} initializations")
    fig_fit = plot.panels(
        out / "fits.png",
        draws,
        titles=titles,
        suptitle=f"Trained sums with {', '.join(map(str, shown))} units ({d['epochs']} epochs of Adam)",
        ncols=2,
        panel_size=(5.6, 4.2),
    )
    return [fig_build, fig_err, fig_fit]
