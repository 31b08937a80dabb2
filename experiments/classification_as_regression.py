"""Classification as regression fails: far, correctly classified points pull the least-squares boundary
(SCOPE §2.1); the ideal 0/1 loss has no gradient (§2.2)."""

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
from jaxml.report import Claim, ExperimentConfig, Result, table

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

    QUICK = {"epochs": 500, "slice_points": 181}


def _tilts(m: Mapping[str, float]) -> bool:
    # Two accuracy points below logistic regression and below the same regression fitted without the far group.
    return (
        m["regression_accuracy"] < m["logistic_accuracy"] - 0.02
        and m["regression_accuracy"] < m["regression_near_only_accuracy"] - 0.02
    )


def _punished(m: Mapping[str, float]) -> bool:
    return (
        m["far_points_correct_fraction"] == 1.0 and m["far_points_squared_error"] > 10 * m["near_points_squared_error"]
    )


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
        "fit wants wᵀx + b = 1 there although they are classified correctly.",
        _punished,
        reads=("far_points_correct_fraction", "far_points_squared_error", "near_points_squared_error"),
        explain=lambda m: (
            f"Under the boundary fitted without them, {m['far_points_correct_fraction']:.0%} of the far points are "
            f"on the correct side, yet their mean squared error is {m['far_points_squared_error']:.3g} against "
            f"{m['near_points_squared_error']:.3g} for the near points."
        ),
    ),
    Claim(
        "regression_boundary_tilts",
        "2.1",
        "Classification as regression fails: the far points pull the boundary, which then misclassifies near "
        "points that logistic regression gets right (training accuracy more than 2 points below logistic "
        "regression's and below the same regression fitted without the far points).",
        _tilts,
        reads=("regression_accuracy", "regression_near_only_accuracy", "logistic_accuracy", "boundary_tilt_degrees"),
        explain=lambda m: (
            f"The far group turns the least-squares boundary by {m['boundary_tilt_degrees']:.0f}°; training accuracy "
            f"{m['regression_accuracy']:.1%} against {m['regression_near_only_accuracy']:.1%} without the far group "
            f"and {m['logistic_accuracy']:.1%} for logistic regression."
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


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    x, y = make_data(key, config.n_per_class, config.n_far, config.far_center)
    near = np.arange(len(y)) < 2 * config.n_per_class
    model = models.linear(2)
    with jax.enable_x64(True):
        # Regression on targets ±1: the closed-form least-squares optimum (what gradient descent would reach).
        reg_all = models.least_squares(jnp.asarray(x), jnp.asarray(2.0 * y - 1.0))
        reg_near = models.least_squares(jnp.asarray(x[near]), jnp.asarray(2.0 * y[near] - 1.0))
        fit = train.fit(
            classification.objective(model.apply, "cross_entropy"),
            jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(key)),
            optax.adam(config.learning_rate),
            (jnp.asarray(x), jnp.asarray(y)),
            key=key,
            epochs=config.epochs,
            progress=False,
        )
        logistic = fit.params
        acc = {
            name: float(losses.accuracy(model.apply(p, x), y))
            for name, p in (("regression", reg_all), ("regression_near_only", reg_near), ("logistic", logistic))
        }
        # Under the boundary fitted without them the far points are correct (score > 0) yet "too correct" for the
        # squared error (score ≫ 1).
        scores = np.asarray(model.apply(reg_near, x))
        far_correct = float(np.mean(scores[~near] > 0))
        far_penalty = float(np.mean((scores[~near] - 1.0) ** 2))
        near_penalty = float(np.mean((scores[near] - (2.0 * y[near] - 1.0)) ** 2))
        w_all, w_near = np.asarray(reg_all["w"])[:, 0], np.asarray(reg_near["w"])[:, 0]
        cos = w_all @ w_near / (np.linalg.norm(w_all) * np.linalg.norm(w_near))
        tilt = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))

        # The ideal loss Σ δ(f(x) ≠ ŷ) along a slice through parameter space: rotate w at fixed norm.
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

    rows = [
        ["linear regression, targets ±1", acc["regression"]],
        ["linear regression, without the far group", acc["regression_near_only"]],
        ["logistic regression (cross-entropy)", acc["logistic"]],
    ]
    drop = acc["logistic"] - acc["regression"]
    return Result(
        title=f"Classification as regression: far points tilt the boundary by {tilt:.0f}°",
        summary=(
            f"Two Gaussian classes plus a far group of {config.n_far} class-1 points at {config.far_center}. "
            f"Regression with targets ±1 wants wᵀx + b = 1 on the far points too; under the boundary fitted without "
            f"them {far_correct:.0%} of them are classified correctly, yet their mean squared error is "
            f"{far_penalty:.3g} (near points: {near_penalty:.3g}). Fitted with them, the least-squares boundary "
            f"turns by {tilt:.0f}° and its training accuracy is {acc['regression']:.1%}, against "
            f"{acc['regression_near_only']:.1%} without them and {acc['logistic']:.1%} for logistic regression "
            f"({100 * drop:+.1f} points for logistic regression). The ideal loss, the error count, is a staircase: "
            f"along a rotation of w it takes {len(np.unique(slice_01))} values while its autodiff gradient norm is "
            + ("exactly 0" if grad_01.max() == 0 else f"at most {grad_01.max():g}")
            + f" at all {config.slice_points} points, so gradient descent cannot use it; "
            f"cross-entropy's gradient norm there is at least {grad_ce.min():.3g}."
        ),
        metrics={
            "regression_accuracy": acc["regression"],
            "regression_near_only_accuracy": acc["regression_near_only"],
            "logistic_accuracy": acc["logistic"],
            "boundary_tilt_degrees": tilt,
            "far_points_correct_fraction": far_correct,
            "far_points_squared_error": far_penalty,
            "near_points_squared_error": near_penalty,
            "zero_one_max_gradient_norm": float(grad_01.max()),
            "zero_one_distinct_values": float(len(np.unique(slice_01))),
            "cross_entropy_min_gradient_norm": float(grad_ce.min()),
        },
        tables={"Training accuracy": table(["model", "accuracy"], rows)},
        data={
            "regression": reg_all,
            "regression_near": reg_near,
            "logistic": logistic,
            "x": x,
            "y": y,
            "near": near,
            "acc": acc,
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

    tilt = result.metrics["boundary_tilt_degrees"]
    fig_boundary = plot.panels(
        out / "boundaries.png",
        [draw],
        titles=[f"far points turn the least-squares boundary by {tilt:.0f}°"],
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
