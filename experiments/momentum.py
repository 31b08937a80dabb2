"""Momentum mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹ carries the parameters through a local minimum and past a saddle point where
plain gradient descent stops (SCOPE §4.2) — tested against gradient descent at the same η *and* at momentum's
effective step η/(1−λ), so that "momentum" is not just "a bigger step"."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Momentum vs GD at the same η and at the effective step η/(1−λ): tilted double well and a saddle"
SECTION = "4.2"

LEVEL = 0.01  # "past the saddle": the loss below this


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 500
    eta: float = 0.01
    lam: float = 0.9  # the lecture's λ
    # right of the barrier, low enough that GD at η/(1−λ) does not jump over it in one overshooting step
    double_well_start: tuple[float, float] = (1.7, 1.0)
    start_sweep: int = 17  # starts θ₁⁰ ∈ [1.2, 2.0] for the robustness table

    QUICK = {"start_sweep": 9}


def _wins(m: dict) -> bool:
    return m["saddle_updates_momentum"] < m["saddle_updates_gd_same_eta"]


CLAIMS = (
    Claim(
        "rolls_past_local_minimum",
        "4.2",
        "Momentum carries the parameters over the barrier of a shallow local minimum into the global one, where "
        "plain gradient descent stops — at the same η and at the effective step η/(1−λ) alike (from the start "
        f"{Config().double_well_start}).",
        lambda m: (
            m["double_well_momentum_global"] == 1
            and m["double_well_gd_same_eta_global"] == 0
            and m["double_well_gd_effective_eta_global"] == 0
        ),
        reads=(
            "double_well_momentum_global",
            "double_well_gd_same_eta_global",
            "double_well_gd_effective_eta_global",
            "starts_to_global_momentum",
            "starts_to_global_gd_same_eta",
            "starts_to_global_gd_effective_eta",
            "starts_swept",
        ),
        explain=lambda m: (
            f"Over {m['starts_swept']:.0f} starts θ₁⁰ ∈ [1.2, 2.0] the global minimum is reached from "
            f"{m['starts_to_global_momentum']:.0f} by momentum, {m['starts_to_global_gd_same_eta']:.0f} by GD at η "
            f"and {m['starts_to_global_gd_effective_eta']:.0f} by GD at η/(1−λ): the verdict is for the one start "
            "named"
            + (
                "; from other starts momentum stays in the local minimum too"
                if m["starts_to_global_momentum"] < m["starts_swept"]
                else ""
            )
            + (
                ", and the bigger GD step sometimes overshoots the barrier"
                if m["starts_to_global_gd_effective_eta"] > 0
                else ""
            )
            + "."
        ),
    ),
    Claim(
        "passes_saddle_vs_same_eta",
        "4.2",
        "Near a saddle point, where g ≈ 0, momentum keeps moving: it reaches the valley of minima (L < 0.01) in "
        "fewer updates than gradient descent at the same η.",
        _wins,
        reads=("saddle_updates_momentum", "saddle_updates_gd_same_eta"),
    ),
    Claim(
        "passes_saddle_beyond_bigger_step",
        "4.2",
        "Momentum passes the saddle sooner than gradient descent at momentum's effective step η/(1−λ) too "
        "(more than a bigger step).",
        lambda m: m["saddle_updates_momentum"] < m["saddle_updates_gd_effective_eta"],
        reads=("saddle_updates_momentum", "saddle_updates_gd_effective_eta"),
        expected=False,
        explain=lambda m: (
            f"Gradient descent at η/(1−λ) gets to L < {LEVEL:g} in {m['saddle_updates_gd_effective_eta']:.0f} "
            f"updates, momentum in {m['saddle_updates_momentum']:.0f}: on this saddle momentum's advantage over GD "
            "is its larger effective step (near the saddle the unstable direction grows by 1 + 2η/(1−λ) per GD "
            "step, faster than momentum's heavy ball)."
        ),
    ),
)


def _first_below(loss: np.ndarray, level: float) -> float:
    hit = np.nonzero(loss < level)[0]
    return float(hit[0]) if hit.size else float("inf")


def compute(config: Config) -> Result:
    steps, eta, lam = config.steps, config.eta, config.lam
    eff = eta / (1 - lam)
    opts = {
        f"GD, η = {eta:g}": optim.sgd(eta),
        f"GD, η/(1−λ) = {eff:g}": optim.sgd(eff),
        f"momentum, η = {eta:g}, λ = {lam:g}": optim.momentum(eta, beta=lam),
    }
    gd, gd_eff, mom = opts
    starts = {surfaces.DOUBLE_WELL.name: config.double_well_start, surfaces.SADDLE.name: surfaces.SADDLE.start}
    paths = {}
    for surface in (surfaces.DOUBLE_WELL, surfaces.SADDLE):
        theta0 = jnp.asarray(starts[surface.name])
        paths[surface.name] = {
            k: jax.tree.map(np.asarray, surfaces.trajectory(surface.f, o, theta0, steps)) for k, o in opts.items()
        }
    dw, sd = paths[surfaces.DOUBLE_WELL.name], paths[surfaces.SADDLE.name]
    low, barrier, local = surfaces.double_well_critical_points()
    is_global = {k: float(p.theta[-1, 0] < barrier) for k, p in dw.items()}

    # robustness: from which starts θ₁⁰ (θ₂⁰ as configured) does each optimizer end in the global minimum?
    x0s = np.linspace(1.2, 2.0, config.start_sweep)
    starts_grid = jnp.stack([jnp.asarray(x0s), jnp.full(len(x0s), config.double_well_start[1])], axis=1)
    sweep = {
        k: np.asarray(jax.vmap(lambda s, o=o: surfaces.trajectory(surfaces.double_well, o, s, steps).theta[-1, 0])(
            starts_grid))
        for k, o in opts.items()
    }  # fmt: skip
    sweep_global = {k: int(np.sum(v < barrier)) for k, v in sweep.items()}
    saddle_updates = {k: _first_below(p.loss, LEVEL) for k, p in sd.items()}
    metrics = {
        "double_well_momentum_global": is_global[mom],
        "double_well_gd_same_eta_global": is_global[gd],
        "double_well_gd_effective_eta_global": is_global[gd_eff],
        "double_well_final_theta1_momentum": float(dw[mom].theta[-1, 0]),
        "double_well_final_theta1_gd_same_eta": float(dw[gd].theta[-1, 0]),
        "double_well_final_theta1_gd_effective_eta": float(dw[gd_eff].theta[-1, 0]),
        "double_well_global_minimum_theta1": float(low),
        "double_well_local_minimum_theta1": float(local),
        "saddle_updates_momentum": saddle_updates[mom],
        "saddle_updates_gd_same_eta": saddle_updates[gd],
        "saddle_updates_gd_effective_eta": saddle_updates[gd_eff],
        "starts_to_global_momentum": float(sweep_global[mom]),
        "starts_to_global_gd_same_eta": float(sweep_global[gd]),
        "starts_to_global_gd_effective_eta": float(sweep_global[gd_eff]),
        "starts_swept": float(len(x0s)),
    }
    where = lambda k: "the global" if is_global[k] else "the local"
    rows = [
        [k, dw[k].theta[-1, 0], where(k).split()[1], sweep_global[k], saddle_updates[k], sd[k].loss[min(100, steps)]]
        for k in opts
    ]
    summary = (
        "Gradient descent with momentum (the lecture's heavy ball: m⁰ = 0, mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ, "
        "so mᵗ is a weighted sum of all past gradients) against plain gradient descent at the same "
        f"η = {eta:g} and at momentum's effective step η/(1−λ) = {eff:g} (what a constant gradient would give), "
        f"{steps} updates each. **Tilted double well** from {config.double_well_start}: GD at η ends at "
        f"θ₁ = {dw[gd].theta[-1, 0]:.3f} ({where(gd)} minimum), GD at η/(1−λ) at "
        f"θ₁ = {dw[gd_eff].theta[-1, 0]:.3f} ({where(gd_eff)}), momentum at θ₁ = {dw[mom].theta[-1, 0]:.3f} "
        f"({where(mom)}; the global minimum is at {low:.3f}, the local one at {local:.3f}). Over "
        f"{len(x0s)} starts θ₁⁰ ∈ [1.2, 2.0], the global minimum is reached from {sweep_global[mom]} by "
        f"momentum, {sweep_global[gd]} by GD at η and {sweep_global[gd_eff]} by GD at η/(1−λ) (which, from "
        "high starts, overshoots the barrier in one large step — not momentum's mechanism). **Saddle** "
        f"L = (1 − θ₁θ₂)² from {surfaces.SADDLE.start} (near its stable direction): updates to L < {LEVEL:g}: "
        f"momentum {saddle_updates[mom]:.0f}, GD at η {saddle_updates[gd]:.0f}, GD at η/(1−λ) "
        f"{saddle_updates[gd_eff]:.0f}."
    )
    return Result(
        title="Momentum vs gradient descent at the same and at the effective step",
        summary=summary,
        metrics=metrics,
        tables={
            "Double well and saddle": table(
                [
                    "optimizer",
                    "double well: final θ₁",
                    "minimum",
                    f"starts → global (of {len(x0s)})",
                    f"saddle: updates to L < {LEVEL:g}",
                    "saddle: loss at update 100",
                ],
                rows,
            )
        },  # fmt: skip
        data={"paths": paths, "starts": starts, "sweep_x0": x0s, "sweep_final": sweep, "steps": steps},
    )


def figures(result: Result, out: Path) -> list[Path]:
    paths, starts, steps = result.data["paths"], result.data["starts"], result.data["steps"]
    names = list(next(iter(paths.values())))
    colors = {k: f"C{i}" for i, k in enumerate(names)}
    low, barrier, local = surfaces.double_well_critical_points()
    figs = []
    for surface in (surfaces.DOUBLE_WELL, surfaces.SADDLE):
        if surface is surfaces.DOUBLE_WELL:
            marks = {"global minimum": surface.minimum, "local minimum": (float(local), 0.0)}
        else:
            marks = {"saddle (0, 0)": (0.0, 0.0)}
        figs.append(
            plot.contour(
                out / f"{surface.f.__name__}.png",
                surfaces.on_grid(surface.f),
                surface.xlim,
                surface.ylim,
                title=f"{surface.name}: {steps} updates from {starts[surface.name]}",
                trajectories={k: p.theta for k, p in paths[surface.name].items()},
                points=marks,
                levels=25,
                log_levels=True,
                legend_loc="below",
                colors=colors,
            )
        )
    t = np.arange(steps + 1)
    dw, sd = paths[surfaces.DOUBLE_WELL.name], paths[surfaces.SADDLE.name]
    x0s, final = result.data["sweep_x0"], result.data["sweep_final"]

    def theta1(ax):
        for k, p in dw.items():
            ax.plot(t, p.theta[:, 0], color=colors[k], label=k)
        ax.axhline(barrier, color="gray", ls=":", lw=1)
        ax.set_xlabel("update t")
        ax.set_ylabel("θ₁ᵗ (barrier dotted)")

    def saddle_loss(ax):
        for k, p in sd.items():
            ax.semilogy(t, np.maximum(p.loss, 1e-16), color=colors[k], label=k)
        ax.axhline(LEVEL, color="gray", ls=":", lw=1)
        ax.set_xlabel("update t")
        ax.set_ylabel("L(θᵗ) (floor 1e-16)")

    def sweep(ax):
        # the three runs often end at the same θ₁: side by side, a marker cannot hide another
        dx = 0.25 * float(np.min(np.diff(x0s))) if len(x0s) > 1 else 0.0
        for i, (k, v) in enumerate(final.items()):
            ax.plot(np.asarray(x0s) + (i - 1) * dx, v, "os^"[i], color=colors[k], label=k, alpha=0.8)
        ax.axhline(barrier, color="gray", ls=":", lw=1)
        ax.set_xlabel("start θ₁⁰")
        ax.set_ylabel(f"final θ₁ after {steps} updates")

    figs.append(
        plot.panels(
            out / "loss_curves.png",
            [theta1, saddle_loss, sweep],
            titles=["double well: θ₁ over time", "saddle: loss", "double well: final θ₁ by start"],
            suptitle="Momentum vs GD at the same η and at the effective step η/(1−λ)",
            ncols=3,
            shared_legend=True,
        )
    )
    return figs
