"""Adagrad's σ remembers every past gradient, RMSProp's forgets: on a crescent-shaped valley RMSProp gets much
further (course §4.4–4.5).

The experiment's randomness is the start point: every claim is judged over ``replicates`` random starts drawn
from ``config.seed`` on the crescent's steep left arm (around the classic (−1.2, 1)), the two optimizers paired on
each start. The negative control ``alpha = 0.9999`` makes RMSProp's σ remember (an α-average over ~10⁴ updates,
longer than the run): the forgetting the lecture credits is gone.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import optim, plot, surfaces
from jaxml.report import Claim, ExperimentConfig, Result, integer, number, table, tuple_of

DESCRIPTION = "Crescent (Rosenbrock) valley: Adagrad's all-history σ crawls, RMSProp's α-average adapts"
SECTION = "4.5"

CONTROL = {"alpha": 0.9999}  # RMSProp's σ no longer forgets within the run


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    replicates: int = 100  # random starts (2-D paths, vmapped: cheap)
    steps: int = 3000
    eta: float = 0.005
    alpha: float = 0.9
    radius: float = 0.5  # "near the minimum": ‖θ − θ*‖ below this
    start_theta1: tuple[float, float] = (-1.5, -0.9)  # starts uniform in this box
    start_theta2: tuple[float, float] = (0.5, 1.5)

    QUICK = {"steps": 1500}

    DOMAINS = {
        "steps": integer(),
        "eta": number(0, low_open=True),
        "alpha": number(0, 1, high_open=True),
        "radius": number(0, low_open=True),
        "start_theta1": tuple_of(number(), length=2, ordered=True),
        "start_theta2": tuple_of(number(), length=2, ordered=True),
    }


CLAIMS = (
    Claim(
        "adagrad_sigma_remembers",
        "4.4",
        "Adagrad's σ is the root mean square of all past gradients, so it keeps the steep start's large "
        "gradients: at the end its σ is over 2× RMSProp's in both coordinates, on average over random starts "
        "(effect: log₂ of the smaller "
        "ratio − 1, per start).",
        reads=("final_sigma_ratio_adagrad_over_rmsprop_min",),
        effect="log2_sigma_ratio_minus_1",
        control=CONTROL,
    ),
    Claim(
        "rmsprop_gets_further",
        "4.5",
        "RMSProp's σ, an α-weighted average, forgets the steep start and speeds up along the curved floor: after "
        "the same number of updates at the same η it is at least 4× closer to the minimum than Adagrad, on "
        "average over random starts "
        "(effect: log₂ of the distance ratio − 2, per start).",
        reads=("median_final_distance_rmsprop", "median_final_distance_adagrad", "closer_ratio_min"),
        effect="log2_closer_minus_2",
        control=CONTROL,
    ),
    Claim(
        "rmsprop_near_sooner",
        "4.5",
        "RMSProp gets near the minimum (‖θ − θ*‖ < 0.5) in fewer updates than Adagrad (paired per start; a run "
        "that never gets there counts as steps + 1, which can only understate RMSProp's lead).",
        reads=("median_steps_to_near_rmsprop", "median_steps_to_near_adagrad", "starts_near_rmsprop",
               "starts_near_adagrad", "starts"),  # fmt: skip
        effect="steps_to_near_adagrad_minus_rmsprop",
        control=CONTROL,
    ),
)


def _first_within(d: np.ndarray, r: float) -> np.ndarray:
    """Per row, the first update with distance < r; ``-1`` where never."""
    hit = d < r
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def compute(config: Config) -> Result:
    s = surfaces.CRESCENT
    steps, n = config.steps, config.replicates
    k1, k2 = jax.random.split(jax.random.PRNGKey(config.seed))
    (x_lo, x_hi), (y_lo, y_hi) = config.start_theta1, config.start_theta2
    starts = jnp.stack([jax.random.uniform(k1, (n,), minval=x_lo, maxval=x_hi),
                        jax.random.uniform(k2, (n,), minval=y_lo, maxval=y_hi)], axis=1)  # fmt: skip
    runs = {
        f"RMSProp (η = {config.eta:g}, α = {config.alpha:g})": optim.rmsprop(config.eta, alpha=config.alpha),
        f"Adagrad (η = {config.eta:g})": optim.adagrad(config.eta),
    }
    # one compiled program for both optimizers and every start
    run_all = jax.jit(lambda x0: {k: jax.vmap(lambda x, o=o: surfaces.trajectory(s.f, o, x, steps))(x0)
                                  for k, o in runs.items()})  # fmt: skip
    paths = jax.tree.map(np.asarray, run_all(starts))
    dist = {k: np.linalg.norm(p.theta - np.asarray(s.minimum), axis=2) for k, p in paths.items()}  # (n, T+1)
    # σ of each coordinate over time (optim.sigma: the state's layout is the optimizer's business)
    sigma = {k: np.asarray(optim.sigma(runs[k], p.state)) for k, p in paths.items()}
    rms, ada = runs
    near = {k: _first_within(dist[k], config.radius) for k in runs}
    censored = {k: np.where(v < 0, steps + 1, v).astype(np.int64) for k, v in near.items()}
    ratio = sigma[ada][:, -1] / sigma[rms][:, -1]  # (n, 2)
    closer = dist[ada][:, -1] / np.maximum(dist[rms][:, -1], 1e-30)
    median_near = lambda k: float(np.median(near[k][near[k] >= 0])) if np.any(near[k] >= 0) else None
    replicates = {
        "log2_sigma_ratio_minus_1": np.log2(ratio.min(axis=1)) - 1,
        "log2_closer_minus_2": np.log2(closer) - 2,
        "steps_to_near_adagrad_minus_rmsprop": censored[ada] - censored[rms],
    }
    metrics = {
        "starts": float(n),
        "median_final_distance_adagrad": float(np.median(dist[ada][:, -1])),
        "median_final_distance_rmsprop": float(np.median(dist[rms][:, -1])),
        "median_final_loss_adagrad": float(np.median(paths[ada].loss[:, -1])),
        "median_final_loss_rmsprop": float(np.median(paths[rms].loss[:, -1])),
        "closer_ratio_min": float(closer.min()),
        "closer_ratio_median": float(np.median(closer)),
        "median_steps_to_near_rmsprop": median_near(rms),
        "median_steps_to_near_adagrad": median_near(ada),
        "starts_near_rmsprop": float(np.sum(near[rms] >= 0)),
        "starts_near_adagrad": float(np.sum(near[ada] >= 0)),
        "final_sigma_ratio_adagrad_over_rmsprop_min": float(ratio.min()),
        "final_sigma_ratio_adagrad_over_rmsprop_max": float(ratio.max()),
    }
    first = 0

    def when(k: str) -> str:
        m = metrics[f"median_steps_to_near_{'rmsprop' if k == rms else 'adagrad'}"]
        got = int(np.sum(near[k] >= 0))
        return f"from {got} of {n} starts" + (f" (median {m:.0f} updates)" if m is not None else "")

    rows = [
        [k, float(np.median(paths[k].loss[:, -1])), float(np.median(dist[k][:, -1])),
         f"{int(np.sum(near[k] >= 0))}/{n}", median_near(k) if median_near(k) is not None else "—",
         *np.median(sigma[k][:, -1], axis=0)]
        for k in runs
    ]  # fmt: skip
    return Result(
        title=f"RMSProp vs Adagrad on a crescent: {np.median(closer):.3g}× closer (median) after {steps} updates",
        summary=(
            "On the Rosenbrock crescent the gradient is huge on the steep walls and tiny on the curved floor. "
            "Adagrad's σ is the root mean square of *all* past gradients, so the large gradients of the first "
            "descent keep its steps small long after it reached the floor; RMSProp's σ is an α-weighted "
            f"average (α = {config.alpha:g}, σ⁰ = |g⁰|) that forgets them. From {n} random starts (seed "
            f"{config.seed}; θ₁⁰ ∈ [{x_lo:g}, {x_hi:g}], θ₂⁰ ∈ [{y_lo:g}, {y_hi:g}]), {steps} updates at the same "
            f"η = {config.eta:g}: Adagrad's final σ is {ratio.min():.3g}–{ratio.max():.3g}× RMSProp's (per "
            f"coordinate and start), and RMSProp ends {np.median(closer):.3g}× closer to the minimum (median; "
            f"at least {closer.min():.3g}×). Within {config.radius:g} of the minimum: RMSProp {when(rms)}, "
            f"Adagrad {when(ada)}."
        ),
        metrics=metrics,
        replicates=replicates,
        tables={
            f"After {steps} updates, over {n} random starts (medians)": table(
                ["optimizer", "loss", "‖θ − θ*‖", f"got within {config.radius:g}", "updates to get there", "σ₁",
                 "σ₂"], rows,
            )  # fmt: skip
        },
        data={
            "paths": {k: jax.tree.map(lambda a: a[first], p) for k, p in paths.items()},
            "distance": {k: d[first] for k, d in dist.items()},
            "sigma": {k: sg[first] for k, sg in sigma.items()},
            "closer": closer, "steps": steps, "metrics_first": (float(ratio[first].min()), float(ratio[first].max()),
                                                                float(closer[first])),
        },  # fmt: skip
    )


def figures(result: Result, out: Path) -> list[Path]:
    s = surfaces.CRESCENT
    paths, dist, sigma, steps = (result.data[k] for k in ("paths", "distance", "sigma", "steps"))
    lo, hi, closer = result.data["metrics_first"]
    colors = {k: f"C{i}" for i, k in enumerate(paths)}
    styles = {k: ls for k, ls in zip(paths, ("-", "--"))}
    t = np.arange(steps + 1)
    start = tuple(round(float(v), 2) for v in next(iter(paths.values())).theta[0])

    def distance(ax):
        for k, d in dist.items():
            ax.semilogy(t, d, styles[k], color=colors[k], label=k)
        ax.set_xlabel("update t")
        ax.set_ylabel("‖θᵗ − (1, 1)‖")

    def sigmas(ax):
        for k, sg in sigma.items():
            for i, ls in ((0, "-"), (1, "--")):
                ax.semilogy(t[1:], sg[:, i], ls, color=colors[k], label=f"{k.split()[0]} σ{'₁₂'[i]}")
        ax.set_xlabel("update t")
        ax.set_ylabel("σᵢᵗ (solid σ₁, dashed σ₂)")

    def spread(ax):
        c = np.sort(result.data["closer"])
        ax.semilogy(np.arange(1, len(c) + 1), c, "o", color="C0")
        ax.axhline(4.0, color="gray", ls=":", label="4× (the claim)")
        ax.set_xlabel("start (sorted)")
        ax.set_ylabel("Adagrad's distance / RMSProp's")
        ax.legend(fontsize="x-small")

    return [
        plot.panels(
            out / "trajectories.png",
            [plot.path_on_surface(surfaces.on_grid(s.f), p.theta, xlim=s.xlim, ylim=s.ylim, label=k,
                                  color=colors[k], style=styles[k], marks={"minimum (1, 1)": s.minimum},
                        steps=steps) for k, p in paths.items()],  # fmt: skip
            titles=list(paths),
            suptitle=f"L = (1−θ₁)² + 100(θ₂−θ₁²)²: {steps} updates from {start} (the first random start)",
            ncols=2,
            panel_size=(5.2, 4.4),
        ),
        plot.panels(
            out / "distance_and_sigma.png",
            [distance, sigmas, spread],
            titles=["distance to the minimum (first start)", "σᵢᵗ per coordinate (first start)",
                    f"distance ratio after {steps} updates, all starts"],  # fmt: skip
            suptitle=f"First start: Adagrad's final σ is {lo:.3g}–{hi:.3g}× RMSProp's, its distance {closer:.3g}× "
            "larger",
            ncols=3,
        ),
    ]
