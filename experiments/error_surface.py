"""A fixed learning rate fails on an elongated error surface; optimizers that divide each coordinate's step by its
own σᵢ (Adagrad, RMSProp, Adam) reach the minimum (course §4.3–4.6).

The experiment's randomness is the start point: every claim is judged over ``replicates`` random starts drawn
from ``config.seed`` at the far end of the flat floor (around the lecture's (−9, 0.8)). Negative controls: a round
bowl (``floor_curvature`` = b: no elongation), an η below 1/b (no overshoot), a large "small" η, and
``sigma_division=False`` (σ ≡ 1: Adagrad and RMSProp become GD, Adam an averaged-gradient step, each at its η
capped at the largest stable one, ``eta_large`` < 2/b, so the control fails by stalling, not by diverging).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, flag, integer, number, table, tuple_of

DESCRIPTION = "Elongated surface: no fixed η works (large bounces, small stalls); Adagrad, RMSProp, Adam do"
SECTION = "4.3"

A, B = surfaces.ELONGATED_CURVATURE
CLIP = 10.0  # log-margins are clipped to ±CLIP decades (a diverged run counts as −CLIP)


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    replicates: int = 20  # random starts
    steps: int = 500
    # starts: θ₁⁰ uniform in this range, |θ₂⁰| uniform in that one with a random sign (the far end of the floor)
    start_theta1: tuple[float, float] = (-10.0, -8.0)
    start_theta2: tuple[float, float] = (0.5, 1.0)
    floor_curvature: float = A  # a of L = ½(aθ₁² + bθ₂²); the control sets a = b (a round bowl)
    eta_large: float = 0.0199  # just below 2/b = 0.02, the largest stable η for the steep θ₂
    eta_small: float = 0.002
    eta_momentum: float = 0.0199
    lam: float = 0.9
    eta_adagrad: float = 0.1
    eta_rmsprop: float = 0.05
    # α = 0.99: σ₂² averages g₂² over ~100 updates; at α = 0.9 it follows each bounce across the valley and
    # RMSProp hovers there (‖g‖ ≈ 2.5) instead of settling — the "arrived with its loss stalled"
    alpha: float = 0.99
    eta_adam: float = 0.1
    sigma_division: bool = True  # the control: σ ≡ 1 in Adagrad, RMSProp and Adam
    sweep_size: int = 40  # fixed η, log-spaced from 1e-4 to just under 2/b
    tolerance: float = 0.01  # "reached": ‖θᵀ − θ*‖ below this fraction of ‖θ⁰ − θ*‖ …
    reach_loss: float = 1e-5  # … and L(θᵀ) below this fraction of L⁰ (settled, not hovering)

    QUICK = {"sweep_size": 20}  # the 2-D paths cost little: the same 500 updates

    DOMAINS = {
        "steps": integer(),
        "start_theta1": tuple_of(number(), length=2, ordered=True),
        "start_theta2": tuple_of(number(), length=2, ordered=True),
        "floor_curvature": number(0, low_open=True),
        "eta_large": number(0, low_open=True),
        "eta_small": number(0, low_open=True),
        "eta_momentum": number(0, low_open=True),
        "lam": number(0, 1, high_open=True),
        "eta_adagrad": number(0, low_open=True),
        "eta_rmsprop": number(0, low_open=True),
        "alpha": number(0, 1, high_open=True),
        "eta_adam": number(0, low_open=True),
        "sigma_division": flag(),
        "sweep_size": integer(1, 10**5),
        "tolerance": number(0, low_open=True),
        "reach_loss": number(0, low_open=True),
    }


CLAIMS = (
    Claim(
        "large_eta_bounces",
        "4.3",
        "A fixed η large enough to move along the flat floor bounces between the steep valley walls (θ₂ changes "
        "sign at ≥ 90% of the updates) and does not reach the minimum.",
        reads=("gd_large_theta2_sign_flip_fraction_min", "final_relative_distance_gd_large_min", "tolerance"),
        effect="large_eta_bounce_margin",
        control={"eta_large": 0.009},  # below 1/b: θ₂ shrinks without changing sign
    ),
    Claim(
        "small_eta_stalls",
        "4.3",
        "A small fixed η stops the bouncing, but training stalls along the floor although the gradient is not "
        "small: under half the way along θ₁, with the gradient keeping over half its starting size a·|θ₁⁰|.",
        reads=("gd_small_theta1_progress_max", "gd_small_final_grad_over_floor_grad_min"),
        effect="small_eta_stall_margin",
        control={"eta_small": 0.0199},
    ),
    Claim(
        "no_fixed_eta_works",
        "4.3",
        "No fixed η works for plain gradient descent: of a log-spaced sweep of η up to the stability limit 2/b, "
        "none reaches the minimum (the best one's distance over the tolerance, in decades).",
        reads=("sweep_best_relative_distance_min", "tolerance"),
        effect="sweep_best_decades_over_tolerance",
        control={"floor_curvature": B},  # a round bowl: nothing is elongated
    ),
    Claim(
        "adaptive_reaches_minimum",
        "4.4",
        "Adagrad, RMSProp and Adam, dividing each parameter's step by its own σᵢ, reach the minimum and settle "
        "there (‖θᵀ − θ*‖ under the tolerance and L(θᵀ) < 10⁻⁵·L⁰; the worst of the three, in decades of margin).",
        reads=("starts_reached_adagrad", "starts_reached_rmsprop", "starts_reached_adam", "starts_reached_momentum",
               "starts"),  # fmt: skip
        effect="adaptive_worst_reach_margin",
        control={"sigma_division": False},
        explain=lambda m: (
            f"Reached from {m['starts_reached_adagrad']:.0f}, {m['starts_reached_rmsprop']:.0f} and "
            f"{m['starts_reached_adam']:.0f} of {m['starts']:.0f} starts (Adagrad, RMSProp, Adam). Momentum at a "
            f"fixed η reaches from {m['starts_reached_momentum']:.0f} as well: it is the control with σ ≡ 1, not "
            "momentum, that isolates σ's part."
        ),
    ),
)


def _quadratic(theta, a):
    """L = ½(aθ₁² + bθ₂²) (``surfaces.elongated`` when a = 0.1)."""
    return 0.5 * (a * theta[0] ** 2 + B * theta[1] ** 2)


def _no_sigma_adam(eta: float) -> optax.GradientTransformation:
    """Adam with σ ≡ 1: the bias-corrected β₁-average of g, times −η."""
    return optax.chain(optax.ema(0.9, debias=True), optax.scale(-eta))


def _optimizers(c: Config) -> dict:
    sig = c.sigma_division
    tag = "" if sig else " (σ ≡ 1)"
    # Without σ the step must respect the steep direction, η < 2/b: cap it at the large-but-stable η.
    stable = lambda eta: eta if sig else min(eta, c.eta_large)
    return {
        f"GD, η = {c.eta_large:g} (large)": optim.sgd(c.eta_large),
        f"GD, η = {c.eta_small:g} (small)": optim.sgd(c.eta_small),
        f"momentum, η = {c.eta_momentum:g}, λ = {c.lam:g}": optim.momentum(c.eta_momentum, beta=c.lam),
        f"Adagrad, η = {stable(c.eta_adagrad):g}{tag}": (
            optim.adagrad(c.eta_adagrad) if sig else optim.sgd(stable(c.eta_adagrad))
        ),
        f"RMSProp, η = {stable(c.eta_rmsprop):g}, α = {c.alpha:g}{tag}": (
            optim.rmsprop(c.eta_rmsprop, alpha=c.alpha) if sig else optim.sgd(stable(c.eta_rmsprop))
        ),
        f"Adam, η = {stable(c.eta_adam):g}{tag}": (
            optim.adam(c.eta_adam) if sig else _no_sigma_adam(stable(c.eta_adam))
        ),
    }


def _decades(x: np.ndarray) -> np.ndarray:
    """log10 of a ratio, clipped to ±CLIP; NaN (a diverged run) → −CLIP."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log10(x)
    return np.clip(np.nan_to_num(d, nan=-CLIP, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)


def compute(config: Config) -> Result:
    steps, n = config.steps, config.replicates
    f = functools.partial(_quadratic, a=config.floor_curvature)
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(config.seed), 3)
    (x_lo, x_hi), (y_lo, y_hi) = config.start_theta1, config.start_theta2
    sign = jnp.where(jax.random.bernoulli(k3, 0.5, (n,)), 1.0, -1.0)
    starts = jnp.stack(
        [jax.random.uniform(k1, (n,), minval=x_lo, maxval=x_hi), sign * jax.random.uniform(k2, (n,), minval=y_lo,
                                                                                            maxval=y_hi)], axis=1
    )  # fmt: skip
    runs = _optimizers(config)
    etas = np.geomspace(1e-4, 0.995 * 2 / B, config.sweep_size)  # every fixed η, up to just under 2/b

    @jax.jit  # one program for every optimizer, start and η: one compilation instead of seven
    def run_all(starts):
        paths = {k: jax.vmap(lambda s, o=o: surfaces.trajectory(f, o, s, steps))(starts) for k, o in runs.items()}
        final = jax.vmap(lambda s: jax.vmap(lambda eta: surfaces.trajectory(f, optim.sgd(eta), s, steps).theta[-1])(
            jnp.asarray(etas)))(starts)  # fmt: skip
        return paths, final

    paths, final = jax.tree.map(np.asarray, run_all(starts))
    gd_large, gd_small, mom, ada, rms, adam = runs
    theta0 = np.asarray(starts)
    start_distance = np.linalg.norm(theta0, axis=1)
    tol = config.tolerance * start_distance  # per start
    with np.errstate(all="ignore"):
        dist = {k: np.linalg.norm(p.theta[:, -1], axis=1) for k, p in paths.items()}
    rel_loss = {k: p.loss[:, -1] / p.loss[:, 0] for k, p in paths.items()}
    # per start and optimizer, the margin of "reached and settled", in decades (positive: both criteria hold)
    with np.errstate(all="ignore"):  # a diverged run (the σ ≡ 1 control) has ∞/NaN distances: −CLIP decades
        margin = {k: np.minimum(_decades(tol / dist[k]), _decades(config.reach_loss / rel_loss[k])) for k in runs}
    reached = {k: margin[k] > 0 for k in runs}

    sweep_dist = np.linalg.norm(final, axis=2) / start_distance[:, None]  # (starts, η), relative
    sweep_best = np.nanmin(np.where(np.isfinite(sweep_dist), sweep_dist, np.inf), axis=1)

    grad_norm = {k: np.linalg.norm(p.grad, axis=2) for k, p in paths.items()}
    large_theta2 = paths[gd_large].theta[:, :, 1]
    flips = np.mean(np.sign(large_theta2[:, 1:]) != np.sign(large_theta2[:, :-1]), axis=1)
    small = paths[gd_small].theta
    progress = 1 - np.abs(small[:, -1, 0]) / np.abs(small[:, 0, 0])
    floor_grad = config.floor_curvature * np.abs(theta0[:, 0])  # the gradient along the floor at the start
    grad_ratio = grad_norm[gd_small][:, -1] / floor_grad
    rel_large = dist[gd_large] / start_distance
    replicates = {
        "large_eta_bounce_margin": np.minimum(flips - 0.9, _decades(rel_large / config.tolerance)),
        "small_eta_stall_margin": np.minimum(0.5 - progress, grad_ratio - 0.5),
        "sweep_best_decades_over_tolerance": _decades(sweep_best / config.tolerance),
        "adaptive_worst_reach_margin": np.minimum.reduce([margin[ada], margin[rms], margin[adam]]),
    }
    count = {k: int(reached[k].sum()) for k in runs}
    best_eta = etas[np.argmin(np.where(np.isfinite(sweep_dist), sweep_dist, np.inf), axis=1)]
    metrics = {
        "starts": float(n),
        "initial_loss_first_start": float(paths[gd_large].loss[0, 0]),
        "tolerance": config.tolerance,
        "gd_large_theta2_sign_flip_fraction_min": float(flips.min()),
        "final_relative_distance_gd_large_min": float(rel_large.min()),
        "gd_small_theta1_progress_max": float(progress.max()),
        "gd_small_final_grad_over_floor_grad_min": float(grad_ratio.min()),
        "sweep_best_relative_distance_min": float(sweep_best.min()),
        "sweep_best_eta_median": float(np.median(best_eta)),
        **{f"starts_reached_{s}": float(count[k]) for s, k in zip(
            ("gd_large", "gd_small", "momentum", "adagrad", "rmsprop", "adam"), runs)},
        **{f"median_final_relative_distance_{s}": float(np.median(dist[k] / start_distance)) for s, k in zip(
            ("gd_large", "gd_small", "momentum", "adagrad", "rmsprop", "adam"), runs)},
    }  # fmt: skip
    # "not measurable" (a diverged control run) is None, never NaN or ∞
    metrics = {k: v if v is None or np.isfinite(v) else None for k, v in metrics.items()}
    finite = lambda v: float(v) if np.isfinite(v) else "—"  # noqa: E731  (a diverged control run)
    with np.errstate(all="ignore"):
        rows = [
            [k, f"{count[k]}/{n}", finite(np.median(rel_loss[k])), finite(np.median(grad_norm[k][:, -1])),
             finite(np.median(dist[k] / start_distance))]
            for k in runs
        ]  # fmt: skip
    first = 0
    f0 = tuple(round(float(v), 2) for v in theta0[first])
    reached_names = [k.split(",")[0] for k in runs if count[k] == n]
    summary = (
        f"The convex but elongated surface L = ½({config.floor_curvature:g}θ₁² + {B:g}θ₂²) (curvatures "
        f"{B / config.floor_curvature:.0f}× apart). Every optimizer makes {steps} updates from each of {n} random "
        f"starts (seed {config.seed}): θ₁⁰ ∈ [{x_lo:g}, {x_hi:g}], |θ₂⁰| ∈ [{y_lo:g}, {y_hi:g}]. \"Reached\" "
        f"means ‖θᵀ − θ*‖ < {config.tolerance:g}·‖θ⁰ − θ*‖ and L(θᵀ) < {config.reach_loss:g}·L⁰. Gradient descent "
        f"with η = {config.eta_large:g} (just under the stability limit 2/b = {2 / B:g}) flips the sign of θ₂ on "
        f"{'every one' if flips.min() >= 1 else f'at least {100 * flips.min():.0f}%'} of its updates — it "
        "bounces between the walls — and ends at least "
        f"{rel_large.min():.3g} of the start distance away. With η = {config.eta_small:g} it covers at most "
        f"{100 * progress.max():.0f}% of the way along θ₁ while its gradient keeps at least "
        f"{100 * grad_ratio.min():.0f}% of the floor's starting gradient a·|θ₁⁰|. The best of {config.sweep_size} "
        f"fixed η (median η = {np.median(best_eta):.3g}) ends at least {sweep_best.min():.3g} of the start distance "
        f"away. Reached from every start: {', '.join(reached_names) or 'none'}. Momentum (λ = {config.lam:g}) "
        f"accumulates the small steps along the floor and reaches from {count[mom]} of {n} — a fixed-η method that "
        "works too, so the claim's control is not momentum but σ ≡ 1 (`sigma_division=False`: no division, "
        "η capped at the largest stable one)."
        + ("" if config.sigma_division else " **This run is that control.**")
    )
    return Result(
        title=f"Error surface: fixed η vs per-parameter σ after {steps} updates",
        summary=summary,
        metrics=metrics,
        replicates=replicates,
        tables={
            f"After {steps} updates, over {n} random starts (medians)": table(
                ["optimizer", "reached", "L/L⁰", "‖g‖", "‖θ − θ*‖ / ‖θ⁰ − θ*‖"], rows
            ),
        },
        data={
            "paths": {k: jax.tree.map(lambda a: a[first], p) for k, p in paths.items()},
            "start": f0, "etas": etas, "sweep_distance": sweep_dist, "tolerance": config.tolerance, "steps": steps,
            "f": f, "a": config.floor_curvature, "reach_loss": config.reach_loss,
        },  # fmt: skip
    )


def figures(result: Result, out: Path) -> list[Path]:
    paths, steps, tol, start = (result.data[k] for k in ("paths", "steps", "tolerance", "start"))
    a = result.data["a"]
    s = surfaces.Surface("elongated", result.data["f"], (0.0, 0.0), start, (-10.5, 1.5), (-1.0, 1.0))
    names = list(paths)
    colors = {k: f"C{i}" for i, k in enumerate(names)}
    t = np.arange(steps + 1)
    l0 = float(next(iter(paths.values())).loss[0])
    floor = 1e-12 * l0  # exact zeros (Adam underflows) drawn at the bottom

    def over_time(values: dict, ylabel: str):
        def draw(ax):
            for (k, v), ls in zip(values.items(), ("-", "--", "-.", ":", "-", "--")):
                ok = np.isfinite(v)  # a diverged control run stops where it overflows
                ax.semilogy(t[ok], np.maximum(v[ok], floor), ls, color=colors[k], label=k, linewidth=1.2)
            ax.set_xlabel("update t")
            ax.set_ylabel(ylabel)

        return draw

    sweep = result.data["sweep_distance"]
    etas = result.data["etas"]

    def sweep_panel(ax):
        for row in sweep:
            ok = np.isfinite(row)
            ax.loglog(etas[ok], row[ok], "-", color="C0", alpha=0.3, lw=0.8)
        ax.loglog(etas, np.median(sweep, axis=0), "o-", color="C0", ms=3, label="median over the starts")
        ax.axhline(tol, color="gray", ls=":", label=f"'reached' threshold {tol:g}")
        ax.set_xlabel("η (all < 2/b)")
        ax.set_ylabel("‖θᵀ − θ*‖ / ‖θ⁰ − θ*‖")
        ax.legend(fontsize="x-small")

    reach_loss = result.data["reach_loss"]
    ends = [
        k.split(",")[0]
        for k, p in paths.items()
        if np.linalg.norm(p.theta[-1]) < tol * np.linalg.norm(start) and p.loss[-1] < reach_loss * p.loss[0]
    ]
    return [
        plot.panels(
            out / "trajectories.png",
            [plot.path_on_surface(surfaces.on_grid(s.f), p.theta, xlim=s.xlim, ylim=s.ylim, label=k,
                                  color=colors[k], marks={"minimum": (0.0, 0.0)}, steps=steps)
             for k, p in paths.items()],
            titles=names,
            suptitle=f"L = ½({a:g}θ₁² + {B:g}θ₂²): {steps} updates from {start} (the first random start), "
            "one optimizer per panel",
            ncols=3,
            panel_size=(5.0, 3.6),
        ),  # fmt: skip
        plot.panels(
            out / "loss_and_gradient.png",
            [
                over_time({k: p.loss for k, p in paths.items()}, f"L(θᵗ) (floor {floor:.0e})"),
                over_time({k: np.linalg.norm(p.grad, axis=1) for k, p in paths.items()}, "‖gᵗ‖"),
            ],
            titles=["loss", "gradient norm"],
            suptitle=f"First start, reached after {steps} updates: {', '.join(ends) or 'none'}",
            ncols=2,
            shared_legend=True,
        ),
        plot.panels(
            out / "fixed_eta_sweep.png",
            [sweep_panel],
            titles=[f"After {steps} updates with a fixed η, {len(sweep)} starts"],
            suptitle=f"GD: the best fixed η ends ≥ {np.nanmin(sweep):.3g}·‖θ⁰ − θ*‖ away",
            ncols=1,
            panel_size=(6.6, 4.2),
        ),
    ]
