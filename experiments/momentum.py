"""Momentum mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹ carries the parameters through a local minimum and past a saddle point where
plain gradient descent stops (SCOPE §4.2)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Gradient descent vs momentum: a local minimum (tilted double well) and a saddle point"
SECTION = "4.2"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 500
    eta: float = 0.01
    lam: float = 0.9  # the lecture's λ


def _first_below(loss: np.ndarray, level: float) -> float:
    hit = np.nonzero(loss < level)[0]
    return float(hit[0]) if hit.size else float("inf")


def main(config: Config) -> Result:
    out = config.out_dir("momentum")
    steps = 300 if config.quick else config.steps
    opts = {
        f"GD (η = {config.eta:g})": optim.sgd(config.eta),
        f"momentum (η = {config.eta:g}, λ = {config.lam:g})": optim.momentum(config.eta, beta=config.lam),
    }
    gd, mom = opts
    results, figures = {}, []
    for surface in (surfaces.DOUBLE_WELL, surfaces.SADDLE):
        paths = {
            k: jax.tree.map(np.asarray, surfaces.trajectory(surface.f, o, jnp.asarray(surface.start), steps))
            for k, o in opts.items()
        }
        results[surface.name] = paths
        marks = {"global minimum": surface.minimum}
        if surface is surfaces.DOUBLE_WELL:
            marks["local minimum"] = (float(surfaces.double_well_critical_points()[2]), 0.0)
        else:
            marks = {"saddle (0, 0)": (0.0, 0.0)}
        figures.append(
            plot.contour(
                out / f"{surface.f.__name__}.png",
                surfaces.on_grid(surface.f),
                surface.xlim,
                surface.ylim,
                title=f"{surface.name}: {steps} updates from {surface.start}",
                trajectories={k: p.theta for k, p in paths.items()},
                points=marks,
                levels=30,
            )
        )
    t = np.arange(steps + 1)
    dw, sd = results[surfaces.DOUBLE_WELL.name], results[surfaces.SADDLE.name]
    figures.append(
        plot.panels(
            out / "loss_curves.png",
            [
                lambda ax: [ax.plot(t, p.loss, label=k) for k, p in dw.items()] and ax.set_xlabel("update"),
                lambda ax: [ax.semilogy(t, p.loss + 1e-12, label=k) for k, p in sd.items()] and ax.set_xlabel("update"),
            ],
            titles=["tilted double well: loss", "saddle L = (1 − θ₁θ₂)²: loss"],
            suptitle="Momentum rolls on where the gradient vanishes",
            ncols=2,
        )
    )
    global_min = surfaces.DOUBLE_WELL.minimum[0]
    metrics = {
        "double_well_final_theta1_gd": float(dw[gd].theta[-1, 0]),
        "double_well_final_theta1_momentum": float(dw[mom].theta[-1, 0]),
        "double_well_global_minimum_theta1": float(global_min),
        "double_well_final_loss_gd": float(dw[gd].loss[-1]),
        "double_well_final_loss_momentum": float(dw[mom].loss[-1]),
        "saddle_updates_to_loss_below_0.01_gd": _first_below(sd[gd].loss, 0.01),
        "saddle_updates_to_loss_below_0.01_momentum": _first_below(sd[mom].loss, 0.01),
        "saddle_closest_approach_gd": float(np.min(np.linalg.norm(sd[gd].theta, axis=1))),
    }
    rows = [
        [k, dw[k].theta[-1, 0], dw[k].loss[-1], _first_below(sd[k].loss, 0.01), sd[k].loss[min(100, steps)]]
        for k in opts
    ]
    return Result(
        title="Momentum",
        summary=(
            "Gradient descent with momentum (the lecture's heavy ball: m⁰ = 0, mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, "
            "θᵗ = θᵗ⁻¹ + mᵗ, so mᵗ is a weighted sum of all past gradients) against plain gradient descent at "
            f"the same η = {config.eta:g}. On a tilted double well, gradient descent settles in the shallow local "
            f"minimum (θ₁ = {dw[gd].theta[-1, 0]:.3f}); momentum's accumulated steps carry it over the barrier "
            f"to the global minimum (θ₁ = {dw[mom].theta[-1, 0]:.3f}). Started near the stable direction of the "
            "saddle of L = (1 − θ₁θ₂)², gradient descent slows to a crawl next to the saddle point, where "
            "g ≈ 0; momentum keeps moving and reaches the valley of minima θ₁θ₂ = 1 far sooner."
        ),
        metrics=metrics,
        tables={
            "Double well and saddle": table(
                [
                    "optimizer",
                    "double well: final θ₁",
                    "double well: final loss",
                    "saddle: updates to L < 0.01",
                    "saddle: loss at update 100",
                ],
                rows,
            )
        },
        figures=[str(f) for f in figures],
        data={"paths": results},
    )
