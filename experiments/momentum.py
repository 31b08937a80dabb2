"""Momentum mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹ carries the parameters through a local minimum and past a saddle point where
plain gradient descent stops (course §4.2) — tested against gradient descent at the same η *and* at momentum's
effective step η/(1−λ), so that "momentum" is not just "a bigger step".

The experiment's randomness is the start point: every claim is judged over ``replicates`` random starts drawn
from ``config.seed`` (right of the double well's barrier; around the saddle's stable direction), the three
optimizers paired on each start. The negative control ``λ = 0`` turns momentum into gradient descent at η.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table, tuple_of

DESCRIPTION = "Momentum vs GD at the same η and at the effective step η/(1−λ): tilted double well and a saddle"
SECTION = "4.2"

LEVEL = 0.01  # "past the saddle": the loss below this


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    replicates: int = 200  # random starts per surface: 2-D paths, all vmapped at once
    steps: int = 500
    eta: float = 0.01
    lam: float = 0.9  # the lecture's λ; the negative control sets it to 0 (momentum becomes GD at η)
    # double-well starts: uniform in this box, right of the barrier (θ₁ ≈ 0.13), the lecture's side of the well
    double_well_box: tuple[tuple[float, float], tuple[float, float]] = ((1.2, 2.0), (-1.0, 1.0))
    saddle_spread: float = 0.05  # saddle starts: SADDLE.start + N(0, spread²) per coordinate

    QUICK = {"steps": 400}

    DOMAINS = {
        "steps": integer(),
        "eta": number(0, low_open=True),
        "lam": number(0, 1, high_open=True),
        "double_well_box": tuple_of(tuple_of(number(), length=2, ordered=True), length=2),
        "saddle_spread": number(0),
    }


CONTROL = {"lam": 0.0}  # no momentum: the "momentum" run is gradient descent at η


def _global_rate(m: dict) -> str:
    return (
        f"Of {m['starts']:.0f} random starts right of the barrier, the global minimum is reached from "
        f"{m['starts_to_global_momentum']:.0f} by momentum, {m['starts_to_global_gd_same_eta']:.0f} by GD at η and "
        f"{m['starts_to_global_gd_effective_eta']:.0f} by GD at η/(1−λ) (which gets there by overshooting the "
        "barrier in one large step, not by momentum's accumulated velocity)."
    )


CLAIMS = (
    Claim(
        "rolls_past_local_minimum",
        "4.2",
        "Momentum carries the parameters over the barrier of a shallow local minimum into the global one where "
        "plain gradient descent stops: from random starts right of the barrier it ends in the global minimum more "
        "often than GD at the same η and than GD at the effective step η/(1−λ) (paired per start: momentum's "
        "outcome minus the better of the two GD outcomes).",
        reads=("starts_to_global_momentum", "starts_to_global_gd_same_eta", "starts_to_global_gd_effective_eta",
               "starts"),  # fmt: skip
        effect="global_momentum_minus_best_gd",
        control=CONTROL,
        explain=_global_rate,
    ),
    Claim(
        "passes_saddle_vs_same_eta",
        "4.2",
        f"Near a saddle point, where g ≈ 0, momentum keeps moving: it reaches the valley of minima (L < {LEVEL:g}) "
        "in fewer updates than gradient descent at the same η (paired per start).",
        reads=("saddle_updates_momentum_median", "saddle_updates_gd_same_eta_median"),
        effect="saddle_updates_gd_same_eta_minus_momentum",
        control=CONTROL,
    ),
    Claim(
        "passes_saddle_beyond_bigger_step",
        "4.2",
        "Momentum passes the saddle sooner than gradient descent at momentum's effective step η/(1−λ) too "
        "(more than a bigger step; paired per start).",
        reads=("saddle_updates_momentum_median", "saddle_updates_gd_effective_eta_median"),
        effect="saddle_updates_gd_effective_eta_minus_momentum",
        control=CONTROL,
        expected=False,
        explain=lambda m: (
            f"Gradient descent at η/(1−λ) gets to L < {LEVEL:g} in {_fmt(m['saddle_updates_gd_effective_eta_median'])} "
            f"updates (median over the starts), momentum in {_fmt(m['saddle_updates_momentum_median'])}: on this "
            "saddle momentum's advantage over GD is its larger effective step (near the saddle the unstable "
            "direction grows by 1 + 2η/(1−λ) per GD step, faster than momentum's heavy ball)."
        ),
    ),
)


def _first_below(loss: np.ndarray, level: float) -> np.ndarray:
    """Per row, the first update with loss < level; ``-1`` where never (kept apart from the counts)."""
    hit = loss < level
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def compute(config: Config) -> Result:
    steps, eta, lam, n = config.steps, config.eta, config.lam, config.replicates
    eff = eta / (1 - lam)
    opts = {
        f"GD, η = {eta:g}": optim.sgd(eta),
        f"GD, η/(1−λ) = {eff:g}": optim.sgd(eff),
        f"momentum, η = {eta:g}, λ = {lam:g}": optim.momentum(eta, beta=lam),
    }
    gd, gd_eff, mom = opts
    dw_key, sd_key = jax.random.split(jax.random.PRNGKey(config.seed))
    (x_lo, x_hi), (y_lo, y_hi) = config.double_well_box
    u = jax.random.uniform(dw_key, (n, 2))
    dw_starts = jnp.stack([x_lo + (x_hi - x_lo) * u[:, 0], y_lo + (y_hi - y_lo) * u[:, 1]], axis=1)
    sd_starts = jnp.asarray(surfaces.SADDLE.start) + config.saddle_spread * jax.random.normal(sd_key, (n, 2))

    @jax.jit  # one program for both surfaces, every optimizer and start: one compilation instead of six
    def run_all(dw_starts, sd_starts):
        return tuple(
            {k: jax.vmap(lambda s, o=o, f=surface.f: surfaces.trajectory(f, o, s, steps))(starts)
             for k, o in opts.items()}
            for surface, starts in ((surfaces.DOUBLE_WELL, dw_starts), (surfaces.SADDLE, sd_starts))
        )

    dw, sd = jax.tree.map(np.asarray, run_all(dw_starts, sd_starts))
    for surface, paths in (("double well", dw), ("saddle", sd)):
        for k, p in paths.items():
            if not np.all(np.isfinite(p.theta)):  # η too large: the claims cannot be judged on NaN positions
                raise FloatingPointError(f"{k} on the {surface} overflowed to inf/NaN (η too large)")
    low, barrier, local = surfaces.double_well_critical_points()
    is_global = {k: (p.theta[:, -1, 0] < barrier).astype(np.int64) for k, p in dw.items()}
    hit = {k: _first_below(p.loss, LEVEL) for k, p in sd.items()}
    # paired effect on the saddle: a run that never gets below LEVEL counts as steps + 1 updates — a lower bound
    # on its true count, so a never-arriving GD run can only understate momentum's lead (and vice versa)
    censored = {k: np.where(h < 0, steps + 1, h).astype(np.int64) for k, h in hit.items()}
    median = lambda k: float(np.median(hit[k][hit[k] >= 0])) if np.any(hit[k] >= 0) else None
    count = {k: int(v.sum()) for k, v in is_global.items()}
    metrics = {
        "starts": float(n),
        "starts_to_global_momentum": float(count[mom]),
        "starts_to_global_gd_same_eta": float(count[gd]),
        "starts_to_global_gd_effective_eta": float(count[gd_eff]),
        "double_well_global_minimum_theta1": float(low),
        "double_well_local_minimum_theta1": float(local),
        "saddle_updates_momentum_median": median(mom),
        "saddle_updates_gd_same_eta_median": median(gd),
        "saddle_updates_gd_effective_eta_median": median(gd_eff),
        "saddle_never_below_level_momentum": float(np.sum(hit[mom] < 0)),
        "saddle_never_below_level_gd_same_eta": float(np.sum(hit[gd] < 0)),
        "saddle_never_below_level_gd_effective_eta": float(np.sum(hit[gd_eff] < 0)),
    }
    replicates = {
        "global_momentum_minus_best_gd": is_global[mom] - np.maximum(is_global[gd], is_global[gd_eff]),
        "saddle_updates_gd_same_eta_minus_momentum": censored[gd] - censored[mom],
        "saddle_updates_gd_effective_eta_minus_momentum": censored[gd_eff] - censored[mom],
    }
    rows = [
        [k, count[k], metrics[f"saddle_updates_{s}_median"], int(np.sum(hit[k] < 0))]
        for k, s in zip(opts, ("gd_same_eta", "gd_effective_eta", "momentum"))
    ]
    first = 0  # the figures follow the first start of each surface
    where = lambda k: "the global" if is_global[k][first] else "the local"
    summary = (
        "Gradient descent with momentum (the lecture's heavy ball: m⁰ = 0, mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ, "
        "so mᵗ is a weighted sum of all past gradients) against plain gradient descent at the same "
        f"η = {eta:g} and at momentum's effective step η/(1−λ) = {eff:g} (what a constant gradient would give), "
        f"{steps} updates each, from {n} random starts per surface (seed {config.seed}). **Tilted double well**, "
        f"starts uniform in θ₁⁰ ∈ [{x_lo:g}, {x_hi:g}], θ₂⁰ ∈ [{y_lo:g}, {y_hi:g}] (right of the barrier at "
        f"θ₁ = {barrier:.3f}; global minimum at {low:.3f}, local at {local:.3f}): "
        + _global_rate(metrics)
        + f" From the first start {_point(dw_starts[first])} GD at η ends in {where(gd)} minimum, GD "
        f"at η/(1−λ) in {where(gd_eff)}, momentum in {where(mom)}. **Saddle** L = (1 − θ₁θ₂)², starts "
        f"{surfaces.SADDLE.start} + N(0, {config.saddle_spread:g}²) (near its stable direction): median updates to "
        f"L < {LEVEL:g}: momentum {_fmt(metrics['saddle_updates_momentum_median'])}, GD at η "
        f"{_fmt(metrics['saddle_updates_gd_same_eta_median'])}, GD at η/(1−λ) "
        f"{_fmt(metrics['saddle_updates_gd_effective_eta_median'])}."
    )
    return Result(
        title="Momentum vs gradient descent at the same and at the effective step",
        summary=summary,
        metrics=metrics,
        replicates=replicates,
        tables={
            f"Over {n} random starts per surface": table(
                ["optimizer", f"double well: starts → global (of {n})", f"saddle: median updates to L < {LEVEL:g}",
                 f"saddle: never below {LEVEL:g} in {steps}"],
                rows,
            )
        },  # fmt: skip
        data={
            "paths": {surfaces.DOUBLE_WELL.name: {k: _first(p, first) for k, p in dw.items()},
                      surfaces.SADDLE.name: {k: _first(p, first) for k, p in sd.items()}},
            "starts": {surfaces.DOUBLE_WELL.name: _point(dw_starts[first]),
                       surfaces.SADDLE.name: _point(sd_starts[first])},
            "dw_starts": np.asarray(dw_starts), "is_global": is_global, "steps": steps,
        },  # fmt: skip
    )


def _point(theta: jax.Array) -> str:
    return "(" + ", ".join(f"{float(v):.2f}" for v in np.asarray(theta)) + ")"


def _first(p: surfaces.Trajectory, i: int) -> surfaces.Trajectory:
    return jax.tree.map(lambda a: a[i], p)


def _fmt(v: float | None) -> str:
    return "— (never)" if v is None else f"{v:.0f}"


def figures(result: Result, out: Path) -> list[Path]:
    paths, starts, steps = result.data["paths"], result.data["starts"], result.data["steps"]
    names = list(next(iter(paths.values())))
    colors = {k: f"C{i}" for i, k in enumerate(names)}
    styles = {k: s for k, s in zip(names, ("-", "--", ":"))}
    low, barrier, local = surfaces.double_well_critical_points()
    figs = []
    for surface in (surfaces.DOUBLE_WELL, surfaces.SADDLE):
        if surface is surfaces.DOUBLE_WELL:
            marks = {"global minimum": surface.minimum, "local minimum": (float(local), 0.0)}
        else:
            marks = {"saddle (0, 0)": (0.0, 0.0)}
        def panel(k, surface=surface, marks=marks):
            th = paths[surface.name][k].theta
            return plot.path_on_surface(
                surfaces.on_grid(surface.f), th, xlim=surface.xlim, ylim=surface.ylim, label=k, color=colors[k],
                style=styles[k], marks=marks, steps=steps,
            )

        # one panel per optimizer: paths that share a stretch cannot hide one another
        figs.append(
            plot.panels(
                out / f"{surface.f.__name__}.png",
                [panel(k) for k in names],
                titles=names,
                suptitle=f"{surface.name}: {steps} updates from {starts[surface.name]} (the first random start)",
                ncols=3,
                panel_size=(5.0, 4.2),
            )
        )
    t = np.arange(steps + 1)
    dw, sd = paths[surfaces.DOUBLE_WELL.name], paths[surfaces.SADDLE.name]
    x0, is_global = result.data["dw_starts"], result.data["is_global"]

    def theta1(ax):
        for k, p in dw.items():
            ax.plot(t, p.theta[:, 0], styles[k], color=colors[k], label=k)
        ax.axhline(barrier, color="gray", ls=":", lw=1)
        ax.set_xlabel("update t")
        ax.set_ylabel("θ₁ᵗ (barrier dotted)")

    def saddle_loss(ax):
        for k, p in sd.items():
            ax.semilogy(t, np.maximum(p.loss, 1e-16), styles[k], color=colors[k], label=k)
        ax.axhline(LEVEL, color="gray", ls=":", lw=1)
        ax.set_xlabel("update t")
        ax.set_ylabel("L(θᵗ) (floor 1e-16)")

    def outcome(ax):
        # where each start ended: one row per optimizer, so that no marker hides another
        for i, k in enumerate(names):
            g = is_global[k].astype(bool)
            ax.plot(x0[g, 0], np.full(g.sum(), i), "o", color=colors[k], ms=4, label=k)
            ax.plot(x0[~g, 0], np.full((~g).sum(), i), "x", color="gray", ms=4)
        ax.set_yticks(range(len(names)), [k.split(",")[0] + ("" if i != 1 else " η/(1−λ)") for i, k in
                                          enumerate(names)], fontsize="x-small")  # fmt: skip
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlabel("start θ₁⁰ (● global minimum, × local)")

    figs.append(
        plot.panels(
            out / "loss_curves.png",
            [theta1, saddle_loss, outcome],
            titles=["double well: θ₁ over time (first start)", "saddle: loss (first start)",
                    f"double well: outcome of all {len(x0)} starts"],  # fmt: skip
            suptitle="Momentum vs GD at the same η and at the effective step η/(1−λ)",
            ncols=3,
            shared_legend=True,
        )
    )
    return figs
