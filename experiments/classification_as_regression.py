"""Classification as regression fails: far, correctly classified points pull the least-squares boundary
(SCOPE §2.1); the ideal 0/1 loss has no gradient (§2.2)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, losses, models, plot, train
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Targets ±1 with squared error punish far, correct points; logistic regression does not"
SECTION = "2.1"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n_per_class: int = 60
    n_far: int = 30
    far_center: tuple[float, float] = (9.0, -5.0)
    epochs: int = 2000
    learning_rate: float = 0.1


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


def main(config: Config) -> Result:
    out = config.out_dir("classification_as_regression")
    key = jax.random.PRNGKey(config.seed)
    far_n = config.n_far if not config.quick else config.n_far // 2
    x, y = make_data(key, config.n_per_class, far_n, config.far_center)
    near = np.arange(len(y)) < 2 * config.n_per_class
    model = models.linear(2)
    with jax.enable_x64(True):
        # Regression on targets ±1: the closed-form least-squares optimum (what gradient descent would reach).
        reg_all = models.least_squares(jnp.asarray(x), jnp.asarray(2.0 * y - 1.0))
        reg_near = models.least_squares(jnp.asarray(x[near]), jnp.asarray(2.0 * y[near] - 1.0))
        # Logistic regression through the trainer.
        epochs = config.epochs if not config.quick else config.epochs // 4
        fit = train.fit(
            classification.objective(model.apply, "cross_entropy"),
            jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(key)),
            optax.adam(config.learning_rate),
            (jnp.asarray(x), jnp.asarray(y)),
            key=key,
            epochs=epochs,
            progress=False,
        )
        logistic = fit.params
        acc = {
            name: float(losses.accuracy(model.apply(p, x), y))
            for name, p in (("regression", reg_all), ("regression_near_only", reg_near), ("logistic", logistic))
        }
        # Regression scores of the far, correctly classified points: z ≫ 1 is "wrong" for the squared error.
        far_scores = np.asarray(model.apply(reg_near, x[~near]))
        far_penalty = float(np.mean((far_scores - 1.0) ** 2))

        # The ideal loss Σ δ(f(x) ≠ ŷ): piecewise constant, so its gradient is zero almost everywhere.
        def zero_one(params: dict) -> jax.Array:
            return losses.zero_one(model.apply(params, x), y)

        grad = jax.grad(zero_one)(logistic)
        grad_norm = float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grad))))
        # A slice through parameter space: rotate w at fixed norm.
        angles = np.linspace(-np.pi, np.pi, 721)
        w0 = np.asarray(logistic["w"])[:, 0]
        r, phi = np.hypot(*w0), np.arctan2(w0[1], w0[0])
        ws = np.stack([r * np.cos(phi + angles), r * np.sin(phi + angles)], axis=1)
        b0 = logistic["b"]
        slice_01 = np.asarray(jax.vmap(lambda w: zero_one({"w": w[:, None], "b": b0}))(jnp.asarray(ws)))
        ce = classification.objective(model.apply, "cross_entropy")
        slice_ce = np.asarray(jax.vmap(lambda w: ce({"w": w[:, None], "b": b0}, (x, y)))(jnp.asarray(ws)))

    lo, hi = x.min(0) - 1.0, x.max(0) + 1.0
    lines = {
        f"regression ±1 (acc {acc['regression']:.0%})": _boundary(reg_all, lo, hi),
        f"regression without far points (acc {acc['regression_near_only']:.0%})": _boundary(reg_near, lo, hi),
        f"logistic regression (acc {acc['logistic']:.0%})": _boundary(logistic, lo, hi),
    }
    fig_boundary = plot.scatter(
        out / "boundaries.png",
        {
            "class 0 (target −1)": (x[y == 0, 0], x[y == 0, 1]),
            "class 1 (target +1)": (x[(y == 1) & near, 0], x[(y == 1) & near, 1]),
            "class 1, far right (correct, yet punished)": (x[~near, 0], x[~near, 1]),
        },
        lines=lines,
        title="Classification as regression: far points pull the boundary",
        xlabel="x₁",
        ylabel="x₂",
    )
    fig_slice = plot.curves(
        out / "zero_one_vs_cross_entropy.png",
        {"0/1 loss (error rate)": (np.degrees(angles), slice_01), "cross-entropy": (np.degrees(angles), slice_ce)},
        title="Rotating w: 0/1 loss is a staircase, cross-entropy is smooth",
        xlabel="rotation of w from the trained w (degrees)",
        ylabel="loss",
    )
    rows = [
        ["linear regression, targets ±1", acc["regression"]],
        ["linear regression, without the far group", acc["regression_near_only"]],
        ["logistic regression (cross-entropy)", acc["logistic"]],
    ]
    return Result(
        title="Classification as regression",
        summary=(
            f"Two Gaussian classes plus a far group of {far_n} class-1 points at {config.far_center}. "
            "Regression with targets ±1 wants wᵀx + b = 1 on the far points too, which are 'too correct' "
            f"(their mean squared error under the boundary fitted without them is {far_penalty:.3g}), so the "
            f"least-squares boundary tilts towards them and misclassifies near points: accuracy "
            f"{acc['regression']:.1%} against {acc['regression_near_only']:.1%} without them and "
            f"{acc['logistic']:.1%} for logistic regression. The ideal loss, the error count, is piecewise "
            f"constant: its gradient at the trained parameters is {grad_norm:g}, so gradient descent cannot use it."
        ),
        metrics={
            "regression_accuracy": acc["regression"],
            "regression_near_only_accuracy": acc["regression_near_only"],
            "logistic_accuracy": acc["logistic"],
            "far_points_squared_error": far_penalty,
            "zero_one_gradient_norm": grad_norm,
        },
        tables={"Training accuracy": table(["model", "accuracy"], rows)},
        figures=[str(fig_boundary), str(fig_slice)],
        data={"regression": reg_all, "logistic": logistic, "x": x, "y": y},
    )
