"""Classification as regression fails: far, correctly classified points pull the least-squares boundary
(course §2.1); the ideal 0/1 loss has no gradient (§2.2).

The two claims about the far points are judged over ``replicates`` draws of the data (keys split from
``seed``), each a paired comparison on its draw in integer counts of correct training points; the negative
control moves the extra class-1 group to its class's centre, so that nothing is far. That the 0/1 loss has a
zero gradient is a construction, checked on the first draw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table, tuple_of

DESCRIPTION = "Targets ±1 with squared error punish far, correct points; logistic regression does not"
SECTION = "2.1"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n_per_class: int = 60
    n_far: int = 30
    far_center: tuple[float, float] = (9.0, -5.0)
    epochs: int = 2000
    learning_rate: float = 0.1
    slice_points: int = 721
    replicates: int = 20  # draws: the paired count difference is 6 ± 2 points, 10 draws leave z near 6 at worst

    QUICK = {"epochs": 500, "slice_points": 181}

    DOMAINS = {
        "n_per_class": integer(1, 10**6),
        "n_far": integer(1, 10**6),
        "far_center": tuple_of(number(), length=2),
        "epochs": integer(),
        "learning_rate": number(0, low_open=True),
        "slice_points": integer(2, 10**6),
    }


CONTROL = {"far_center": (1.5, 0.0)}  # the extra class-1 group sits at its class's centre: nothing is far


def _no_gradient(m: Mapping[str, float]) -> bool:
    return (
        m["zero_one_max_gradient_norm"] == 0.0
        and m["zero_one_distinct_values"] >= 2
        and m["cross_entropy_min_gradient_norm"] > 0.0
    )


CLAIMS = (
    Claim(
        "far_points_punished",
        "2.1",
        "With targets ±1 and the square error, points far on the correct side are punished: the least-squares "
        "fit wants wᵀx + b = 1 there although they are classified correctly (under the boundary fitted without "
        "them, the correctly classified far points carry more squared error than the near points).",
        reads=("far_points_correct_fraction", "far_points_squared_error", "near_points_squared_error"),
        effect="far_correct_minus_near_squared_error",
        control=CONTROL,
        explain=lambda m: (
            f"Under the boundary fitted without them, {m['far_points_correct_fraction']:.0%} of the far points are "
            f"on the correct side on average, yet their mean squared error is {m['far_points_squared_error']:.3g} "
            f"against {m['near_points_squared_error']:.3g} for the near points."
        ),
    ),
    Claim(
        "regression_boundary_tilts",
        "2.1",
        "Classification as regression fails: the far points pull the boundary, which then misclassifies near "
        "points that logistic regression gets right (paired on each draw: fewer training points correct than "
        "logistic regression and than the same regression fitted without the far points).",
        reads=("regression_accuracy", "regression_near_only_accuracy", "logistic_accuracy", "boundary_tilt_degrees"),
        effect="fewer_correct_than_logistic_and_near_only",
        control=CONTROL,
        explain=lambda m: (
            f"The far group turns the least-squares boundary by {m['boundary_tilt_degrees']:.0f}° on average; "
            f"training accuracy {m['regression_accuracy']:.1%} against {m['regression_near_only_accuracy']:.1%} "
            f"without the far group and {m['logistic_accuracy']:.1%} for logistic regression."
        ),
    ),
    Claim(
        "zero_one_no_gradient",
        "2.2",
        "The ideal loss L(f) = Σₙ δ(f(xⁿ) ≠ ŷⁿ) is not differentiable usefully: its gradient is zero wherever it "
        "exists, so gradient descent cannot use it (cross-entropy's is not).",
        _no_gradient,
        reads=("zero_one_max_gradient_norm", "zero_one_distinct_values", "cross_entropy_min_gradient_norm"),
        explain=lambda m: (
            f"Along a rotation of w the 0/1 loss takes {m['zero_one_distinct_values']:.0f} distinct values (a "
            f"staircase) while its autodiff gradient norm is "
            + (
                "exactly 0 at every point"
                if m["zero_one_max_gradient_norm"] == 0
                else f"at most {m['zero_one_max_gradient_norm']:g}"
            )
            + "; "
            f"cross-entropy's gradient norm is at least {m['cross_entropy_min_gradient_norm']:.3g} there."
        ),
    ),
)


def make_data(key: jax.Array, n: int, n_far: int, far: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 around (−1.5, 0), class 1 around (1.5, 0) plus a far group of class 1 around ``far``."""
    k0, k1, k2 = jax.random.split(key, 3)
    x0 = np.asarray(jax.random.normal(k0, (n, 2))) * 0.6 + [-1.5, 0.0]
    x1 = np.asarray(jax.random.normal(k1, (n, 2))) * 0.6 + [1.5, 0.0]
    x2 = np.asarray(jax.random.normal(k2, (n_far, 2))) * 0.6 + np.asarray(far)
    x = np.concatenate([x0, x1, x2]).astype(np.float64)
    y = np.r_[np.zeros(n), np.ones(n + n_far)].astype(np.int32)
    return x, y


def _boundary(params: dict, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return classification.boundary_line(params["w"], params["b"], lo, hi)


def _grad_norm(tree: Any) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(tree)))


def _logistic_fits(x: np.ndarray, y: np.ndarray, config: Config) -> dict[str, jax.Array]:
    """Logistic regression on every draw at once: full-batch Adam on the cross-entropy from w = 0, one run per
    draw (``fit_sweep`` with per-run data). Call under ``enable_x64``."""
    model = models.linear(2)
    zeros = jax.tree_util.tree_map(
        lambda a: jnp.zeros((len(x), *a.shape), jnp.float64), model.init(jax.random.PRNGKey(0))
    )
    fit = train.fit_sweep(
        classification.objective(model.apply, "cross_entropy"),
        zeros,
        optax.adam(config.learning_rate),
        (jnp.asarray(x), jnp.asarray(y)),
        keys=np.arange(len(x)),  # full batch: the batch order plays no part
        epochs=config.epochs,
        data_per_run=True,
        progress=False,
    )
    return fit.params


def compute(config: Config) -> Result:
    keys = jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)
    draws = [make_data(k, config.n_per_class, config.n_far, config.far_center) for k in keys]
    xs, ys = np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])  # (R, N, 2), (R, N)
    n = ys.shape[1]
    near = np.arange(n) < 2 * config.n_per_class
    model = models.linear(2)
    with jax.enable_x64(True):
        logistic_all = _logistic_fits(xs, ys, config)
        per_draw = []
        for i, (x, y) in enumerate(draws):
            # Regression on targets ±1: the closed-form least-squares optimum (what gradient descent would reach).
            reg_all = models.least_squares(jnp.asarray(x), jnp.asarray(2.0 * y - 1.0))
            reg_near = models.least_squares(jnp.asarray(x[near]), jnp.asarray(2.0 * y[near] - 1.0))
            logistic = jax.tree_util.tree_map(lambda a, i=i: a[i], logistic_all)
            # Counts of correct training points: integers, compared paired on the same draw.
            correct = {
                name: int(np.sum((np.asarray(model.apply(p, x)) > 0) == y))
                for name, p in (("regression", reg_all), ("regression_near_only", reg_near), ("logistic", logistic))
            }
            # Under the boundary fitted without them the far points are correct (score > 0) yet "too correct" for
            # the squared error (score ≫ 1).
            scores = np.asarray(model.apply(reg_near, x))
            far_ok = scores[~near] > 0
            w_all, w_near = np.asarray(reg_all["w"])[:, 0], np.asarray(reg_near["w"])[:, 0]
            cos = w_all @ w_near / (np.linalg.norm(w_all) * np.linalg.norm(w_near))
            per_draw.append({
                "params": (reg_all, reg_near, logistic), "correct": correct,
                "far_correct": float(np.mean(far_ok)),
                "far_penalty": float(np.mean((scores[~near] - 1.0) ** 2)),
                # The squared error the correctly classified far points carry, per far point.
                "far_correct_penalty": float(np.sum(far_ok * (scores[~near] - 1.0) ** 2) / far_ok.size),
                "near_penalty": float(np.mean((scores[near] - (2.0 * y[near] - 1.0)) ** 2)),
                "tilt": float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))),
            })  # fmt: skip
        x, y = draws[0]
        reg_all, reg_near, logistic = per_draw[0]["params"]

        # The ideal loss Σ δ(f(x) ≠ ŷ) along a slice through parameter space: rotate w at fixed norm (first draw).
        def zero_one(params: dict) -> jax.Array:
            return losses.zero_one(model.apply(params, x), y)

        ce = classification.objective(model.apply, "cross_entropy")
        angles = np.linspace(-np.pi, np.pi, config.slice_points)
        w0 = np.asarray(logistic["w"])[:, 0]
        r, phi = np.hypot(*w0), np.arctan2(w0[1], w0[0])
        ws = jnp.asarray(np.stack([r * np.cos(phi + angles), r * np.sin(phi + angles)], axis=1))
        b0 = logistic["b"]
        at = lambda w: {"w": w[:, None], "b": b0}
        slice_01 = np.asarray(jax.vmap(lambda w: zero_one(at(w)))(ws))
        slice_ce = np.asarray(jax.vmap(lambda w: ce(at(w), (x, y)))(ws))
        grad_01 = np.asarray(jax.vmap(lambda w: _grad_norm(jax.grad(zero_one)(at(w))))(ws))
        grad_ce = np.asarray(jax.vmap(lambda w: _grad_norm(jax.grad(ce)(at(w), (x, y))))(ws))
        # A close-up where the error rate changes fastest: flat steps between jumps.
        steep = angles[int(np.argmax(np.abs(np.gradient(slice_01))))]
        zoom = np.linspace(steep - np.radians(3), steep + np.radians(3), config.slice_points)
        wz = jnp.asarray(np.stack([r * np.cos(phi + zoom), r * np.sin(phi + zoom)], axis=1))
        zoom_01 = np.asarray(jax.vmap(lambda w: zero_one(at(w)))(wz))

    count = {k: np.array([d["correct"][k] for d in per_draw], dtype=np.int64) for k in per_draw[0]["correct"]}
    column = lambda key: np.array([d[key] for d in per_draw])
    far_correct, far_penalty, near_penalty, tilt = (
        column(k) for k in ("far_correct", "far_penalty", "near_penalty", "tilt")
    )
    acc = {k: float(v.mean() / n) for k, v in count.items()}
    fewer = np.minimum(count["logistic"] - count["regression"], count["regression_near_only"] - count["regression"])
    first_acc = {k: float(v[0] / n) for k, v in count.items()}
    span = lambda c: f"{c.min()}–{c.max()}"
    rows = [
        ["linear regression, targets ±1", acc["regression"], span(count["regression"])],
        ["linear regression, without the far group", acc["regression_near_only"], span(count["regression_near_only"])],
        ["logistic regression (cross-entropy)", acc["logistic"], span(count["logistic"])],
    ]
    drop = count["logistic"] - count["regression"]
    where = (
        "the far group" if np.hypot(*np.subtract(config.far_center, (1.5, 0.0))) > 3
        else "the extra group (negative control: at its class's centre, not far)"
    )  # fmt: skip
    return Result(
        title=f"Classification as regression: far points tilt the boundary by {tilt.mean():.0f}°",
        summary=(
            f"Two Gaussian classes plus a group of {config.n_far} class-1 points at {config.far_center}, over "
            f"{config.replicates} draws of {n} points. Regression with targets ±1 wants wᵀx + b = 1 on the far "
            f"points too; under the boundary fitted without them {far_correct.mean():.0%} of them are classified "
            f"correctly on average, yet their mean squared error is {far_penalty.mean():.3g} (near points: "
            f"{near_penalty.mean():.3g}). Fitted with {where}, the least-squares boundary turns by "
            f"{tilt.mean():.0f}° on average and gets {acc['regression']:.1%} of the training points right, against "
            f"{acc['regression_near_only']:.1%} without them and {acc['logistic']:.1%} for logistic regression "
            f"(logistic regression classifies {drop.mean():+.1f} more training points right per draw, "
            f"{drop.min():+d} to {drop.max():+d}). The ideal loss, the error count, is a staircase: along a "
            f"rotation of w (first draw) it takes {len(np.unique(slice_01))} values while its autodiff gradient "
            "norm is "
            + ("exactly 0" if grad_01.max() == 0 else f"at most {grad_01.max():g}")
            + f" at all {config.slice_points} points, so gradient descent cannot use it; "
            f"cross-entropy's gradient norm there is at least {grad_ce.min():.3g}."
        ),
        metrics={
            "regression_accuracy": acc["regression"],
            "regression_near_only_accuracy": acc["regression_near_only"],
            "logistic_accuracy": acc["logistic"],
            "boundary_tilt_degrees": float(tilt.mean()),
            "far_points_correct_fraction": float(far_correct.mean()),
            "far_points_squared_error": float(far_penalty.mean()),
            "near_points_squared_error": float(near_penalty.mean()),
            "zero_one_max_gradient_norm": float(grad_01.max()),
            "zero_one_distinct_values": float(len(np.unique(slice_01))),
            "cross_entropy_min_gradient_norm": float(grad_ce.min()),
        },
        replicates={
            "far_correct_minus_near_squared_error": column("far_correct_penalty") - near_penalty,
            "fewer_correct_than_logistic_and_near_only": fewer.astype(np.int64),
        },
        tables={
            f"Training accuracy over {config.replicates} draws (mean; range of correct points of {n})": table(
                ["model", "accuracy", "correct"], rows
            ),
            "Correct training points per draw": table(
                ["draw", "regression ±1", "without the far group", "logistic regression", "tilt (°)"],
                [
                    [i, int(count["regression"][i]), int(count["regression_near_only"][i]), int(count["logistic"][i]),
                     f"{tilt[i]:.1f}"]
                    for i in range(config.replicates)
                ],
            ),  # fmt: skip
        },
        data={
            "regression": reg_all,
            "regression_near": reg_near,
            "logistic": logistic,
            "x": x,
            "y": y,
            "near": near,
            "acc": first_acc,
            "tilt": float(tilt[0]),
            "angles": angles,
            "slice_01": slice_01,
            "slice_ce": slice_ce,
            "zoom": zoom,
            "zoom_01": zoom_01,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    x, y, near, acc = d["x"], d["y"], d["near"], d["acc"]
    lo, hi = x.min(0) - 1.0, x.max(0) + 1.0
    hi = hi + [0.0, 0.45 * (hi[1] - lo[1])]  # head room for the legend, off the data
    lines = {
        f"regression ±1 (acc {acc['regression']:.0%})": (_boundary(d["regression"], lo, hi), "C3", "-"),
        f"regression without far points (acc {acc['regression_near_only']:.0%})": (
            _boundary(d["regression_near"], lo, hi), "C3", ":",
        ),
        f"logistic regression (acc {acc['logistic']:.0%})": (_boundary(d["logistic"], lo, hi), "C2", "--"),
    }  # fmt: skip

    def draw(ax: Any) -> None:
        ax.scatter(*x[y == 0].T, s=16, color="C0", label="class 0 (target −1)")
        ax.scatter(*x[(y == 1) & near].T, s=16, color="C1", label="class 1 (target +1)")
        ax.scatter(*x[~near].T, s=22, color="C1", marker="^", label="class 1, far (correct, yet punished)")
        for label, ((bx, by), color, style) in lines.items():
            ax.plot(bx, by, style, color=color, linewidth=1.8, label=label)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")

    tilt = d["tilt"]
    fig_boundary = plot.panels(
        out / "boundaries.png",
        [draw],
        titles=[f"first draw: far points turn the least-squares boundary by {tilt:.0f}°"],
        suptitle="Classification as regression (targets ±1) vs logistic regression",
        panel_size=(7.0, 5.0),
    )
    deg = np.degrees(d["angles"])
    steps = len(np.unique(d["slice_01"]))

    def full_turn(ax: Any) -> None:
        ax.plot(deg, d["slice_01"], drawstyle="steps-mid", color="C0", label="0/1 loss (error rate)")
        ax.set_xlabel("rotation of w from the trained w (degrees)")
        ax.set_ylabel("error rate")

    def close_up(ax: Any) -> None:
        ax.plot(np.degrees(d["zoom"]), d["zoom_01"], drawstyle="steps-mid", color="C0", label="0/1 loss")
        ax.set_xlabel("rotation of w (degrees), close-up")
        ax.set_ylabel("error rate")

    def smooth(ax: Any) -> None:
        ax.plot(deg, d["slice_ce"], color="C1", label="cross-entropy")
        ax.set_xlabel("rotation of w from the trained w (degrees)")
        ax.set_ylabel("cross-entropy")

    fig_slice = plot.panels(
        out / "zero_one_vs_cross_entropy.png",
        [full_turn, close_up, smooth],
        titles=[f"0/1 loss: {steps} flat steps", "close-up: flat, then a jump", "cross-entropy: smooth"],
        suptitle="Rotating w at fixed norm: the error count has zero gradient, cross-entropy does not",
        ncols=3,
    )
    return [fig_boundary, fig_slice]
