"""Adagrad's σ remembers every past gradient, RMSProp's forgets: on a crescent-shaped valley RMSProp gets much
further (SCOPE §4.4–4.5)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Crescent (Rosenbrock) valley: Adagrad's all-history σ crawls, RMSProp's α-average adapts"
SECTION = "4.5"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 3000
    eta: float = 0.005
    alpha: float = 0.9
    radius: float = 0.5  # "near the minimum": ‖θ − θ*‖ below this

    QUICK = {"steps": 1500}


CLAIMS = (
    Claim(
        "adagrad_sigma_remembers",
        "4.4",
        "Adagrad's σ is the root mean square of all past gradients, so it keeps the steep start's large "
        "gradients: at the end its σ is over 2× RMSProp's in both coordinates.",
        lambda m: m["final_sigma_ratio_adagrad_over_rmsprop_min"] > 2,
        reads=("final_sigma_ratio_adagrad_over_rmsprop_min",),
    ),
    Claim(
        "rmsprop_gets_further",
        "4.5",
        "RMSProp's σ, an α-weighted average, forgets the steep start and speeds up along the curved floor: after "
        "the same number of updates at the same η it is at least 4× closer to the minimum than Adagrad.",
        lambda m: m["final_distance_rmsprop"] < 0.25 * m["final_distance_adagrad"],
        reads=("final_distance_rmsprop", "final_distance_adagrad"),
    ),
    Claim(
        "rmsprop_near_sooner",
        "4.5",
        "RMSProp gets near the minimum (‖θ − θ*‖ < 0.5) in fewer updates than Adagrad.",
        lambda m: m["steps_to_near_rmsprop"] < m["steps_to_near_adagrad"],
        reads=("steps_to_near_rmsprop", "steps_to_near_adagrad"),
    ),
)


def compute(config: Config) -> Result:
    s = surfaces.CRESCENT
    steps = config.steps
    theta0 = jnp.asarray(s.start)
    runs = {  # Adagrad last so that its path is drawn on top where the two overlap
        f"RMSProp (η = {config.eta:g}, α = {config.alpha:g})": optim.rmsprop(config.eta, alpha=config.alpha),
        f"Adagrad (η = {config.eta:g})": optim.adagrad(config.eta),
    }
    paths = {k: jax.tree.map(np.asarray, surfaces.trajectory(s.f, o, theta0, steps)) for k, o in runs.items()}
    dist = {k: np.linalg.norm(p.theta - np.asarray(s.minimum), axis=1) for k, p in paths.items()}
    # σ of each coordinate over time: Adagrad's keeps the steep start's large gradients, RMSProp's forgets them
    # (read by name: the state's layout is the optimizer's business)
    sigma = {k: np.sqrt(np.asarray(optax.tree_utils.tree_get(p.state, "sigma_sq"))) for k, p in paths.items()}
    rms, ada = runs

    # how long each needs to get within the radius of the minimum (inf: never)
    def first_within(d: np.ndarray, r: float) -> float:
        hit = np.nonzero(d < r)[0]
        return float(hit[0]) if hit.size else float("inf")

    near = {k: first_within(dist[k], config.radius) for k in runs}
    ratio = sigma[ada][-1] / sigma[rms][-1]
    rows = [[k, paths[k].loss[-1], dist[k][-1], near[k], *sigma[k][-1]] for k in runs]
    when = lambda n: f"after {n:.0f} updates" if np.isfinite(n) else f"not within {steps} updates"
    closer = dist[ada][-1] / max(dist[rms][-1], 1e-30)
    return Result(
        title=f"RMSProp vs Adagrad on a crescent: {closer:.3g}× closer after {steps} updates",
        summary=(
            "On the Rosenbrock crescent the gradient is huge on the steep walls and tiny on the curved floor. "
            "Adagrad's σ is the root mean square of *all* past gradients, so the large gradients of the first "
            "descent keep its steps small long after it reached the floor; RMSProp's σ is an α-weighted "
            f"average (α = {config.alpha:g}, σ⁰ = |g⁰|) that forgets them. After {steps} updates at the same "
            f"η = {config.eta:g}, Adagrad's final σ is {ratio.min():.3g}–{ratio.max():.3g}× RMSProp's (per "
            f"coordinate), and RMSProp ends {dist[rms][-1]:.3g} from the minimum against Adagrad's "
            f"{dist[ada][-1]:.3g} ({closer:.3g}× closer); it got within {config.radius:g} "
            f"{when(near[rms])}, Adagrad {when(near[ada])}."
        ),
        metrics={
            "final_distance_adagrad": float(dist[ada][-1]),
            "final_distance_rmsprop": float(dist[rms][-1]),
            "final_loss_adagrad": float(paths[ada].loss[-1]),
            "final_loss_rmsprop": float(paths[rms].loss[-1]),
            "steps_to_near_rmsprop": near[rms],
            "steps_to_near_adagrad": near[ada],
            "final_sigma_ratio_adagrad_over_rmsprop_min": float(ratio.min()),
            "final_sigma_ratio_adagrad_over_rmsprop_max": float(ratio.max()),
        },
        tables={
            f"After {steps} updates": table(
                ["optimizer", "loss", "‖θ − θ*‖", f"updates to ‖θ − θ*‖ < {config.radius:g}", "σ₁", "σ₂"], rows
            )
        },
        data={"paths": paths, "distance": dist, "sigma": sigma, "steps": steps},
    )


def figures(result: Result, out: Path) -> list[Path]:
    s = surfaces.CRESCENT
    paths, dist, sigma, steps = (result.data[k] for k in ("paths", "distance", "sigma", "steps"))
    colors = {k: f"C{i}" for i, k in enumerate(paths)}
    t = np.arange(steps + 1)

    def distance(ax):
        for k, d in dist.items():
            ax.semilogy(t, d, color=colors[k], label=k)
        ax.set_xlabel("update t")
        ax.set_ylabel("‖θᵗ − (1, 1)‖")

    def sigmas(ax):
        for k, sg in sigma.items():
            for i, ls in ((0, "-"), (1, "--")):
                ax.semilogy(t[1:], sg[:, i], ls, color=colors[k], label=f"{k.split()[0]} σ{'₁₂'[i]}")
        ax.set_xlabel("update t")
        ax.set_ylabel("σᵢᵗ (solid σ₁, dashed σ₂)")

    return [
        plot.contour(
            out / "trajectories.png",
            surfaces.on_grid(s.f),
            s.xlim,
            s.ylim,
            title=f"L = (1−θ₁)² + 100(θ₂−θ₁²)²: {steps} updates from {s.start}",
            trajectories={k: p.theta for k, p in paths.items()},
            points={"minimum (1, 1)": s.minimum},
            log_levels=True,
            levels=20,
            legend_loc="below",
            colors=colors,
        ),
        plot.panels(
            out / "distance_and_sigma.png",
            [distance, sigmas],
            titles=["distance to the minimum", "σᵢᵗ per coordinate"],
            suptitle=f"After {steps} updates Adagrad's σ is "
            f"{result.metrics['final_sigma_ratio_adagrad_over_rmsprop_min']:.3g}–"
            f"{result.metrics['final_sigma_ratio_adagrad_over_rmsprop_max']:.3g}× RMSProp's, its distance "
            f"{result.metrics['final_distance_adagrad'] / result.metrics['final_distance_rmsprop']:.3g}× larger",
            ncols=2,
        ),
    ]
