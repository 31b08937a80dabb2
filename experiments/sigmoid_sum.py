"""Piecewise-linear curves are a constant plus hard sigmoids; sigmoid and ReLU sums approximate a smooth curve
better with more units (course §1.4–1.6)."""

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
from jaxml.report import Claim, ExperimentConfig, Requirement, Result, flag, integer, number, progress, table, tuple_of

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
    learning_rate: float = 3e-3
    final_learning_rate: float = 3e-5
    #: a sigmoid's initial slope |w| = sigmoid_slope · n/(HIGH − LOW): its ramp spans about 4/sigmoid_slope strata
    sigmoid_slope: float = 2.0
    #: each replicate keeps the best (by training MSE) of this many random initializations: a single start of a
    #: few sigmoids now and then stalls in a poor local minimum, which says nothing about what n units can do
    starts: int = 2
    #: False is the negative control: every "unit count" trains only units[0] units
    grow: bool = True

    QUICK = {"epochs": 400}

    DOMAINS = {
        "units": tuple_of(integer(1, 10**4), min_length=2, increasing=True),
        "n_train": integer(2, 10**6),
        "epochs": integer(),
        "learning_rate": number(0, low_open=True),
        "final_learning_rate": number(0, low_open=True),
        "sigmoid_slope": number(0, low_open=True),
        "starts": integer(1, 10**3),
        "grow": flag(),
    }
    REQUIRES = (
        Requirement(
            ("final_learning_rate", "learning_rate"),
            "final_learning_rate must be at most learning_rate (η decays)",
            lambda c: c.final_learning_rate <= c.learning_rate,
        ),
    )


CONTROL = {"grow": False}  # the units do not grow: the error cannot fall with the count


def _falls(metrics: dict[str, float], family: str) -> bool:
    return (
        metrics["unit_counts"] >= 5
        and metrics[f"{family}_worst_step_ratio"] < 1.0
        and metrics[f"{family}_max_error_worst_step_ratio"] < 1.0
    )


def _explain(family: str) -> Callable[[dict[str, float]], str]:
    def explain(m: dict[str, float]) -> str:
        steps = "fell" if m[f"{family}_mean_error_steps_rising"] == 0 else "did not fall"
        return (
            f"From {m['units_fewest']:.0f} to {m['units_most']:.0f} units the error fell by a mean log-drop of "
            f"{m[f'{family}_log_error_drop_fewest_to_most']:.3g} (the smaller of RMS and max, per initialization; "
            f"mean RMS {m[f'{family}_rms_error_fewest']:.3g} → {m[f'{family}_rms_error_most']:.3g}, mean max "
            f"{m[f'{family}_max_error_fewest']:.3g} → {m[f'{family}_max_error_most']:.3g}). The mean errors {steps} "
            f"at every added count; a single initialization's errors (RMS and max) fell at every step in "
            f"{m[f'{family}_runs_falling_everywhere']:.0f} of {m['replicates']:.0f} replicates."
        )

    return explain


def _reads(family: str) -> tuple[str, ...]:
    return (
        "units_fewest", "units_most", f"{family}_log_error_drop_fewest_to_most", f"{family}_rms_error_fewest",
        f"{family}_rms_error_most", f"{family}_max_error_fewest", f"{family}_max_error_most",
        f"{family}_mean_error_steps_rising", f"{family}_runs_falling_everywhere",
    )  # fmt: skip


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
        reads=(
            "unit_counts", "hard_worst_step_ratio", "hard_rms_error_fewest", "hard_rms_error_most",
            "hard_max_error_worst_step_ratio",
        ),  # fmt: skip
    ),
    Claim(
        "sigmoid_sum_improves",
        "1.5",
        "y = b + Σᵢ cᵢ σ(bᵢ + wᵢx): with more sigmoids the trained sum approximates the curve better — per "
        "initialization, the RMS and the max error over [−5, 5] with the most units are below those with the fewest "
        "(effect: the smaller of ln(RMS_fewest/RMS_most) and ln(max_fewest/max_most)).",
        reads=_reads("sigmoid"),
        effect="sigmoid_log_error_drop_fewest_to_most",
        control=CONTROL,
        explain=_explain("sigmoid"),
    ),
    Claim(
        "relu_sum_improves",
        "1.6",
        "y = b + Σ cᵢ max(0, bᵢ + wᵢx): with more ReLUs the trained sum approximates the curve better — per "
        "initialization, the RMS and the max error over [−5, 5] with the most units are below those with the fewest "
        "(effect: the smaller of ln(RMS_fewest/RMS_most) and ln(max_fewest/max_most)).",
        reads=_reads("relu"),
        effect="relu_log_error_drop_fewest_to_most",
        control=CONTROL,
        explain=_explain("relu"),
    ),
)


def _features(family: str, w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The hidden units' activations act(bᵢ + wᵢx), (len(x), len(w)), in float64 numpy (the output layer is
    solved in float64; eager JAX would round to float32 and dispatch op by op)."""
    r = np.asarray(x, dtype=np.float64)[:, None] * np.asarray(w, dtype=np.float64) + np.asarray(b, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * r)) if family == "sigmoid" else np.maximum(r, 0.0)


def _output_layer(feats: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The output layer (c, b) minimizing the training MSE once the hidden units (their activations ``feats``,
    (len(x), n)) are set: linear least squares."""
    sol = np.linalg.lstsq(np.c_[feats, np.ones(len(x))], y, rcond=None)[0]
    return sol[:-1], float(sol[-1])


def _initial_hidden(family: str, n: int, rng: np.random.Generator, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """Hidden weights whose breakpoints −bᵢ/wᵢ spread over [LOW, HIGH], one per stratum of width (HIGH−LOW)/n.

    A ReLU's kink or a sigmoid's centre then sits in every part of the input range; a sigmoid's slope makes its
    ramp about 4/slope strata wide (|w| = slope·n/(HIGH−LOW)). Breakpoints are jittered uniformly within their
    strata, signs drawn at random.
    """
    t = LOW + (HIGH - LOW) * (np.arange(n) + rng.uniform(size=n)) / n
    sign = rng.choice([-1.0, 1.0], size=n)
    w = sign * (slope * n / (HIGH - LOW) if family == "sigmoid" else 1.0)
    return w, -w * t


def _train_family(
    config: Config, family: str, x: np.ndarray, y: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Train a sum of n units for every n in ``config.units`` from ``config.replicates × config.starts`` random
    initializations, all in one compiled program.

    One run holds every unit count side by side: its Σ units hidden units form one block per count, block k
    with its own output layer (cₖ, bₖ), and the loss is the sum of the blocks' training MSEs. The blocks share
    no parameter and Adam acts per parameter, so each block trains exactly as a separate sum of nₖ units would —
    without padding every count to the largest (a third of the work for units 2 … 64).

    Each block starts from breakpoints jittered within their strata of the input range (a fresh draw per run)
    with its output layer solved in closed form, then full-batch Adam with η decaying exponentially from
    ``learning_rate`` to ``final_learning_rate`` trains every parameter; the output layer is solved again at the
    end (it can only lower the training MSE). Each replicate keeps, per count, the better of its ``starts`` runs
    by training MSE. With ``grow=False`` (the negative control) every block has ``units[0]`` units.

    Returns:
        The fits on ``grid``, (len(units), replicates, len(grid)), and the training MSEs, (len(units), replicates).
    """
    activation = jax.nn.sigmoid if family == "sigmoid" else jax.nn.relu
    counts = [n if config.grow else config.units[0] for n in config.units]
    edges = np.cumsum([0, *counts])
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    member = np.zeros((edges[-1], len(counts)))  # unit → its block
    for k, blk in enumerate(blocks):
        member[blk, k] = 1.0
    rng = np.random.default_rng([config.seed, FAMILIES.index(family)])
    n_runs = config.replicates * config.starts
    runs = []
    for _ in range(n_runs):
        parts = [_initial_hidden(family, n, rng, config.sigmoid_slope) for n in counts]
        w, b = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        feats = _features(family, w, b, x)
        out = [_output_layer(feats[:, blk], x, y) for blk in blocks]
        c, b0 = np.concatenate([c for c, _ in out]), np.array([b0 for _, b0 in out])
        runs.append({"w": w, "b": b, "c": c, "b0": b0})
    stacked = jax.tree_util.tree_map(lambda *a: jnp.asarray(np.stack(a), dtype=jnp.float32), *runs)
    member_d = jnp.asarray(member, dtype=jnp.float32)

    def apply(params: dict[str, Any], inputs: Any) -> Any:
        # column k: bₖ + Σ_{i in block k} cᵢ act(bᵢ + wᵢx)
        return (activation(inputs * params["w"] + params["b"]) * params["c"]) @ member_d + params["b0"]

    def summed_mse(pred: Any, target: Any) -> Any:
        # Σₖ (block k's training MSE): each block's gradient is exactly that of its own MSE
        return len(counts) * losses.mse(pred, target)

    schedule = optax.exponential_decay(
        config.learning_rate, config.epochs, config.final_learning_rate / config.learning_rate
    )
    xd, yd = data.to_device(x[:, None], np.tile(y[:, None], (1, len(counts))))
    res = train.fit_sweep(
        train.supervised(apply, summed_mse),
        stacked,
        optax.adam(schedule),
        (xd, yd),
        keys=jax.random.split(jax.random.PRNGKey(config.seed), n_runs),
        epochs=config.epochs,
    )
    w_all = np.asarray(res.params["w"], dtype=np.float64)
    b_all = np.asarray(res.params["b"], dtype=np.float64)
    fits = np.zeros((len(counts), config.replicates, len(grid)))
    mse = np.full((len(counts), config.replicates), np.inf)
    for r in range(n_runs):
        feats, grid_feats = _features(family, w_all[r], b_all[r], x), _features(family, w_all[r], b_all[r], grid)
        rep = r // config.starts
        for k, blk in enumerate(blocks):
            c, b0 = _output_layer(feats[:, blk], x, y)
            loss = float(np.mean((feats[:, blk] @ c + b0 - y) ** 2))
            if np.isfinite(loss) and loss < mse[k, rep]:  # the best start of this replicate, by training MSE
                mse[k, rep] = loss
                fits[k, rep] = grid_feats[:, blk] @ c + b0
    return fits, mse


def _worst_step_ratio(errors: list[float] | np.ndarray) -> float:
    e = np.asarray(errors)
    return float(np.max(e[1:] / e[:-1]))


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
    grid_fits: dict[str, np.ndarray] = {}  # (units, replicates, grid) per family
    hard = [models.piecewise_linear_apply(models.piecewise_linear(k, _smooth(k)), grid)
            for k in (np.linspace(LOW, HIGH, n + 1) for n in config.units)]  # fmt: skip
    grid_fits["hard"] = np.asarray(hard)[:, None, :]
    train_mse = {}
    for family in ("sigmoid", "relu"):
        progress(f"training {len(config.units)} × {config.replicates} {family} sums")
        grid_fits[family], train_mse[family] = _train_family(config, family, x, y, grid)
    # per family: max and RMS error on the grid, (units, replicates); the trained rows are one per initialization
    max_err = {f: np.max(np.abs(grid_fits[f] - target), axis=-1) for f in FAMILIES}
    rms_err = {f: np.sqrt(np.mean((grid_fits[f] - target) ** 2, axis=-1)) for f in FAMILIES}
    errors = {f: max_err[f].mean(1).tolist() for f in FAMILIES}
    rms = {f: rms_err[f].mean(1).tolist() for f in FAMILIES}
    fits = {(f, n): grid_fits[f][i, 0] for f in FAMILIES for i, n in enumerate(config.units)}  # first init

    units = list(config.units)
    metrics: dict[str, float] = {
        "construction_max_error": exact_error,
        "two_relu_minus_hard_sigmoid_max_error": relu_error,
        "unit_counts": float(len(units)),
        "units_fewest": float(units[0]),
        "units_most": float(units[-1]),
        "replicates": float(config.replicates),
    }
    replicates: dict[str, np.ndarray] = {}
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
        if family != "hard":
            # per initialization: the log-drop of the error from the fewest to the most units, the smaller of RMS
            # and max; positive exactly when both end below where they start. One paired comparison per
            # initialization (the counts in between are reported, not judged: their single steps, e.g. 32 → 64
            # sigmoids after a short training, are within the spread of the starts)
            drop = np.minimum(np.log(rms_err[family][0] / rms_err[family][-1]),
                              np.log(max_err[family][0] / max_err[family][-1]))  # fmt: skip
            replicates[f"{family}_log_error_drop_fewest_to_most"] = drop
            metrics[f"{family}_log_error_drop_fewest_to_most"] = float(drop.mean())
            steps = np.minimum(-np.diff(np.log(rms_err[family]), axis=0), -np.diff(np.log(max_err[family]), axis=0))
            metrics[f"{family}_runs_falling_everywhere"] = float(np.sum(steps.min(0) > 0))
            rising = (np.diff(rms[family]) >= 0) | (np.diff(errors[family]) >= 0)
            metrics[f"{family}_mean_error_steps_rising"] = float(np.sum(rising))
    rows = [
        [
            n,
            *(errors[f][i] for f in FAMILIES),
            *(rms[f][i] for f in FAMILIES),
            float(train_mse["sigmoid"][i].mean()),
            float(train_mse["relu"][i].mean()),
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
        f"and the output layer is re-solved; each of {config.replicates} replicates per unit count keeps the better "
        f"of {config.starts} random initializations by training MSE (the trained rows are means over replicates; "
        "the fits shown are the first replicate's). The trained claims pair, per replicate, the error with the "
        f"fewest ({units[0]}) and with the most ({units[-1]}) units."
        + ("" if config.grow else f" Negative control: every count trains only {config.units[0]} units.")
    )
    return Result(
        title="Sums of sigmoids: hard, soft and ReLU",
        summary=summary,
        metrics=metrics,
        tables={
            "Error on [−5, 5] against the number of units (max and RMS over the grid; trained: mean over "
            "initializations)": (
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
            "replicates": config.replicates,
            "spread": {LABELS[f]: (rms_err[f], max_err[f]) for f in FAMILIES},
        },
        replicates=replicates,
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
            for (label, v), marker in zip(d[which].items(), ("o", "s", "^")):
                line = ax.plot(units, v, marker + "-", label=label + (" (mean)" if "trained" in label else ""))[0]
                spread = d["spread"][label][0 if which == "rms" else 1]
                if spread.shape[1] > 1:  # the initializations' range, so a lucky or unlucky start shows
                    ax.fill_between(units, spread.min(1), spread.max(1), color=line.get_color(), alpha=0.15,
                                    label=f"{label}: range over initializations")
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
    styles = ("--", "-.", ":")
    for family in ("sigmoid", "relu"):

        def draw(ax: Any, family: str = family) -> None:
            # the target as a wide pale band underneath, each fit in its own dash style on top: a fit that lies on
            # the target stays visible, and the panel below separates them by their error
            ax.plot(grid, target, color="lightgray", linewidth=6, zorder=1, label="target sin(x) + 0.3x")
            for n, ls in zip(shown, styles):
                ax.plot(grid, d["fits"][(family, n)], ls, linewidth=1.6, zorder=2, label=f"{n} units")
            ax.set_xlabel("x")
            ax.set_ylabel("y")

        def draw_error(ax: Any, family: str = family) -> None:
            for n, ls in zip(shown, styles):
                err = np.abs(d["fits"][(family, n)] - target)
                ax.plot(grid, np.maximum(err, 1e-7), ls, linewidth=1.2, label=f"{n} units")
            ax.set_yscale("log")
            ax.set_xlabel("x")
            ax.set_ylabel("|fit − target| (log)")

        draws.append(draw)
        titles.append(f"{LABELS[family]}, first initialization")
        draws.append(draw_error)
        titles.append(f"{LABELS[family]}: |error| along x")
    fig_fit = plot.panels(
        out / "fits.png",
        [draws[0], draws[2], draws[1], draws[3]],
        titles=[titles[0], titles[2], titles[1], titles[3]],
        suptitle=f"Trained sums with {', '.join(map(str, shown))} units ({d['epochs']} epochs of Adam)",
        ncols=2,
        panel_size=(5.6, 3.8),
    )
    return [fig_build, fig_err, fig_fit]
