"""The lecture's saddle point: y = w₁w₂x with one datum x = 1, ŷ = 1, so L = (1 − w₁w₂)² (SCOPE §3.2)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import curvature, losses, optim, plot, surfaces, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "The toy saddle L = (1 − w₁w₂)²: g, H = [[0, −2], [−2, 0]], eigenvalues ±2 and the escape step"
SECTION = "3.2"

# Closed forms the claims compare against (SCOPE §3.2): at θ′ = (0, 0), L = 1, g = 0, H = [[0, −2], [−2, 0]].
LECTURE_H = np.array([[0.0, -2.0], [-2.0, 0.0]])
EXACT = 1e-12  # the toy's numbers are exact in float64 (products of 0, 1 and 2)


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    learning_rate: float = 0.1
    steps: int = 80
    nudge: float = 1e-2
    # |t| ≤ quadratic_radius: where the second-order Taylor model L(θ′) + ½λt² is checked along u₋
    quadratic_radius: float = 0.1

    # a few hundred scalar steps: the full run is already a smoke test
    QUICK = {}


CLAIMS = (
    Claim(
        "gradient_vanishes",
        "3.2",
        "At θ′ = (0, 0) the gradient g of L = (1 − w₁w₂)² is zero: θ′ is a critical point.",
        lambda m: m["grad_norm_at_saddle"] <= EXACT,
        reads=("grad_norm_at_saddle",),
    ),
    Claim(
        "hessian_closed_form",
        "3.2",
        "The Hessian at θ′ is H = [[0, −2], [−2, 0]], with eigenvalues −2 and +2.",
        lambda m: (
            m["hessian_max_abs_error"] <= EXACT
            and abs(m["eigenvalue_min"] + 2) <= EXACT
            and abs(m["eigenvalue_max"] - 2) <= EXACT
        ),
        reads=("hessian_max_abs_error", "eigenvalue_min", "eigenvalue_max"),
    ),
    Claim(
        "mixed_signs_saddle",
        "3.1",
        "Eigenvalues of both signs make θ′ a saddle point (the second-order test classifies it so).",
        lambda m: m["is_saddle"] == 1.0,
        reads=("is_saddle",),
    ),
    Claim(
        "quadratic_model",
        "3.1",
        "Near θ′, L(θ) ≈ L(θ′) + ½(θ−θ′)ᵀH(θ−θ′) (g = 0): along u₋ the error is O(t⁴), at most t⁴/4.",
        lambda m: m["quadratic_model_max_error"] <= m["quadratic_radius"] ** 4 / 4 + EXACT,
        reads=("quadratic_model_max_error", "quadratic_radius"),
    ),
    Claim(
        "escape_lowers_loss",
        "3.2",
        "Moving along the eigenvector u = [1, 1] of λ = −2 lowers L: θ′ + u has L = 0 < L(θ′) = 1.",
        lambda m: m["loss_at_theta_plus_u"] <= EXACT and m["loss_at_theta_plus_u"] < m["loss_at_saddle"],
        reads=("loss_at_theta_plus_u", "loss_at_saddle"),
    ),
    Claim(
        "gd_stalls_at_saddle",
        "3.2",
        "Gradient descent started at the saddle never moves (g = 0): the loss stays at L(θ′) = 1.",
        lambda m: m["gd_from_saddle_final_loss"] == m["loss_at_saddle"],
        reads=("gd_from_saddle_final_loss", "loss_at_saddle"),
    ),
    Claim(
        "gd_escapes_after_nudge",
        "3.2",
        "A small step along u₋ is enough: gradient descent from θ′ + 10⁻²·u/‖u‖ leaves the saddle and reaches L ≈ 0.",
        lambda m: m["gd_after_nudge_final_loss"] < 1e-6 * m["loss_at_saddle"],
        reads=("gd_after_nudge_final_loss", "loss_at_saddle"),
    ),
)


def _model(w: jax.Array, x: jax.Array) -> jax.Array:
    """y = w₁w₂x."""
    return w[0] * w[1] * x


def compute(config: Config) -> Result:
    with jax.enable_x64(True):
        batch = (jnp.array([1.0]), jnp.array([1.0]))  # x = 1, ŷ = 1
        objective = train.supervised(_model, losses.mse)
        f = lambda w: objective(w, batch)  # noqa: E731  (L(θ) for the curvature tools)
        saddle = jnp.zeros(2)
        g = np.asarray(jax.grad(f)(saddle))
        h = np.asarray(curvature.hessian(f, saddle))
        cp = curvature.classify_critical_point(f, saddle)
        lam, vecs = np.linalg.eigh(h)
        u = np.asarray(cp.escape_direction)
        loss_plus_u = float(f(saddle + jnp.array([1.0, 1.0])))  # the lecture's θ′ + u, u = [1, 1]

        # Gradient descent: from the saddle itself it never moves (g = 0); from the line w₂ = −w₁ the gradient
        # points at the saddle and GD stalls there; nudged along u it slides down to the valley w₁w₂ = 1.
        sgd = optim.sgd(config.learning_rate)
        unit = u / np.linalg.norm(u)
        starts = {
            "GD from the saddle (g = 0)": saddle,
            "GD from (0.8, −0.8), on the line w₂ = −w₁": jnp.array([0.8, -0.8]),
            f"GD after a {config.nudge:g} nudge along u₋": saddle + config.nudge * unit,
        }
        paths = {k: surfaces.trajectory(f, sgd, s, config.steps) for k, s in starts.items()}
        probe = jnp.array([0.3, -1.2])
        surface_diff = abs(float(surfaces.saddle(probe)) - float(f(probe)))

        t = np.linspace(-2.0, 2.0, 201)
        # L along each unit eigenvector of H, evaluated with the objective itself (closed form: (1 ∓ t²/2)²)
        along = [np.asarray(jax.vmap(f)(jnp.asarray(t)[:, None] * vecs[:, i][None, :])) for i in range(2)]
        near = np.linspace(-config.quadratic_radius, config.quadratic_radius, 41)
        along_near = np.asarray(jax.vmap(f)(jnp.asarray(near)[:, None] * vecs[:, 0][None, :]))
    quad_err = float(np.max(np.abs(along_near - (cp.loss + 0.5 * lam[0] * near**2))))
    gd_final = [float(p.loss[-1]) for p in paths.values()]
    escape_t = float(np.linalg.norm(u))
    metrics = {
        "grad_norm_at_saddle": float(np.linalg.norm(g)),
        "loss_at_saddle": float(cp.loss),
        "H11": float(h[0, 0]),
        "H12": float(h[0, 1]),
        "H22": float(h[1, 1]),
        "hessian_max_abs_error": float(np.max(np.abs(h - LECTURE_H))),
        "eigenvalue_min": float(lam[0]),
        "eigenvalue_max": float(lam[1]),
        "is_saddle": float(cp.kind == "saddle_point"),
        "escape_u1": float(u[0]),
        "escape_u2": float(u[1]),
        "escape_step_length": escape_t,
        "loss_after_escape": float(cp.escape_loss),
        "loss_at_theta_plus_u": loss_plus_u,
        "quadratic_radius": float(config.quadratic_radius),
        "quadratic_model_max_error": quad_err,
        "gd_from_saddle_final_loss": gd_final[0],
        "gd_toward_saddle_final_loss": gd_final[1],
        "gd_after_nudge_final_loss": gd_final[2],
        "surface_vs_objective_max_diff": surface_diff,
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
        "loss_at_theta_plus_u": 0.0,
    }
    # the lecture's notation ([a, b], − for minus) in our column too, not NumPy's "[ 0. -2.]"
    num = lambda v, digits=6: f"{float(v) + 0.0:.{digits}g}".replace("-", "−")  # noqa: E731  (+0.0: no "−0")
    vec = lambda a, digits=6: "[" + ", ".join(num(v, digits) for v in np.ravel(a)) + "]"  # noqa: E731
    rows = [
        ["g at (0, 0)", "[0, 0]", vec(g, 3)],
        ["H at (0, 0)", "[[0, −2], [−2, 0]]", "[" + ", ".join(vec(r, 3) for r in np.asarray(h)) + "]"],
        ["eigenvalues", "−2, 2", f"{num(lam[0])}, {num(lam[1])}"],
        ["eigenvector of λ = −2", "u = [1, 1] (any multiple)", vec(vecs[:, 0], 4)],
        ["kind", "saddle point", cp.kind.replace("_", " ")],
        ["escape step (line search along u₋)", "θ′ + u with u = [1, 1]", vec(u)],
        ["L before / after the step", "1 / 0", f"{cp.loss:.6g} / {cp.escape_loss:.3g}"],
        ["L(θ′ + [1, 1])", "0", f"{loss_plus_u:.3g}"],
    ]
    names = list(paths)
    kind = cp.kind.replace("_", " ")
    same_as_lecture = np.allclose(np.abs(u), 1.0, atol=1e-9)
    step_text = (
        f"the lecture's u = [1, 1] up to sign (u = [{u[0]:.6g}, {u[1]:.6g}])"
        if same_as_lecture
        else f"u = [{u[0]:.6g}, {u[1]:.6g}], not the lecture's [1, 1]"
    )
    summary = (
        "With one datum x = 1, ŷ = 1, L(w₁, w₂) = (1 − w₁w₂)² (built as `train.supervised(y = w₁w₂x, mse)`). "
        f"At the origin ‖g‖ = {metrics['grad_norm_at_saddle']:.3g}, and `jaxml.curvature` gives "
        f"H = [[{h[0, 0]:.6g}, {h[0, 1]:.6g}], [{h[1, 0]:.6g}, {h[1, 1]:.6g}]] (largest deviation from the "
        f"lecture's [[0, −2], [−2, 0]]: {metrics['hessian_max_abs_error']:.3g}) with eigenvalues "
        f"{lam[0]:.6g} and {lam[1]:.6g}; the second-order test says: {kind}. "
        f"Along the unit eigenvector of λ = {lam[0]:.3g}, the quadratic model L(θ′) + ½λt² is within "
        f"{quad_err:.2g} of L for |t| ≤ {config.quadratic_radius:g}. The line search along it picks the step "
        f"length {escape_t:.6g}, i.e. {step_text}, and lands at L = {cp.escape_loss:.3g} (from "
        f"L(θ′) = {cp.loss:.6g}). Gradient descent (η = {config.learning_rate:g}, {config.steps} steps) "
        f"ends at L = {gd_final[0]:.6g} started at the saddle, L = {gd_final[1]:.4g} started on the line "
        f"w₂ = −w₁ (the gradient points at the saddle), and L = {gd_final[2]:.3g} after a {config.nudge:g} "
        "nudge along u₋."
    )
    return Result(
        title=f"Saddle point of the toy network y = w₁w₂x: eigenvalues {lam[0]:.3g} and {lam[1]:.3g}",
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        tables={"The lecture's numbers beside ours": table(["quantity", "lecture", "jaxml"], rows)},
        data={
            "hessian": h,
            "eigenvalues": lam,
            "eigenvectors": vecs,
            "escape": u,
            "paths": {k: np.asarray(p.theta) for k, p in paths.items()},
            "gd_names": names,
            "along": (t, along),
            "loss_at_saddle": float(cp.loss),
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    lam, u = d["eigenvalues"], d["escape"]
    # the escape step last, so that it is drawn over the nudged GD path that follows the same diagonal
    trajectories = dict(d["paths"])
    trajectories[f"escape step θ′ + u (length {np.linalg.norm(u):.3g})"] = np.linspace(0.0, 1.0, 20)[:, None] * u
    fig_surface = plot.contour(
        out / "saddle_surface.png",
        surfaces.on_grid(surfaces.saddle),
        (-2.0, 2.0),
        (-2.0, 2.0),
        title=f"L = (1 − w₁w₂)²: saddle at 0 (λ = {lam[0]:.3g}, {lam[1]:.3g}), minima on w₁w₂ = 1",
        xlabel="w₁",
        ylabel="w₂",
        trajectories=trajectories,
        points={"saddle θ′": (0.0, 0.0), "θ′ + u": (float(u[0]), float(u[1]))},
        levels=np.concatenate([np.linspace(0.0, 1.0, 11)[1:], [1.5, 2, 3, 5, 8, 12, 20]]),
        legend_loc="below",
    )
    t, along = d["along"]
    l0 = d["loss_at_saddle"]
    near = np.abs(t) <= 1.2  # the quadratic models only where they are meant to hold, so the axis shows L

    def draw(ax: object) -> None:
        ax.plot(t, along[0], color="C0", label=f"L along u₋ (λ = {lam[0]:.3g})")
        ax.plot(t, along[1], color="C1", label=f"L along u₊ (λ = {lam[1]:.3g})")
        ax.plot(t[near], l0 + 0.5 * lam[0] * t[near] ** 2, "--", color="C0", label="L(θ′) + ½λ₋t² (quadratic model)")
        ax.plot(t[near], l0 + 0.5 * lam[1] * t[near] ** 2, "--", color="C1", label="L(θ′) + ½λ₊t² (quadratic model)")
        ax.axhline(l0, color="gray", linewidth=0.8, linestyle=":")
        ax.annotate(f"L(θ′) = {l0:.3g}", (1.45, l0), fontsize="small", va="bottom")
        ax.set_xlabel("t (step along the unit eigenvector)")
        ax.set_ylabel("L(θ′ + t·u)")
        ax.legend(fontsize="small", loc="upper center")

    fig_line = plot.panels(
        out / "loss_along_eigenvectors.png",
        [draw],
        titles=["L falls along u₋ and rises along u₊"],
        suptitle="Through the saddle along H's eigenvectors",
    )
    return [fig_surface, fig_line]
