"""The lecture's saddle point: y = w₁w₂x with one datum x = 1, ŷ = 1, so L = (1 − w₁w₂)² (course §3.2)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import curvature, losses, optim, plot, surfaces, train
from jaxml.report import Claim, ExperimentConfig, Result, choice, integer, number, table

DESCRIPTION = "The toy saddle L = (1 − w₁w₂)²: g, H = [[0, −2], [−2, 0]], eigenvalues ±2 and the escape step"
SECTION = "3.2"

# Closed forms the claims compare against (course §3.2): at θ′ = (0, 0), L = 1, g = 0, H = [[0, −2], [−2, 0]].
LECTURE_H = np.array([[0.0, -2.0], [-2.0, 0.0]])
EXACT = 1e-12  # the toy's numbers are exact in float64 (products of 0, 1 and 2)


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    learning_rate: float = 0.1
    steps: int = 150
    nudge: float = 1e-2
    # |t| ≤ quadratic_radius: where the second-order Taylor model L(θ′) + ½λt² is checked along u₋
    quadratic_radius: float = 0.1
    # where the random starts θ′ + nudge·d lie: "random" (d uniform on the circle: almost surely with a component
    # along u₋) or "u_plus" (d = ±u₊, on the line w₂ = −w₁: the negative control, no component along u₋)
    nudge_direction: str = "random"

    # a few thousand scalar steps: the full run is already a smoke test
    QUICK = {}

    DOMAINS = {
        "learning_rate": number(0, low_open=True),
        "steps": integer(),
        "nudge": number(0, low_open=True),
        "quadratic_radius": number(0, low_open=True),
        "nudge_direction": choice(("random", "u_plus")),
    }


# L below this many decades under L(θ′) counts as having reached the valley w₁w₂ = 1
DECADES = 6  # (the statements write it 10⁻⁶)


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
        "A small nudge is enough: gradient descent from θ′ + 10⁻²·d, d a random unit direction (one per "
        "replicate), leaves the saddle and reaches L < 10⁻⁶·L(θ′) (effect: decades of L below that).",
        reads=("gd_random_starts_worst_final_loss", "loss_at_saddle"),
        effect="decades_below_threshold",
        control={"nudge_direction": "u_plus"},
        explain=lambda m: (
            f"Worst final loss over the random starts: {m['gd_random_starts_worst_final_loss']:.3g} "
            f"(L(θ′) = {m['loss_at_saddle']:.3g})."
        ),
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
        # Replicates: random starts θ′ + nudge·d from the seed; GD from each (vmapped).
        angle = jax.random.uniform(jax.random.PRNGKey(config.seed), (config.replicates,), maxval=2 * jnp.pi)
        if config.nudge_direction == "random":
            dirs = jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=1)
        else:  # ±u₊ = ±[1, −1]/√2: no component along u₋ (the control)
            sign = jnp.where(angle < jnp.pi, 1.0, -1.0)
            dirs = sign[:, None] * jnp.asarray(vecs[:, 1])[None, :]
        random_starts = saddle[None, :] + config.nudge * dirs
        random_paths = jax.vmap(lambda s0: surfaces.trajectory(f, sgd, s0, config.steps))(random_starts)
        random_final = np.asarray(random_paths.loss[:, -1], np.float64)
        probe = jnp.array([0.3, -1.2])
        surface_diff = abs(float(surfaces.saddle(probe)) - float(f(probe)))

        t = np.linspace(-2.0, 2.0, 201)
        # L along each unit eigenvector of H, evaluated with the objective itself (closed form: (1 ∓ t²/2)²)
        along = [np.asarray(jax.vmap(f)(jnp.asarray(t)[:, None] * vecs[:, i][None, :])) for i in range(2)]
        near = np.linspace(-config.quadratic_radius, config.quadratic_radius, 41)
        along_near = np.asarray(jax.vmap(f)(jnp.asarray(near)[:, None] * vecs[:, 0][None, :]))
    quad_err = float(np.max(np.abs(along_near - (cp.loss + 0.5 * lam[0] * near**2))))
    gd_final = [float(p.loss[-1]) for p in paths.values()]
    # decades of L below 10⁻⁶·L(θ′) (L floored at 10⁻³⁰·L(θ′): float64 can land exactly on the valley)
    decades = np.log10(cp.loss / np.maximum(random_final, 1e-30 * cp.loss)) - DECADES
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
        "gd_random_starts_worst_final_loss": float(random_final.max()),
        "gd_random_starts_escaped": int(np.sum(decades > 0)),
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
        f"nudge along u₋. From {config.replicates} starts θ′ + {config.nudge:g}·d with "
        + ("d a random unit direction" if config.nudge_direction == "random" else "d = ±u₊ (the negative control)")
        + f", {metrics['gd_random_starts_escaped']} reached L < 10⁻⁶·L(θ′) (worst final L "
        f"{random_final.max():.3g})."
    )
    return Result(
        title=f"Saddle point of the toy network y = w₁w₂x: eigenvalues {lam[0]:.3g} and {lam[1]:.3g}",
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        tables={"The lecture's numbers beside ours": table(["quantity", "lecture", "jaxml"], rows)},
        replicates={"decades_below_threshold": decades},
        data={
            "random_paths": np.asarray(random_paths.theta),
            "hessian": h,
            "eigenvalues": lam,
            "eigenvectors": vecs,
            "escape": u,
            "paths": {k: np.asarray(p.theta) for k, p in paths.items()},
            "gd_names": names,
            "along": (t, along),
            "loss_at_saddle": float(cp.loss),
            "eta": config.learning_rate,
            "steps": config.steps,
        },
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    lam, u = d["eigenvalues"], d["escape"]
    f_grid = surfaces.on_grid(surfaces.saddle)
    g = np.linspace(-2.0, 2.0, 200)
    gx, gy = np.meshgrid(g, g)
    z = np.asarray(f_grid(gx, gy), float)
    levels = np.concatenate([np.linspace(0.0, 1.0, 11)[1:], [1.5, 2, 3, 5, 8, 12, 20]])

    def base(ax: object) -> None:
        cs = ax.contour(gx, gy, z, levels=levels, cmap="viridis", linewidths=0.8)
        ax.figure.colorbar(cs, ax=ax, shrink=0.8, label="L")
        ax.plot(0.0, 0.0, "k*", markersize=11, zorder=5)
        ax.annotate("saddle θ′", (0.0, 0.0), textcoords="offset points", xytext=(6, -12), fontsize="small")
        ax.set_xlim(-2, 2)
        ax.set_ylim(-2, 2)
        ax.set_aspect("equal")
        ax.set_xlabel("w₁")
        ax.set_ylabel("w₂")

    def draw_step(ax: object) -> None:
        base(ax)
        ax.annotate(
            "", xy=(float(u[0]), float(u[1])), xytext=(0.0, 0.0),
            arrowprops={"arrowstyle": "-|>", "color": "C3", "linewidth": 2},
        )  # fmt: skip
        ax.plot([0.0, float(u[0])], [0.0, float(u[1])], color="C3", linewidth=2,
                label=f"escape step θ′ + u, u = [{u[0]:.3g}, {u[1]:.3g}] (L = 0)")  # fmt: skip
        ax.plot(float(u[0]), float(u[1]), "o", color="C3", markersize=7)
        ax.legend(fontsize="x-small", loc="lower right")

    paths = d["paths"]
    names = d["gd_names"]

    def draw_gd(ax: object) -> None:
        base(ax)
        for k, path in enumerate(d["random_paths"]):
            label = f"GD from {len(d['random_paths'])} random nudges θ′ + 10⁻²·d" if k == 0 else None
            ax.plot(path[:, 0], path[:, 1], "-", color="C0", alpha=0.5, linewidth=1, label=label)
            ax.plot(path[-1, 0], path[-1, 1], "o", color="C0", markersize=3)
        toward = paths[names[1]]
        ax.plot(toward[:, 0], toward[:, 1], "s--", color="C1", markersize=3, linewidth=1.5, label=names[1])
        # the nudges all leave along u₋, so their paths share the diagonal: say how many end at each end
        ends = d["random_paths"][:, -1, :]
        for sign in (1.0, -1.0):
            k = int(np.sum(np.sign(ends[:, 0]) == sign))
            if k:
                ax.annotate(f"{k} of {len(ends)} end here", (sign * 1.0, sign * 1.0), textcoords="offset points",
                            xytext=(-75, 6) if sign > 0 else (6, -4), fontsize="x-small", color="C0")  # fmt: skip
        still = paths[names[0]]
        ax.plot(still[-1, 0], still[-1, 1], "D", color="C4", markersize=8, markerfacecolor="none", zorder=6,
                label=names[0] + ": never moves")  # fmt: skip
        ax.legend(fontsize="xx-small", loc="upper left")  # the quadrant w₁ < 0 < w₂ holds no path

    fig_surface = plot.panels(
        out / "saddle_surface.png",
        [draw_step, draw_gd],
        titles=["the second-order escape step", f"gradient descent (η = {d['eta']:g}, {d['steps']} steps)"],
        suptitle=f"L = (1 − w₁w₂)²: saddle at 0 (λ = {lam[0]:.3g}, {lam[1]:.3g}), minima on w₁w₂ = 1",
        ncols=2,
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
