"""Adam with a constant η bursts late in training, when σ has shrunk; a decaying η (with or without warm-up)
does not (course §4.6–4.7).

The experiment's randomness is the start point: every claim is judged over ``replicates`` random starts drawn
from ``config.seed`` around the lecture's start on the elongated surface, the three schedules paired on each
start. The negative control ``eps = 1`` bounds σ + ε from below: no division by a vanishing σ, no bursts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.optim import schedules
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table, tuple_of

DESCRIPTION = "Adam without decay bursts as σ shrinks; learning-rate decay or warm-up + decay remove the bursts"
SECTION = "4.7"

#: "converged": the loss below this fraction of L⁰; a "burst": afterwards, a jump from below to above BURST·L⁰
CONVERGED = 1e-8
BURST = 1e-5


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    replicates: int = 20  # random starts
    steps: int = 3000
    eta: float = 0.1
    b2: float = 0.99  # σ forgets within ~1/(1−β₂) = 100 steps, so the bursts come within a short run
    eps: float = 1e-8  # Adam's ε in σ + ε; the control sets 1: σ + ε cannot shrink, the step stays bounded
    half_life: int = 150  # of the exponential decay: faster than σ's own decay (√β₂ per step)
    warmup_steps: int = 100
    # starts: θ₁⁰ uniform in this range, |θ₂⁰| uniform in that one with a random sign (around the lecture's start)
    start_theta1: tuple[float, float] = (-10.0, -8.0)
    start_theta2: tuple[float, float] = (0.5, 1.0)

    QUICK = {"steps": 1500}

    DOMAINS = {
        "steps": integer(),
        "eta": number(0, low_open=True),
        "b2": number(0, 1, high_open=True),
        "eps": number(0),
        "half_life": integer(),
        "warmup_steps": integer(0),
        "start_theta1": tuple_of(number(), length=2, ordered=True),
        "start_theta2": tuple_of(number(), length=2, ordered=True),
    }


CONTROL = {"eps": 1.0}  # no division by a vanishing σ: the mechanism of the bursts is gone

CLAIMS = (
    Claim(
        "constant_eta_bursts",
        "4.7",
        "Adam with a constant η bursts late in training: after the loss has converged (below 1e-8·L⁰) it jumps "
        "back up (above 1e-5·L⁰) again and again (≥ 3 bursts; effect: bursts − 3 per start).",
        reads=("bursts_constant_min", "bursts_constant_median", "converged_update_constant_median"),
        effect="bursts_constant_minus_3",
        control=CONTROL,
    ),
    Claim(
        "sigma_shrinks_first",
        "4.7",
        "The bursts come when σ has shrunk: before the first burst, σ₂ had fallen below 1% of its value at the "
        "start (effect: decades below 1%; a start without a burst counts as −1).",
        reads=("sigma2_before_first_burst_over_start_max",),
        effect="sigma2_decades_below_one_percent",
        control=CONTROL,
    ),
    Claim(
        "decay_removes_bursts",
        "4.7",
        "Learning-rate decay, with or without warm-up, removes the bursts (paired per start: the constant η's "
        "bursts where both decayed runs converge and have none; minus their bursts where they have some; −1 where "
        "one never converges).",
        reads=("bursts_decay_max", "bursts_warmup_decay_max", "starts_converged_decay",
               "starts_converged_warmup_decay", "starts"),  # fmt: skip
        effect="bursts_removed_by_decay",
        control=CONTROL,
    ),
)


def _bursts(loss: np.ndarray) -> tuple[int, int, float | None, int]:
    """(first update with L < CONVERGED·L⁰ or −1, the number of bursts after it, the largest L/L⁰ after it (None
    if it never converged), the update of the first burst or −1)."""
    ratio = loss / loss[0]
    converged = np.nonzero(ratio < CONVERGED)[0]
    if not converged.size:
        return -1, 0, None, -1
    t0 = int(converged[0])
    late = ratio[t0:]
    jumps = np.nonzero((late[1:] > BURST) & (late[:-1] <= BURST))[0]
    first = int(t0 + 1 + jumps[0]) if jumps.size else -1
    return t0, int(jumps.size), float(late.max()), first


def _at_most(n: int) -> str:
    return "none" if n == 0 else f"at most {n}"


def compute(config: Config) -> Result:
    s = surfaces.ELONGATED
    steps, n = config.steps, config.replicates
    decay = schedules.exponential_decay(config.eta, 0.5, config.half_life)
    etas = {
        f"constant η = {config.eta:g}": schedules.constant(config.eta),
        f"exponential decay (half-life {config.half_life})": decay,
        f"warm-up {config.warmup_steps} + decay": schedules.linear_warmup(decay, config.warmup_steps),
    }
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(config.seed), 3)
    (x_lo, x_hi), (y_lo, y_hi) = config.start_theta1, config.start_theta2
    sign = jnp.where(jax.random.bernoulli(k3, 0.5, (n,)), 1.0, -1.0)
    starts = jnp.stack([jax.random.uniform(k1, (n,), minval=x_lo, maxval=x_hi),
                        sign * jax.random.uniform(k2, (n,), minval=y_lo, maxval=y_hi)], axis=1)  # fmt: skip
    # one compiled program for the three schedules and every start
    run_all = jax.jit(lambda x0: {
        k: jax.vmap(lambda x, e=e: surfaces.trajectory(s.f, optim.adam(e, b2=config.b2, eps=config.eps), x, steps))(x0)
        for k, e in etas.items()
    })  # fmt: skip
    paths = jax.tree.map(np.asarray, run_all(starts))
    for k, p in paths.items():  # a blow-up that stays finite (η far too large): no burst count means anything
        growth = float(np.max(p.loss / p.loss[:, :1]))
        if not np.isfinite(growth) or growth > 1e6:
            raise FloatingPointError(f"the loss of {k} grew to {growth:.3g}× its start (η too large)")
    # σ of Adam's denominator, √v̂, read from the optimizer state by optim.sigma (the state keeps the raw ν)
    adam = {k: optim.adam(e, b2=config.b2, eps=config.eps) for k, e in etas.items()}
    sigma2 = {k: np.asarray(optim.sigma(adam[k], p.state))[..., 1] for k, p in paths.items()}
    eta_t = {k: np.asarray(jax.jit(jax.vmap(e))(jnp.arange(steps))) for k, e in etas.items()}
    bursts = {k: [_bursts(row) for row in p.loss] for k, p in paths.items()}  # per start
    const, dec, warm = etas
    t0 = {k: np.array([b[0] for b in v]) for k, v in bursts.items()}
    count = {k: np.array([b[1] for b in v], dtype=np.int64) for k, v in bursts.items()}
    first = np.array([b[3] for b in bursts[const]])
    # σ₂ just before the first burst (the state after update first−1 is the σ used at that update)
    sig = sigma2[const]
    before = np.array([sig[i, f - 1] / sig[i, 0] if f > 0 else np.nan for i, f in enumerate(first)])
    has = first > 0
    converged_both = (t0[dec] >= 0) & (t0[warm] >= 0)
    replicates = {
        "bursts_constant_minus_3": count[const] - 3,
        "sigma2_decades_below_one_percent": np.where(has, -2 - np.log10(np.where(has, before, 1.0)), -1.0),
        "bursts_removed_by_decay": np.where(
            converged_both & (count[dec] == 0) & (count[warm] == 0),
            count[const],
            np.where(converged_both, -(count[dec] + count[warm]), -1),
        ),
    }
    opt_max = lambda v: float(np.max(v)) if np.size(v) else None
    metrics = {
        "starts": float(n),
        "bursts_constant_min": float(count[const].min()),
        "bursts_constant_median": float(np.median(count[const])),
        "bursts_decay_max": float(count[dec].max()),
        "bursts_warmup_decay_max": float(count[warm].max()),
        "converged_update_constant_median": float(np.median(t0[const][t0[const] >= 0])) if np.any(t0[const] >= 0)
        else None,
        "starts_converged_constant": float(np.sum(t0[const] >= 0)),
        "starts_converged_decay": float(np.sum(t0[dec] >= 0)),
        "starts_converged_warmup_decay": float(np.sum(t0[warm] >= 0)),
        "starts_with_a_burst_constant": float(np.sum(has)),
        "sigma2_before_first_burst_over_start_max": opt_max(before[has]),
        "median_final_loss_constant": float(np.median(paths[const].loss[:, -1])),
        "median_final_loss_decay": float(np.median(paths[dec].loss[:, -1])),
        "median_final_loss_warmup_decay": float(np.median(paths[warm].loss[:, -1])),
    }  # fmt: skip
    i = 0  # the first start: the figures and the narrative's single-path numbers
    t0_i, n_i, largest_i, first_i = bursts[const][i]
    sigma_i = float(before[i]) if has[i] else None
    rows = [
        [k, f"{int(np.sum(t0[k] >= 0))}/{n}", float(np.median(t0[k][t0[k] >= 0])) if np.any(t0[k] >= 0) else "—",
         int(count[k].min()), int(count[k].max()), float(np.median(paths[k].loss[:, -1]))]
        for k in etas
    ]  # fmt: skip
    first_sentence = (
        f"From the first start, {_point(starts[i])}, the loss converges (below {CONVERGED:g}·L⁰) at update {t0_i}; "
        "then the gradients vanish and σ₂, an average of recent g₂², shrinks by √β₂ per update"
        + (
            f" — to {sigma_i:.2g} of its start before the first burst (update {first_i}). The tiny remaining "
            f"gradient divided by a tiny σ makes a large step: the loss jumps back above {BURST:g}·L⁰ {n_i} times "
            f"(up to {largest_i:.2g}·L⁰), each jump inflating σ again until the cycle repeats"
            if sigma_i is not None
            else f"; it does not burst ({n_i} jumps above {BURST:g}·L⁰)"
        )
    )
    return Result(
        title=f"Adam's late bursts (β₂ = {config.b2:g}): median {np.median(count[const]):.0f} with a constant η, "
        f"{_at_most(count[dec].max())} with decay and {_at_most(count[warm].max())} with warm-up + decay",
        summary=(
            "Adam's step is ηᵗ·m̂/(σ + ε). On the elongated quadratic L = ½(0.1θ₁² + 100θ₂²), "
            f"{steps} updates, β₂ = {config.b2:g}, ε = {config.eps:g}, from {n} random starts (seed {config.seed}; "
            f"θ₁⁰ ∈ [{x_lo:g}, {x_hi:g}], |θ₂⁰| ∈ [{y_lo:g}, {y_hi:g}]). {first_sentence}. Over all starts a "
            f"constant η gives {count[const].min()}–{count[const].max()} bursts (converged from "
            f"{int(np.sum(t0[const] >= 0))} of {n}); σ₂ before the first burst is at most "
            + (f"{np.max(before[has]):.2g}" if np.any(has) else "— (no burst)")
            + f" of its start. An exponential decay of η (half-life {config.half_life} updates) gives at most "
            f"{count[dec].max()} bursts (converged from {int(np.sum(t0[dec] >= 0))}): by the time σ is small, so "
            f"is the step. A {config.warmup_steps}-update linear warm-up + decay gives at most {count[warm].max()} "
            f"(converged from {int(np.sum(t0[warm] >= 0))}). σ² averages g² over about 1/(1−β₂) = "
            f"{1 / (1 - config.b2):.0f} updates (σ itself halves in {np.log(0.5) / np.log(np.sqrt(config.b2)):.0f} "
            "once g ≈ 0)."
        ),
        metrics=metrics,
        replicates=replicates,
        tables={
            f"Bursts after converging (L < {CONVERGED:g}·L⁰): jumps back above {BURST:g}·L⁰, over {n} starts": table(
                ["η schedule", "converged", "converged at update (median)", "bursts (min)", "bursts (max)",
                 "final loss (median)"], rows,
            )  # fmt: skip
        },
        data={
            "paths": {k: jax.tree.map(lambda a: a[i], p) for k, p in paths.items()},
            "sigma2": {k: v[i] for k, v in sigma2.items()},
            "eta_t": eta_t, "steps": steps, "b2": config.b2,
            "first": {"bursts": [bursts[k][i][1] for k in etas], "sigma_before": sigma_i},
        },  # fmt: skip
    )


def _point(theta: jax.Array) -> str:
    return "(" + ", ".join(f"{float(v):.2f}" for v in np.asarray(theta)) + ")"


def figures(result: Result, out: Path) -> list[Path]:
    s = surfaces.ELONGATED
    paths, sigma2, eta_t, steps, b2 = (result.data[k] for k in ("paths", "sigma2", "eta_t", "steps", "b2"))
    first = result.data["first"]
    colors = {k: f"C{i}" for i, k in enumerate(paths)}
    t = np.arange(steps + 1)
    tiny = 1e-30  # log axes: exact zeros are drawn at the bottom

    def draw(series: dict, ylabel: str, x: np.ndarray, log: bool = True, floor: float | None = None):
        def fn(ax):
            for k, v in series.items():
                v = np.asarray(v)
                ax.plot(x[: len(v)], np.maximum(v, floor or tiny) if log else v, color=colors[k], label=k, lw=1)
            if log:
                ax.set_yscale("log")
            ax.set_xlabel("update t")
            ax.set_ylabel(ylabel)

        return fn

    l0 = float(next(iter(paths.values())).loss[0])
    return [
        plot.contour(
            out / "trajectory.png",
            surfaces.on_grid(s.f),
            s.xlim,
            s.ylim,
            title=f"Adam (β₂ = {b2:g}) on L = ½(0.1θ₁² + 100θ₂²): {steps} updates, first start",
            trajectories={k: p.theta for k, p in paths.items()},
            points={"minimum": s.minimum},
            log_levels=True,
            level_range=(1e-6, 3 * l0),
            levels=16,
            inset=((-0.02, 0.02), (-0.004, 0.004)),
            inset_bounds=(0.58, 0.58, 0.4, 0.38),
            legend_loc="below",
            colors=colors,
        ),
        plot.panels(
            out / "loss_sigma_step.png",
            [
                draw({k: p.loss / l0 for k, p in paths.items()}, "L(θᵗ)/L⁰ (floor 1e-20)", t, floor=1e-20),
                draw(sigma2, "σ₂ = √v̂₂", t[1:]),
                draw({k: np.abs(np.diff(p.theta[:, 1])) for k, p in paths.items()}, "|θ₂ᵗ⁺¹ − θ₂ᵗ|", t[1:],
                     floor=1e-20),
                draw(eta_t, "ηᵗ", t[:-1], log=False),
            ],
            titles=[
                "loss; bursts " + " / ".join(str(b) for b in first["bursts"]) + " (legend order)",
                "σ₂ before the first burst: "
                + (f"{first['sigma_before']:.2g}× its start" if first["sigma_before"] is not None else "no burst"),
                "the step across the valley",
                "learning rate ηᵗ",
            ],
            suptitle=f"Adam (β₂ = {b2:g}), the first random start: the step is ηᵗ·m̂/(σ + ε)",
            ncols=2,
            shared_legend=True,
        ),
    ]  # fmt: skip
