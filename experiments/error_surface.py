"""A fixed learning rate fails on an elongated error surface; Adagrad's per-parameter σ reaches the minimum
(SCOPE §4.3–4.4)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Elongated convex surface: fixed η too small or too large both fail, Adagrad reaches the minimum"
SECTION = "4.3"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 1000
    eta_large: float = 0.0199  # just below 2/b = 0.02, the largest stable η for the steep θ₂
    eta_small: float = 0.002
    eta_adagrad: float = 0.1
    sweep: tuple[float, float, int] = (1e-4, 0.03, 40)  # log-spaced fixed η


def main(config: Config) -> Result:
    out = config.out_dir("error_surface")
    s = surfaces.ELONGATED
    steps = 300 if config.quick else config.steps
    theta0 = jnp.asarray(s.start)
    runs = {
        f"GD, η = {config.eta_large:g} (too large)": optim.sgd(config.eta_large),
        f"GD, η = {config.eta_small:g} (too small)": optim.sgd(config.eta_small),
        f"Adagrad, η = {config.eta_adagrad:g}": optim.adagrad(config.eta_adagrad),
    }
    paths = {name: jax.tree.map(np.asarray, surfaces.trajectory(s.f, opt, theta0, steps)) for name, opt in runs.items()}
    large, small, ada = (paths[k] for k in runs)

    # Every fixed η at once (vmap over η, one compiled program): none gets near the minimum.
    etas = np.geomspace(*config.sweep[:2], config.sweep[2])
    sweep_loss = np.asarray(
        jax.vmap(lambda eta: surfaces.trajectory(s.f, optim.sgd(eta), theta0, steps).loss[-1])(jnp.asarray(etas))
    )
    best = int(np.nanargmin(np.where(np.isfinite(sweep_loss), sweep_loss, np.inf)))

    t = np.arange(steps + 1)
    grad_norm = {k: np.linalg.norm(p.grad, axis=1) for k, p in paths.items()}
    figures = [
        plot.contour(
            out / "trajectories.png",
            surfaces.on_grid(s.f),
            s.xlim,
            s.ylim,
            title=f"L = ½(0.1θ₁² + 100θ₂²): {steps} updates from {s.start}",
            trajectories={k: p.theta for k, p in paths.items()},
            points={"minimum": s.minimum},
            log_levels=True,
        ),
        plot.panels(
            out / "loss_and_gradient.png",
            [
                lambda ax: [ax.semilogy(t, p.loss, label=k) for k, p in paths.items()] and ax.set_xlabel("update"),
                lambda ax: [ax.semilogy(t, grad_norm[k], label=k) for k in paths] and ax.set_xlabel("update"),
            ],
            titles=["loss L(θᵗ)", "gradient norm ‖gᵗ‖"],
            suptitle="Training stalls with a fixed η although the gradient is not small",
            ncols=2,
        ),
        plot.curves(
            out / "fixed_eta_sweep.png",
            {"gradient descent, fixed η": (etas, sweep_loss)},
            title=f"Loss after {steps} updates against a fixed η (η ≥ 2/b = 0.02 diverges)",
            xlabel="η",
            ylabel="final loss",
            logx=True,
            logy=True,
            hlines={f"Adagrad (η = {config.eta_adagrad:g})": max(float(ada.loss[-1]), 1e-30)},
        ),
    ]
    rows = [[k, p.loss[-1], grad_norm[k][-1], np.abs(p.theta[-1, 0]), np.abs(p.theta[-1, 1])] for k, p in paths.items()]
    metrics = {
        "final_loss_gd_large_eta": float(large.loss[-1]),
        "final_loss_gd_small_eta": float(small.loss[-1]),
        "final_loss_adagrad": float(ada.loss[-1]),
        "grad_norm_gd_large_eta_at_step_100": float(grad_norm[next(iter(runs))][min(100, steps)]),
        "best_fixed_eta": float(etas[best]),
        "best_fixed_eta_final_loss": float(sweep_loss[best]),
        "initial_loss": float(large.loss[0]),
    }
    return Result(
        title="Error surface: a fixed learning rate vs Adagrad",
        summary=(
            "On the convex but elongated surface L = ½(0.1θ₁² + 100θ₂²) (curvatures 1000× apart), gradient "
            f"descent with η = {config.eta_large:g} — just under the stability limit 2/100 of the steep "
            "direction — bounces between the valley walls and crawls along the floor: the loss stops falling "
            f"while ‖g‖ is still large. With η = {config.eta_small:g} it no longer bounces but barely moves "
            f"along θ₁. No fixed η does well (sweep: best final loss {sweep_loss[best]:.3g} at "
            f"η = {etas[best]:.3g}). Adagrad divides each coordinate's step by σᵢ, the root mean square of its "
            f"past gradients, and reaches the minimum (final loss {float(ada.loss[-1]):.3g})."
        ),
        metrics=metrics,
        tables={
            f"After {steps} updates": table(["optimizer", "loss", "‖g‖", "|θ₁|", "|θ₂|"], rows),
        },
        figures=[str(f) for f in figures],
        data={"paths": paths, "etas": etas, "sweep_loss": sweep_loss},
    )
