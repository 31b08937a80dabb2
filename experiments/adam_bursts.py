"""Adam with a constant η bursts late in training, when σ has shrunk; a decaying η (with or without warm-up)
does not (SCOPE §4.6–4.7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import optim, plot, surfaces
from jaxml.optim import schedules
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Adam without decay bursts as σ shrinks; learning-rate decay or warm-up + decay remove the bursts"
SECTION = "4.7"

#: "converged": the loss below this fraction of L⁰; a "burst": afterwards, a jump from below to above BURST·L⁰
CONVERGED = 1e-8
BURST = 1e-5


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    steps: int = 3000
    eta: float = 0.1
    b2: float = 0.99  # σ forgets within ~1/(1−β₂) = 100 steps, so the bursts come within a short run
    half_life: int = 150  # of the exponential decay: faster than σ's own decay (√β₂ per step)
    warmup_steps: int = 100

    QUICK = {"steps": 1500}


CLAIMS = (
    Claim(
        "constant_eta_bursts",
        "4.7",
        "Adam with a constant η bursts late in training: after the loss has converged (below 1e-8·L⁰) it jumps "
        "back up (above 1e-5·L⁰) again and again (≥ 3 bursts).",
        lambda m: m["bursts_constant"] >= 3,
        reads=("bursts_constant", "converged_update_constant", "largest_late_loss_ratio_constant"),
    ),
    Claim(
        "sigma_shrinks_first",
        "4.7",
        "The bursts come when σ has shrunk: before the first burst, σ₂ had fallen below 1% of its value at the start.",
        lambda m: m["sigma2_before_first_burst_over_start"] < 1e-2,
        reads=("sigma2_before_first_burst_over_start",),
    ),
    Claim(
        "decay_removes_bursts",
        "4.7",
        "Learning-rate decay, with or without warm-up, removes the bursts (none after converging).",
        lambda m: m["bursts_decay"] == 0 and m["bursts_warmup_decay"] == 0 and m["converged_update_decay"] >= 0,
        reads=("bursts_decay", "bursts_warmup_decay", "converged_update_decay", "converged_update_warmup_decay"),
    ),
)


def _bursts(loss: np.ndarray) -> tuple[int, int, float, int]:
    """(first update with L < CONVERGED·L⁰ or −1, the number of bursts after it, the largest L/L⁰ after it,
    the update of the first burst or −1)."""
    ratio = loss / loss[0]
    converged = np.nonzero(ratio < CONVERGED)[0]
    if not converged.size:
        return -1, 0, float("nan"), -1
    t0 = int(converged[0])
    late = ratio[t0:]
    jumps = np.nonzero((late[1:] > BURST) & (late[:-1] <= BURST))[0]
    first = int(t0 + 1 + jumps[0]) if jumps.size else -1
    return t0, int(jumps.size), float(late.max()), first


def compute(config: Config) -> Result:
    s = surfaces.ELONGATED
    steps = config.steps
    decay = schedules.exponential_decay(config.eta, 0.5, config.half_life)
    etas = {
        f"constant η = {config.eta:g}": schedules.constant(config.eta),
        f"exponential decay (half-life {config.half_life})": decay,
        f"warm-up {config.warmup_steps} + decay": schedules.linear_warmup(decay, config.warmup_steps),
    }
    paths = {
        k: jax.tree.map(np.asarray, surfaces.trajectory(s.f, optim.adam(e, b2=config.b2), jnp.asarray(s.start), steps))
        for k, e in etas.items()
    }
    # σ of Adam's denominator, √v̂, read from the optimizer state (by name: its layout is the optimizer's business)
    sigma2 = {k: np.sqrt(np.asarray(optax.tree_utils.tree_get(p.state, "sigma_sq"))[:, 1]) for k, p in paths.items()}
    eta_t = {k: np.asarray(jax.jit(jax.vmap(e))(jnp.arange(steps))) for k, e in etas.items()}
    bursts = {k: _bursts(p.loss) for k, p in paths.items()}
    const, dec, warm = etas
    t0, n_bursts, largest, first = bursts[const]
    # σ₂ just before the first burst (state after update first−1 is σ used at that update)
    sigma_before = float(sigma2[const][first - 1] / sigma2[const][0]) if first > 0 else float("nan")
    metrics = {
        "bursts_constant": float(n_bursts),
        "bursts_decay": float(bursts[dec][1]),
        "bursts_warmup_decay": float(bursts[warm][1]),
        "converged_update_constant": float(t0),
        "converged_update_decay": float(bursts[dec][0]),
        "converged_update_warmup_decay": float(bursts[warm][0]),
        "first_burst_update_constant": float(first),
        "largest_late_loss_ratio_constant": largest,
        "largest_late_loss_ratio_decay": bursts[dec][2],
        "largest_late_loss_ratio_warmup_decay": bursts[warm][2],
        "sigma2_before_first_burst_over_start": sigma_before,
        "final_loss_constant": float(paths[const].loss[-1]),
        "final_loss_decay": float(paths[dec].loss[-1]),
        "final_loss_warmup_decay": float(paths[warm].loss[-1]),
    }
    rows = [[k, bursts[k][0], bursts[k][1], bursts[k][2], paths[k].loss[-1]] for k in etas]
    return Result(
        title=f"Adam's late bursts (β₂ = {config.b2:g}): {n_bursts} with a constant η, "
        f"{bursts[dec][1]} with decay, {bursts[warm][1]} with warm-up + decay",
        summary=(
            "Adam's step is ηᵗ·m̂/(σ + ε). On the elongated quadratic L = ½(0.1θ₁² + 100θ₂²) from "
            f"{s.start} (L⁰ = {float(paths[const].loss[0]):.3g}), {steps} updates, β₂ = {config.b2:g}: the loss "
            f"converges (below {CONVERGED:g}·L⁰) at update {t0}; then the gradients vanish and σ₂, an average of "
            f"recent g₂², shrinks by √β₂ per update — to {sigma_before:.2g} of its start before the first burst "
            f"(update {first}). The tiny remaining gradient divided by a tiny σ makes a large step: the loss "
            f"jumps back above {BURST:g}·L⁰ {n_bursts} times (up to {largest:.2g}·L⁰), each jump inflating σ "
            "again until the cycle repeats — the lecture's bursts late in training. An exponential decay of η "
            f"(half-life {config.half_life} updates; ηᵗ is {0.5 ** (first / config.half_life):.2g} of η⁰ at "
            f"update {first}) gives {bursts[dec][1]} bursts: by the time σ is small, so is the step. A "
            f"{config.warmup_steps}-update linear warm-up gives {bursts[warm][1]}. σ² averages g² over about "
            f"1/(1−β₂) = {1 / (1 - config.b2):.0f} updates (σ itself halves in "
            f"{np.log(0.5) / np.log(np.sqrt(config.b2)):.0f} once g ≈ 0)."
        ),
        metrics=metrics,
        tables={
            f"Bursts after converging (L < {CONVERGED:g}·L⁰): jumps back above {BURST:g}·L⁰": table(
                ["η schedule", "converged at update", "bursts", "largest L/L⁰ afterwards", "final loss"], rows
            )
        },
        data={"paths": paths, "sigma2": sigma2, "eta_t": eta_t, "steps": steps, "b2": config.b2},
    )


def figures(result: Result, out: Path) -> list[Path]:
    s = surfaces.ELONGATED
    paths, sigma2, eta_t, steps, b2 = (result.data[k] for k in ("paths", "sigma2", "eta_t", "steps", "b2"))
    m = result.metrics
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
            title=f"Adam (β₂ = {b2:g}) on L = ½(0.1θ₁² + 100θ₂²): all {steps} updates",
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
                f"loss; bursts {m['bursts_constant']:.0f} / {m['bursts_decay']:.0f} / {m['bursts_warmup_decay']:.0f} "
                "(legend order)",
                f"σ₂ before the first burst: {m['sigma2_before_first_burst_over_start']:.2g}× its start",
                "the step across the valley",
                "learning rate ηᵗ",
            ],
            suptitle=f"Adam (β₂ = {b2:g}): the step is ηᵗ·m̂/(σ + ε)",
            ncols=2,
            shared_legend=True,
        ),
    ]  # fmt: skip
