"""Logistic regression with square error vs cross-entropy: the flat loss surface and the stalled training
(course §2.7–2.8).

The claims depend on where training starts, so they are judged over ``replicates`` random starts (drawn from
``seed``) far from the optimum on the wrong side — where most predictions are wrong — on one data set drawn from
``seed``; both losses start from the same point (a paired comparison). The negative control starts near the
origin, where σ is not saturated and the square error's surface is not flat.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import classification, models, plot
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table, tuple_of

DESCRIPTION = "σ + square error has a flat surface far from the target and stalls; cross-entropy does not"
SECTION = "2.8"

LOSSES = {"cross-entropy": "cross_entropy", "square error": "mse"}
SLOWER = 5  # "stalls": square error has not reached the level after 5× the epochs cross-entropy needed


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n: int = 200
    start_radius: tuple[float, float] = (7.0, 10.0)  # ‖w‖ of the starts, uniform in this range
    start_spread_degrees: float = 10.0  # starts point within this angle of −(1, 1), the wrong direction
    learning_rate: float = 1.0
    epochs: int = 600
    limit: float = 10.0
    replicates: int = 20  # starts: the gradient ratio falls fast off the diagonal; 10 starts leave z near 6

    QUICK = {"epochs": 200}

    DOMAINS = {
        "n": integer(2, 10**6),
        "start_radius": tuple_of(number(0), length=2, ordered=True),
        "start_spread_degrees": number(0, 180),
        "learning_rate": number(0, low_open=True),
        "epochs": integer(),
        "limit": number(0, low_open=True),
    }


CONTROL = {"start_radius": (0.3, 0.6)}  # starts near the origin: σ is not saturated, nothing is flat


def _reach(m: Mapping[str, Any], key: str) -> str:
    reached = m[f"{key}_starts_reached_90pct_of_best"]
    median = m[f"{key}_median_epochs_to_90pct_of_best"]
    when = f" (median {median:.0f} epochs)" if median is not None else ""
    return f"from {reached:.0f} of {m['starts']:.0f} starts within {m['epochs']:.0f} epochs{when}"


CLAIMS = (
    Claim(
        "mse_gradient_vanishes_far",
        "2.8",
        "With σ and the square error, ∂L/∂wᵢ = 2(f − ŷ)f(1 − f)xᵢ vanishes far from the target (f ≈ 0 where ŷ = 1): "
        "at starts where most predictions are wrong its gradient is tiny (< 1/20 of cross-entropy's), while "
        "cross-entropy's −(ŷ − f)xᵢ is largest there.",
        reads=("mse_gradient_norm_at_start", "cross_entropy_gradient_norm_at_start", "accuracy_at_start"),
        effect="log10_gradient_ratio_minus_log10_20",
        control=CONTROL,
        explain=lambda m: (
            f"At the starts (training accuracy {m['accuracy_at_start']:.1%} on average) the square error's gradient "
            f"is {m['cross_entropy_gradient_norm_at_start'] / m['mse_gradient_norm_at_start']:.0f}× smaller than "
            "cross-entropy's (geometric means; the bar: 20×)."
        ),
    ),
    Claim(
        "mse_stalls",
        "2.8",
        "Training logistic regression with the square error stalls on the flat surface, where cross-entropy "
        "training makes progress (same data, start and η): when cross-entropy has had 5× the epochs it needed to "
        "reach 90% of the best accuracy, the square error still has not.",
        reads=(
            "cross_entropy_starts_reached_90pct_of_best",
            "mse_starts_reached_90pct_of_best",
            "cross_entropy_median_epochs_to_90pct_of_best",
            "mse_median_epochs_to_90pct_of_best",
            "cross_entropy_final_accuracy",
            "mse_final_accuracy",
        ),
        effect="stall_margin_points",
        control=CONTROL,
        explain=lambda m: (
            f"Cross-entropy reaches 90% of the best accuracy {_reach(m, 'cross_entropy')}, square error "
            f"{_reach(m, 'mse')}; final training accuracy {m['cross_entropy_final_accuracy']:.1%} against "
            f"{m['mse_final_accuracy']:.1%} on average."
        ),
    ),
    Claim(
        "closed_form_gradients",
        "2.7",
        "The gradients in closed form, −Σₙ(ŷⁿ − f(xⁿ))xᵢⁿ for cross-entropy and Σₙ2(f − ŷ)f(1 − f)xᵢⁿ for the square "
        "error, equal autodiff's.",
        lambda m: m["closed_form_gradient_max_gap"] < 1e-10,
        reads=("closed_form_gradient_max_gap",),
    ),
)


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping classes split by x₁ + x₂ = 0 (the ideal w points along (1, 1); no bias needed)."""
    x = rng.normal(size=(n, 2))
    y = (x @ np.array([1.0, 1.0]) + 0.5 * rng.normal(size=n) > 0).astype(np.int32)
    return x, y


def draw_starts(key: jax.Array, config: Config) -> np.ndarray:
    """``replicates`` starts w = r(cos θ, sin θ): r uniform in ``start_radius``, θ within
    ``start_spread_degrees`` of the direction of −(1, 1), where most predictions are wrong. :func:`compute`
    draws them under ``enable_x64`` (float64 draws differ from float32 ones)."""
    k_r, k_t = jax.random.split(key)
    lo, hi = config.start_radius
    r = np.asarray(jax.random.uniform(k_r, (config.replicates,), minval=lo, maxval=hi), dtype=np.float64)
    spread = np.radians(config.start_spread_degrees)
    theta = np.radians(225.0) + np.asarray(
        jax.random.uniform(k_t, (config.replicates,), minval=-spread, maxval=spread), dtype=np.float64
    )
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def compute(config: Config) -> Result:
    with jax.enable_x64(True):  # closed-form gradients are compared with autodiff to ~1e-15
        return _run(config)


def _gradient_descent(objective: Any, starts: jax.Array, data: tuple, config: Config) -> tuple[jax.Array, jax.Array]:
    """Full-batch gradient descent on (w₁, w₂) with the bias frozen at 0 (the lecture's two-parameter picture),
    from every start at once (``jax.vmap``). Returns the path (R, epochs + 1, 2) and the number of correct
    training points after each epoch (R, epochs)."""
    x, y = data
    params = lambda w: {"w": w[:, None], "b": jnp.zeros((1,), w.dtype)}
    grad = jax.grad(lambda w: objective(params(w), data))

    def one(w0: jax.Array) -> tuple[jax.Array, jax.Array]:
        def step(w: jax.Array, _: None) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
            w = w - config.learning_rate * grad(w)
            return w, (w, jnp.sum(((x @ w) > 0).astype(jnp.int32) == y))

        _, (path, correct) = jax.lax.scan(step, w0, None, length=config.epochs)
        return jnp.concatenate([w0[None], path]), correct

    return jax.jit(jax.vmap(one))(starts)


def _run(config: Config) -> Result:
    x, y = make_data(np.random.default_rng(config.seed), config.n)
    starts = draw_starts(jax.random.PRNGKey(config.seed), config)
    epochs, reps = config.epochs, config.replicates
    model = models.linear(2)
    to_params = lambda a, b: {"w": jnp.stack([a, b])[:, None], "b": jnp.zeros((1,), jnp.float64)}
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    sj = jnp.asarray(starts)
    paths, correct, surfaces, grads0 = {}, {}, {}, {}
    for label, loss in LOSSES.items():
        objective = classification.objective(model.apply, loss)
        path, count = _gradient_descent(objective, sj, (xj, yj), config)
        paths[label], correct[label] = np.asarray(path), np.asarray(count, dtype=np.int64)
        surfaces[label] = classification.loss_surface(objective, to_params, (xj, yj))
        g = jax.vmap(lambda w, objective=objective: jax.grad(objective)(to_params(w[0], w[1]), (xj, yj))["w"])(sj)
        grads0[label] = np.asarray(jnp.linalg.norm(g[..., 0], axis=1))
    start_correct = np.sum((x @ starts.T > 0) == y[:, None], axis=0)
    # The lecture's closed forms at the first start agree with autodiff (a check shown in the table).
    w0, b0 = sj[0], jnp.zeros((), jnp.float64)
    closed = {
        "cross-entropy": classification.cross_entropy_gradient(w0, b0, xj, yj)[0],
        "square error": classification.mse_gradient(w0, b0, xj, yj)[0],
    }
    autodiff = {
        k: jax.grad(classification.objective(model.apply, v))(to_params(w0[0], w0[1]), (xj, yj))["w"][:, 0]
        for k, v in LOSSES.items()
    }
    closed_gap = max(float(jnp.max(jnp.abs(closed[k] - autodiff[k]))) for k in LOSSES)
    # |∂L/∂w| along the diagonal w₁ = w₂ = t: square error's gradient vanishes far from the optimum.
    ts = np.linspace(-config.limit, config.limit, 401)
    slice_grad = {}
    for label, loss in LOSSES.items():
        grad = jax.grad(classification.objective(model.apply, loss))
        norm = jax.vmap(lambda t, grad=grad: jnp.linalg.norm(grad(to_params(t, t), (xj, yj))["w"]))
        slice_grad[label] = np.asarray(norm(jnp.asarray(ts)))

    # Per start (integers throughout): the level is 90% of the better final count of the two losses; the first
    # epoch reaching it, or None where a loss never does (never a sentinel number).
    ce, se = correct["cross-entropy"], correct["square error"]
    needed = -(-9 * np.maximum(ce[:, -1], se[:, -1]) // 10)  # ⌈0.9 × best⌉ correct points
    first = lambda c, i: int(np.flatnonzero(c[i] >= needed[i])[0]) + 1 if np.any(c[i] >= needed[i]) else None
    reach = {label: [first(correct[label], i) for i in range(reps)] for label in LOSSES}
    # The stall, per start: at t = 5 × (the epochs cross-entropy needed), or the run's end if that is later or
    # cross-entropy never got there, cross-entropy is at the level and the square error is not. The margin, in
    # training points, is how far the square error still is below the level — or, where cross-entropy is not at
    # the level, the smaller of the two margins (≤ 0): positive exactly when both hold.
    t = np.array([min(SLOWER * r, epochs) if r is not None else epochs for r in reach["cross-entropy"]])
    at = lambda c: c[np.arange(reps), t - 1]
    ce_margin, se_margin = at(ce) - needed + 1, needed - at(se)
    stall = np.where(ce_margin > 0, se_margin, np.minimum(ce_margin, se_margin))
    ratio = grads0["cross-entropy"] / grads0["square error"]
    median = lambda v: float(np.median([e for e in v if e is not None])) if any(e is not None for e in v) else None
    metrics: dict[str, float | None] = {
        "epochs": float(epochs),
        "starts": float(reps),
        "accuracy_at_start": float(start_correct.mean() / config.n),
        "cross_entropy_gradient_norm_at_start": float(np.exp(np.log(grads0["cross-entropy"]).mean())),
        "mse_gradient_norm_at_start": float(np.exp(np.log(grads0["square error"]).mean())),
    }
    for label, key in LOSSES.items():
        metrics[f"{key}_final_accuracy"] = float(correct[label][:, -1].mean() / config.n)
        metrics[f"{key}_starts_reached_90pct_of_best"] = float(sum(r is not None for r in reach[label]))
        metrics[f"{key}_median_epochs_to_90pct_of_best"] = median(reach[label])
    metrics["closed_form_gradient_max_gap"] = closed_gap
    shown = lambda r: "—" if r is None else r  # "not reached" prints as a dash
    rows = [
        [i, f"({starts[i, 0]:.2f}, {starts[i, 1]:.2f})", f"{start_correct[i] / config.n:.1%}", float(ratio[i]),
         int(needed[i]), shown(reach["cross-entropy"][i]), shown(reach["square error"][i]), int(stall[i])]
        for i in range(reps)
    ]  # fmt: skip
    lo, hi = config.start_radius
    summary = (
        f"Logistic regression f = σ(w₁x₁ + w₂x₂) on {config.n} points, from {reps} starts far from the optimum "
        f"(‖w‖ in [{lo:g}, {hi:g}], within {config.start_spread_degrees:g}° of −(1, 1); training accuracy "
        f"{metrics['accuracy_at_start']:.1%} on average), each trained by the same full-batch gradient descent "
        f"with both losses (η = {config.learning_rate:g}, {epochs} epochs). "
        "With the square error ∂L/∂wᵢ = 2(f − ŷ)f(1 − f)xᵢ: where f ≈ 0 for a class-1 point, f(1 − f) ≈ 0 and "
        "the gradient vanishes although the prediction is wrong — at the starts its norm is "
        f"{ratio.min():.0f}× to {ratio.max():.0f}× smaller than cross-entropy's, whose gradient −(ŷ − f)xᵢ is "
        "largest exactly there. Cross-entropy reaches 90% of the best final accuracy "
        f"{_reach(metrics, 'cross_entropy')}, square error {_reach(metrics, 'mse')}; after {SLOWER}× the epochs "
        "cross-entropy needed, the square error "
        f"is still below the level from {int(np.sum(stall > 0))} of {reps} starts. Final training accuracy "
        f"{metrics['cross_entropy_final_accuracy']:.1%} against {metrics['mse_final_accuracy']:.1%} on average. "
        f"The lecture's closed-form gradients equal autodiff to {closed_gap:.1e}."
    )
    return Result(
        title=(
            "Cross-entropy vs square error for logistic regression, 90% of the best accuracy: cross-entropy "
            f"{_reach(metrics, 'cross_entropy')}; square error {_reach(metrics, 'mse')}"
        ),
        summary=summary,
        metrics=metrics,
        replicates={
            "log10_gradient_ratio_minus_log10_20": np.log10(ratio) - np.log10(20.0),
            "stall_margin_points": stall.astype(np.int64),
        },
        tables={
            "Per start (epochs to 90% of the best; — : not reached within the run)": table(
                ["start", "w", "accuracy at start", "‖g_CE‖ / ‖g_SE‖", "level (points)", "cross-entropy",
                 "square error", f"stall margin at {SLOWER}× (points)"],
                rows,
            ),  # fmt: skip
        },
        data={
            "paths": paths,
            "correct": correct,
            "needed": needed,
            "reach": reach,
            "surfaces": surfaces,
            "slice": (ts, slice_grad),
            "config": config,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    with jax.enable_x64(True):  # the loss surfaces are evaluated in float64, as in compute
        return _figures(result, out)


def _figures(result: Result, out: Path) -> list[Path]:
    config = result.data["config"]
    paths, surfaces = result.data["paths"], result.data["surfaces"]
    ts, slice_grad = result.data["slice"]
    correct, needed, reach = result.data["correct"], result.data["needed"], result.data["reach"]
    epochs = int(result.metrics["epochs"])
    lim = (-config.limit, config.limit)
    shown = min(3, len(needed))  # a few starts keep the paths apart; the table has them all
    figs = [
        plot.contour(
            out / f"surface_{LOSSES[label]}.png",
            surfaces[label],
            lim,
            lim,
            title=f"{label}: mean loss over (w₁, w₂), b = 0",
            xlabel="w₁",
            ylabel="w₂",
            trajectories={
                f"start {i} ({paths[label][i, 0, 0]:.1f}, {paths[label][i, 0, 1]:.1f})": paths[label][i]
                for i in range(shown)
            },
            levels=25,
            resolution=120,
            legend_loc="below",
        )  # fmt: skip
        for label in LOSSES
    ]
    epochs_axis = np.arange(1, epochs + 1)

    def curves(ax: Any) -> None:
        # Every start, as a fraction of its level (90% of the best final count): the level is 0.9 for all.
        for label, color in (("cross-entropy", "C0"), ("square error", "C1")):
            frac = correct[label] / (needed[:, None] / 0.9)
            for i, f in enumerate(frac):
                ax.plot(epochs_axis, f, color=color, alpha=0.45, linewidth=1.0,
                        label=f"{label} ({len(frac)} starts)" if i == 0 else None)  # fmt: skip
            hit = [(r, float(frac[i, r - 1])) for i, r in enumerate(reach[label]) if r is not None]
            if hit:  # only the starts that reached it: "not reached" is not drawn
                ax.scatter(*np.array(hit).T, s=18, color=color, edgecolor="k", linewidth=0.4, zorder=3,
                           label=f"{label}: first epoch at the level")  # fmt: skip
        ax.axhline(0.9, color="k", linestyle="--", linewidth=1.0, label="90% of the best final accuracy")
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training accuracy / best final accuracy")

    figs.append(
        plot.panels(
            out / "training_accuracy.png",
            [curves],
            titles=[f"{len(needed)} starts, same data and η = {config.learning_rate:g} for both losses"],
            suptitle="Training accuracy from far starts: square error stalls",
            panel_size=(7.0, 4.6),
            legend_loc="center left",
        )
    )
    figs.append(
        plot.curves(
            out / "gradient_norm_slice.png",
            {label: (ts, g) for label, g in slice_grad.items()},
            title="‖∂L/∂w‖ along w₁ = w₂ = t",
            xlabel="t",
            ylabel="gradient norm",
            logy=True,
        )
    )
    return figs
