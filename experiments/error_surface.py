"""A fixed learning rate fails on an elongated error surface; optimizers that divide each coordinate's step by its
own σᵢ (Adagrad, RMSProp, Adam) reach the minimum (SCOPE §4.3–4.6)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Elongated surface: no fixed η works (large bounces, small stalls); Adagrad, RMSProp, Adam do"
SECTION = "4.3"

A, B = surfaces.ELONGATED_CURVATURE


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 500
    eta_large: float = 0.0199  # just below 2/b = 0.02, the largest stable η for the steep θ₂
    eta_small: float = 0.002
    eta_momentum: float = 0.0199
    lam: float = 0.9
    eta_adagrad: float = 0.1
    eta_rmsprop: float = 0.05
    alpha: float = 0.9
    eta_adam: float = 0.1
    sweep_size: int = 40  # fixed η, log-spaced from 1e-4 to just under 2/b
    tolerance: float = 0.01  # "reached the minimum": ‖θᵀ − θ*‖ below this fraction of ‖θ⁰ − θ*‖

    QUICK = {"sweep_size": 20}  # the 2-D paths cost little: the same 500 updates


def _tol(m: dict) -> float:
    return m["tolerance_distance"]


CLAIMS = (
    Claim(
        "large_eta_bounces",
        "4.3",
        "A fixed η large enough to move along the flat floor bounces between the steep valley walls (θ₂ changes "
        "sign at almost every update) and does not reach the minimum.",
        lambda m: m["gd_large_theta2_sign_flip_fraction"] >= 0.9 and m["final_distance_gd_large"] > _tol(m),
        reads=("gd_large_theta2_sign_flip_fraction", "final_distance_gd_large", "tolerance_distance"),
    ),
    Claim(
        "small_eta_stalls",
        "4.3",
        "A small fixed η stops the bouncing, but training stalls along the floor although the gradient is not "
        "small (it keeps most of its starting size a·|θ₁⁰|).",
        lambda m: m["gd_small_theta1_progress"] < 0.5 and m["gd_small_final_grad_over_floor_grad"] > 0.5,
        reads=("gd_small_theta1_progress", "gd_small_final_grad_over_floor_grad"),
    ),
    Claim(
        "no_fixed_eta_works",
        "4.3",
        "No fixed η works for plain gradient descent: of a log-spaced sweep of η up to the stability limit 2/b, "
        "none reaches the minimum.",
        lambda m: m["sweep_best_final_distance"] > _tol(m),
        reads=("sweep_best_final_distance", "sweep_best_eta", "tolerance_distance"),
    ),
    Claim(
        "adaptive_reaches_minimum",
        "4.4",
        "Adagrad, RMSProp and Adam, dividing each parameter's step by its own σᵢ, reach the minimum.",
        lambda m: max(m["final_distance_adagrad"], m["final_distance_rmsprop"], m["final_distance_adam"]) < _tol(m),
        reads=("final_distance_adagrad", "final_distance_rmsprop", "final_distance_adam", "tolerance_distance"),
    ),
)


def _optimizers(c: Config) -> dict:
    return {
        f"GD, η = {c.eta_large:g} (large)": optim.sgd(c.eta_large),
        f"GD, η = {c.eta_small:g} (small)": optim.sgd(c.eta_small),
        f"momentum, η = {c.eta_momentum:g}, λ = {c.lam:g}": optim.momentum(c.eta_momentum, beta=c.lam),
        f"Adagrad, η = {c.eta_adagrad:g}": optim.adagrad(c.eta_adagrad),
        f"RMSProp, η = {c.eta_rmsprop:g}, α = {c.alpha:g}": optim.rmsprop(c.eta_rmsprop, alpha=c.alpha),
        f"Adam, η = {c.eta_adam:g}": optim.adam(c.eta_adam),
    }


def compute(config: Config) -> Result:
    s = surfaces.ELONGATED
    steps = config.steps
    theta0 = jnp.asarray(s.start)
    minimum = np.asarray(s.minimum)
    runs = _optimizers(config)
    paths = {k: jax.tree.map(np.asarray, surfaces.trajectory(s.f, o, theta0, steps)) for k, o in runs.items()}
    gd_large, gd_small, mom, ada, rms, adam = runs
    dist = {k: float(np.linalg.norm(p.theta[-1] - minimum)) for k, p in paths.items()}
    start_distance = float(np.linalg.norm(np.asarray(s.start) - minimum))
    tol = config.tolerance * start_distance

    # Every fixed η at once (vmap over η, one compiled program), up to just under the stability limit 2/b.
    etas = np.geomspace(1e-4, 0.995 * 2 / B, config.sweep_size)
    sweep_theta = np.asarray(
        jax.vmap(lambda eta: surfaces.trajectory(s.f, optim.sgd(eta), theta0, steps).theta[-1])(jnp.asarray(etas))
    )
    sweep_dist = np.linalg.norm(sweep_theta - minimum, axis=1)
    best = int(np.argmin(sweep_dist))

    grad_norm = {k: np.linalg.norm(p.grad, axis=1) for k, p in paths.items()}
    large_theta2 = paths[gd_large].theta[:, 1]
    flips = float(np.mean(np.sign(large_theta2[1:]) != np.sign(large_theta2[:-1])))
    small = paths[gd_small]
    progress = float(1 - abs(small.theta[-1, 0] - minimum[0]) / abs(s.start[0] - minimum[0]))
    floor_grad = A * abs(s.start[0] - minimum[0])  # the gradient along the floor at the start
    metrics = {
        "initial_loss": float(paths[gd_large].loss[0]),
        "tolerance_distance": tol,
        "gd_large_theta2_sign_flip_fraction": flips,
        "gd_small_theta1_progress": progress,
        "gd_small_final_grad_over_floor_grad": float(grad_norm[gd_small][-1] / floor_grad),
        "final_distance_gd_large": dist[gd_large],
        "final_distance_gd_small": dist[gd_small],
        "final_distance_momentum": dist[mom],
        "final_distance_adagrad": dist[ada],
        "final_distance_rmsprop": dist[rms],
        "final_distance_adam": dist[adam],
        "sweep_best_eta": float(etas[best]),
        "sweep_best_final_distance": float(sweep_dist[best]),
        **{f"final_loss_{n}": float(paths[k].loss[-1]) for n, k in zip(
            ("gd_large", "gd_small", "momentum", "adagrad", "rmsprop", "adam"), runs)},
    }  # fmt: skip
    short = [k.split(",")[0] for k in runs]
    # two gradient-descent runs share the short name: keep their η so that "GD, GD" never appears
    name = {k: f"{n} at{k[len(n) + 1 :]}" if short.count(n) > 1 else n for k, n in zip(runs, short)}
    reached = [name[k] for k in runs if dist[k] < tol]
    missed = [name[k] for k in runs if dist[k] >= tol]
    rows = [
        [
            k,
            p.loss[-1],
            grad_norm[k][-1],
            abs(p.theta[-1, 0]),
            abs(p.theta[-1, 1]),
            dist[k],
            "yes" if dist[k] < tol else "no",
        ]
        for k, p in paths.items()
    ]
    summary = (
        f"The convex but elongated surface L = ½({A:g}θ₁² + {B:g}θ₂²) has curvatures {B / A:.0f}× apart; every "
        f"optimizer starts at {s.start} (L⁰ = {metrics['initial_loss']:.3g}) and makes {steps} updates. "
        f'"Reached the minimum" means ‖θᵀ − θ*‖ < {tol:.3g} ({config.tolerance:g} of the start distance '
        f"{start_distance:.3g}). Gradient descent with η = {config.eta_large:g} (just under the stability limit "
        f"2/b = {2 / B:g}) flips the sign of θ₂ on {100 * flips:.0f}% of its updates — it bounces between the "
        f"walls — and ends {dist[gd_large]:.3g} from the minimum. With η = {config.eta_small:g} it covers "
        f"{100 * progress:.0f}% of the way along θ₁ while its gradient keeps "
        f"{100 * metrics['gd_small_final_grad_over_floor_grad']:.0f}% of the floor's starting gradient a·|θ₁⁰|. "
        f"The best of {config.sweep_size} fixed η (η = {etas[best]:.3g}) ends {sweep_dist[best]:.3g} from it. "
        f"Reached: {', '.join(reached) or 'none'}; not reached: {', '.join(missed) or 'none'}. Momentum "
        f"(λ = {config.lam:g}) accumulates the small steps along the floor and ends {dist[mom]:.3g} away."
    )
    return Result(
        title=f"Error surface: fixed η vs per-parameter σ after {steps} updates",
        summary=summary,
        metrics=metrics,
        tables={
            f"After {steps} updates from {s.start}": table(
                ["optimizer", "loss", "‖g‖", "|θ₁|", "|θ₂|", "‖θ − θ*‖", "reached"], rows
            ),
        },
        data={"paths": paths, "etas": etas, "sweep_distance": sweep_dist, "tolerance": tol, "steps": steps},
    )


def figures(result: Result, out: Path) -> list[Path]:
    s = surfaces.ELONGATED
    paths, steps, tol = result.data["paths"], result.data["steps"], result.data["tolerance"]
    colors = {k: f"C{i}" for i, k in enumerate(paths)}
    t = np.arange(steps + 1)
    floor = 1e-12 * result.metrics["initial_loss"]  # exact zeros (Adam underflows) drawn at the bottom

    def over_time(values: dict, ylabel: str):
        def draw(ax):
            for k, v in values.items():
                ax.semilogy(t, np.maximum(v, floor), color=colors[k], label=k, linewidth=1.2)
            ax.set_xlabel("update t")
            ax.set_ylabel(ylabel)

        return draw

    return [
        plot.contour(
            out / "trajectories.png",
            surfaces.on_grid(s.f),
            s.xlim,
            s.ylim,
            title=f"L = ½({A:g}θ₁² + {B:g}θ₂²): {steps} updates from {s.start}",
            trajectories={k: p.theta for k, p in paths.items()},
            points={"minimum": s.minimum},
            log_levels=True,
            level_range=(1e-3, float(result.metrics["initial_loss"]) * 3),
            levels=16,
            inset=((-0.6, 0.6), (-0.12, 0.12)),
            inset_bounds=(0.6, 0.6, 0.38, 0.36),
            legend_loc="below",
            colors=colors,
        ),
        plot.panels(
            out / "loss_and_gradient.png",
            [
                over_time({k: p.loss for k, p in paths.items()}, f"L(θᵗ) (floor {floor:.0e})"),
                over_time({k: np.linalg.norm(p.grad, axis=1) for k, p in paths.items()}, "‖gᵗ‖"),
            ],
            titles=["loss", "gradient norm"],
            suptitle=f"Within {tol:.3g} of θ* after {steps} updates: "
            f"{', '.join(k.split(',')[0] for k, p in paths.items() if np.hypot(*p.theta[-1]) < tol) or 'none'}",
            ncols=2,
            shared_legend=True,
        ),
        plot.curves(
            out / "fixed_eta_sweep.png",
            {"gradient descent, fixed η": (result.data["etas"], result.data["sweep_distance"])},
            title=f"After {steps} updates with a fixed η (all < 2/b = {2 / B:g})",
            xlabel="η",
            ylabel="‖θᵀ − θ*‖",
            logx=True,
            logy=True,
            styles={"gradient descent, fixed η": "o-"},
            hlines={f"'reached' threshold {tol:.3g}": tol},
        ),
    ]
