"""The lecture's saddle point: y = w₁w₂x with one datum x = 1, ŷ = 1, so L = (1 − w₁w₂)² (SCOPE §3.2)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import curvature, losses, optim, plot, surfaces, train
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "The toy saddle L = (1 − w₁w₂)²: g, H = [[0, −2], [−2, 0]], eigenvalues ±2 and the escape step"
SECTION = "3.2"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    learning_rate: float = 0.1
    steps: int = 80
    nudge: float = 1e-2


def _model(w: jax.Array, x: jax.Array) -> jax.Array:
    """y = w₁w₂x."""
    return w[0] * w[1] * x


def main(config: Config) -> Result:
    out = config.out_dir("saddle_toy")
    steps = config.steps  # a few hundred scalar steps: as cheap in quick mode
    with jax.enable_x64(True):
        batch = (jnp.array([1.0]), jnp.array([1.0]))  # x = 1, ŷ = 1
        objective = train.supervised(_model, losses.mse)
        f = lambda w: objective(w, batch)  # noqa: E731  (L(θ) for the curvature tools)
        saddle = jnp.zeros(2)
        g = jax.grad(f)(saddle)
        h = np.asarray(curvature.hessian(f, saddle))
        cp = curvature.classify_critical_point(f, saddle)
        lam, vecs = np.linalg.eigh(h)
        u = np.asarray(cp.escape_direction)
        escaped = saddle + u

        # Gradient descent: from the saddle itself it never moves (g = 0); from the line w₂ = −w₁ the gradient
        # points at the saddle and GD stalls there; nudged along u by 10⁻² it slides down to the valley w₁w₂ = 1.
        sgd = optim.sgd(config.learning_rate)
        unit = u / np.linalg.norm(u)
        starts = {
            "GD from the saddle (g = 0)": saddle,
            "GD from (0.8, −0.8)": jnp.array([0.8, -0.8]),
            "GD after a 10⁻² nudge along u": saddle + config.nudge * unit,
        }
        paths = {k: surfaces.trajectory(f, sgd, s, steps) for k, s in starts.items()}
        loss_surface = float(surfaces.saddle(jnp.array([0.3, -1.2])))
        loss_objective = float(f(jnp.array([0.3, -1.2])))

        # The escape step as a path: θ′ → θ′ + u along the eigenvector of λ = −2.
        seg = np.linspace(0.0, 1.0, 20)[:, None] * np.asarray(u)[None, :]
        # the escape step last, so that it is drawn over the nudged GD path that follows the same diagonal
        trajectories = {k: np.asarray(p.theta) for k, p in paths.items()}
        trajectories["escape step θ′ + u (line search)"] = seg
        fig_surface = plot.contour(
            out / "saddle_surface.png",
            surfaces.on_grid(surfaces.saddle),
            (-2.0, 2.0),
            (-2.0, 2.0),
            title="L = (1 − w₁w₂)²: saddle at 0, minima on w₁w₂ = 1",
            xlabel="w₁",
            ylabel="w₂",
            trajectories=trajectories,
            points={"saddle θ′ = (0, 0)": (0.0, 0.0), "θ′ + u": (float(escaped[0]), float(escaped[1]))},
            levels=np.concatenate([np.linspace(0.0, 1.0, 11)[1:], [1.5, 2, 3, 5, 8, 12, 20]]),
        )
        t = np.linspace(-2.0, 2.0, 201)
        # L along each eigenvector of H, evaluated with the objective itself (closed form: (1 ∓ t²/2)²)
        along = [np.asarray(jax.vmap(f)(jnp.asarray(t)[:, None] * vecs[:, i][None, :])) for i in range(2)]
        fig_line = plot.curves(
            out / "loss_along_eigenvectors.png",
            {
                f"along u₋ (λ = {lam[0]:.3g})": (t, along[0]),
                f"along u₊ (λ = {lam[1]:.3g})": (t, along[1]),
                "quadratic model L(θ′) + ½λ₋t²": (t, float(cp.loss) + 0.5 * lam[0] * t**2),
            },
            title="L(θ′ + t·u) through the saddle along the two eigenvectors",
            xlabel="t (unit eigenvector)",
            ylabel="L",
            hlines={"L(θ′) = 1": 1.0},
        )
    gd_final = {k: float(p.loss[-1]) for k, p in paths.items()}
    metrics = {
        "grad_norm_at_saddle": float(np.linalg.norm(np.asarray(g))),
        "loss_at_saddle": float(cp.loss),
        "H11": float(h[0, 0]),
        "H12": float(h[0, 1]),
        "H22": float(h[1, 1]),
        "eigenvalue_min": float(lam[0]),
        "eigenvalue_max": float(lam[1]),
        "escape_u1": float(u[0]),
        "escape_u2": float(u[1]),
        "loss_after_escape": float(cp.escape_loss),
        "gd_from_saddle_final_loss": gd_final["GD from the saddle (g = 0)"],
        "gd_toward_saddle_final_loss": gd_final["GD from (0.8, −0.8)"],
        "gd_after_nudge_final_loss": gd_final["GD after a 10⁻² nudge along u"],
        "surface_vs_objective_max_diff": abs(loss_surface - loss_objective),
    }
    lecture = {
        "grad_norm_at_saddle": 0.0,
        "loss_at_saddle": 1.0,
        "H11": 0.0,
        "H12": -2.0,
        "H22": 0.0,
        "eigenvalue_min": -2.0,
        "eigenvalue_max": 2.0,
        "escape_u1": 1.0,
        "escape_u2": 1.0,
        "loss_after_escape": 0.0,
    }
    rows = [
        ["g at (0, 0)", "[0, 0]", np.array2string(np.asarray(g), precision=3)],
        ["H at (0, 0)", "[[0, −2], [−2, 0]]", np.array2string(h, precision=3).replace("\n", "")],
        ["eigenvalues", "−2, 2", f"{lam[0]:.6g}, {lam[1]:.6g}"],
        ["eigenvector of λ = −2", "u = [1, 1] (any multiple)", np.array2string(vecs[:, 0], precision=4)],
        ["kind", "saddle point", cp.kind],
        ["escape step", "θ′ + u with u = [1, 1]", np.array2string(u, precision=6)],
        ["L before / after the step", "1 / 0", f"{cp.loss:.6g} / {cp.escape_loss:.3g}"],
    ]
    return Result(
        title="Saddle point of the toy network y = w₁w₂x",
        summary=(
            "With one datum x = 1, ŷ = 1, L(w₁, w₂) = (1 − w₁w₂)² (built as `train.supervised(y = w₁w₂x, mse)`). "
            "At the origin the gradient vanishes and `jaxml.curvature` gives exactly the lecture's Hessian "
            "[[0, −2], [−2, 0]] with eigenvalues ±2: a saddle point. The eigenvector of λ = −2 is u ∝ [1, 1]; "
            "the line search along it (steps 2^(i/2)) picks t = √2 for the unit vector, i.e. the lecture's "
            "θ′ + u with u = [1, 1] (up to the sign, ±u being equivalent), which lands on the valley w₁w₂ = 1 "
            "with L = 0. Plain gradient descent started at the saddle never moves, started on the line "
            "w₂ = −w₁ it walks into the saddle and stalls at L = 1, and nudged by 10⁻² along u it escapes."
        ),
        metrics=metrics,
        lecture=lecture,
        tables={"The lecture's numbers beside ours": table(["quantity", "lecture", "jaxml"], rows)},
        figures=[str(fig_surface), str(fig_line)],
        data={"hessian": h, "eigenvalues": lam, "eigenvectors": vecs, "trajectories": trajectories},
    )
