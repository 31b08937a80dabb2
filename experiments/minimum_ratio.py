"""Are trained networks at local minima? Training loss against the minimum ratio at critical points (SCOPE §3.3).

The lecture's recipe, at a size where the dense Hessian is cheap: small tanh classifiers on scikit-learn's digits
(8×8 images average-pooled to 4×4, 16 inputs, 10 classes, softmax cross-entropy), trained with Adam at many
learning rates (so they stop at different losses), then driven to ‖g‖ ≈ 0 by Levenberg–Marquardt on g = 0
(``curvature.find_critical_point``, float64), and classified from all P eigenvalues of the dense Hessian.

A point counts as critical by the lecture's recipe (‖g‖² ≤ 1e-5). Most low-loss searches stall there, at
‖g‖ ~ 1e-4, in "gradient-flat" regions where g lies along near-null directions of H (Frye et al. 2021; a small
weight decay does not cure it: an eigenvalue of H keeps crossing zero under Newton's steps), so the report
separates the points whose eigenvalue signs are robust (‖g‖ ≤ ``robust_grad_tol`` and every counted |λ| a decade
above the zero tolerance) from the rest.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from jaxml import curvature, data, losses, models, optim, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Small digit classifiers driven to ‖g‖ ≈ 0: training loss vs minimum ratio, and how many are minima"
SECTION = "3.3"

# The lecture's figure: every critical point has minimum ratio ≲ 0.55, the low-loss ones in about 0.5–0.6.
LECTURE_BAND = (0.5, 0.6)
# "Few" true minima: at most this fraction of the critical points.
FEW = 0.2
# Eigenvalue signs count as robust when no |λ| lies within a decade above the zero tolerance.
MARGIN = 10.0


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    widths: tuple[int, ...] = (3, 5)
    nets_per_width: int = 8
    n_examples: int = 500
    epochs: int = 400
    learning_rates: tuple[float, float] = (1e-4, 3e-2)
    newton_steps: int = 100
    # a point is critical when ‖g‖ ≤ grad_tol: the lecture's recipe stops at ‖g‖² ≤ 1e-5
    grad_tol: float = 10**-2.5
    # its eigenvalue signs are robust when ‖g‖ ≤ robust_grad_tol and no counted |λ| is within a decade of the
    # zero tolerance max(√eps·max|λ|, ‖g‖)
    robust_grad_tol: float = 1e-6
    weight_decay: float = 0.0

    QUICK = {"widths": (4,), "nets_per_width": 8, "epochs": 300}


def _crit(m: dict) -> bool:
    # a handful of points is needed before "rare" or a rank correlation means anything
    return m["critical_points"] >= 5


CLAIMS = (
    Claim(
        "ratio_below_one",
        "3.3",
        "The minimum ratio (#λ > 0)/(#λ) stays below 1 at every critical point found.",
        lambda m: _crit(m) and m["max_minimum_ratio"] < 1.0,
        reads=("critical_points", "max_minimum_ratio"),
        explain=lambda m: (
            f"Largest ratio among {int(m['critical_points'])} critical points: {m['max_minimum_ratio']:.3f}."
        ),
    ),
    Claim(
        "true_minima_rare",
        "3.3",
        f'True local minima are rare ("I never saw a real local minimum"): at most {FEW:.0%} of the critical '
        "points have no negative eigenvalue.",
        lambda m: _crit(m) and m["no_negative_eigenvalue"] <= FEW * m["critical_points"],
        reads=("no_negative_eigenvalue", "critical_points", "robust_critical_points"),
        explain=lambda m: (
            f"{int(m['no_negative_eigenvalue'])} of {int(m['critical_points'])} critical points have no "
            f"negative eigenvalue; the eigenvalue signs are robust at {int(m['robust_critical_points'])} of them."
        ),
    ),
    Claim(
        "low_loss_in_lecture_band",
        "3.3",
        f"The lowest-loss critical point has minimum ratio within the lecture's band for its low-loss points, "
        f"{LECTURE_BAND[0]:g}–{LECTURE_BAND[1]:g}.",
        lambda m: _crit(m) and LECTURE_BAND[0] <= m["ratio_at_lowest_loss"] <= LECTURE_BAND[1],
        reads=("ratio_at_lowest_loss", "loss_lowest_critical"),
        expected=False,
        explain=lambda m: (
            f"Our lowest-loss critical point (L = {m['loss_lowest_critical']:.3g}) has ratio "
            f"{m['ratio_at_lowest_loss']:.3f}"
            + (
                ", above the band: at our low-loss points only a few eigenvalues are negative (see the table), "
                "so the ratio stays high although many near-zero ones count as not positive."
                if m["ratio_at_lowest_loss"] > LECTURE_BAND[1]
                else (", below the band." if m["ratio_at_lowest_loss"] < LECTURE_BAND[0] else ", inside the band.")
            )
        ),
    ),
    Claim(
        "lower_loss_higher_ratio",
        "3.3",
        "Lower training loss comes with a higher minimum ratio (Spearman rank correlation < 0, p < 0.05).",
        lambda m: _crit(m) and m["spearman_loss_ratio"] < 0 and m["spearman_p_value"] < 0.05,
        reads=("spearman_loss_ratio", "spearman_p_value"),
    ),
)


def pooled_digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits 8×8 → 4×4 by 2×2 average pooling, scaled to [0, 1] and centred; labels 0–9."""
    ds = data.load("digits")
    x = np.asarray(ds.x, np.float64).reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16) / 16.0
    return x - x.mean(axis=0), np.asarray(ds.y)


def compute(config: Config) -> Result:
    x_np, y_np = pooled_digits()
    idx = np.random.default_rng(config.seed).permutation(len(y_np))[: config.n_examples]
    x_np, y_np = x_np[idx], y_np[idx]
    classes = int(y_np.max()) + 1
    points = []
    n_nets = config.nets_per_width
    with jax.enable_x64(True):
        x, y = jnp.asarray(x_np), jnp.asarray(y_np)
        key = jax.random.key(config.seed)
        for width in config.widths:
            model = models.mlp(x.shape[1], [width], classes, activation=jnp.tanh)
            ce = train.supervised(model.apply, losses.softmax_cross_entropy)

            def objective(p: object, batch: tuple, ce: object = ce) -> jax.Array:
                sq = sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(p))
                return ce(p, batch) + 0.5 * config.weight_decay * sq

            k_init, k_fit = jax.random.split(jax.random.fold_in(key, width))
            lrs = jnp.geomspace(*config.learning_rates, n_nets)
            fitted = train.fit_sweep(
                objective,
                jax.vmap(model.init)(jax.random.split(k_init, n_nets)),
                lambda lr: optim.adam(lr),
                (x, y),
                keys=jax.random.split(k_fit, n_nets),
                epochs=config.epochs,
                learning_rates=lrs,
                progress=False,
            )
            loss = lambda p, objective=objective: objective(p, (x, y))  # noqa: E731
            for i in range(n_nets):
                # one search at a time (not vmapped): a search that converges in a few steps stops there instead
                # of waiting, in lockstep, for the slowest one
                start = jax.tree_util.tree_map(lambda a, i=i: a[i], fitted.params)
                p = curvature.find_critical_point(
                    loss, start, tol=1e-12, max_steps=config.newton_steps, method="dense"
                ).params
                cp = curvature.classify_critical_point(loss, p, grad_tol=config.grad_tol)
                lam = np.asarray(cp.eigenvalues, np.float64)
                counted = np.abs(lam)[np.abs(lam) > cp.tolerance]
                margin = float(counted.min() / cp.tolerance) if counted.size else float("inf")
                points.append(
                    {
                        "width": width,
                        "eta": float(lrs[i]),
                        "params": int(lam.size),
                        "loss_trained": float(fitted.history["train_loss"][i, -1]),
                        "loss": cp.loss,
                        "grad": cp.grad_norm,
                        "critical": cp.kind != "not_critical",
                        "robust": cp.grad_norm <= config.robust_grad_tol and margin >= MARGIN,
                        "margin": margin,
                        "ratio": cp.minimum_ratio,
                        "kind": cp.kind,
                        "negative": cp.num_negative,
                        "zero": cp.num_zero,
                        "positive": cp.num_positive,
                        "eigenvalues": lam,
                        "tolerance": cp.tolerance,
                    }
                )
    critical = [q for q in points if q["critical"]]
    ratios = np.array([q["ratio"] for q in critical]) if critical else np.array([np.nan])
    c_loss = np.array([q["loss"] for q in critical]) if critical else np.array([np.nan])
    lowest = critical[int(np.argmin(c_loss))] if critical else None
    if len(critical) >= 3 and np.ptp(ratios) > 0:
        rho, p_value = stats.spearmanr(c_loss, ratios)
    else:
        rho, p_value = float("nan"), float("nan")
    n_crit = len(critical)
    minima = sum(q["negative"] == 0 for q in critical)
    saddles = sum(q["kind"] == "saddle_point" for q in critical)
    metrics = {
        "networks": float(len(points)),
        "critical_points": float(n_crit),
        "robust_critical_points": float(sum(q["robust"] for q in points)),
        "no_negative_eigenvalue": float(minima),
        "true_minima": float(sum(q["kind"] == "local_minimum" for q in critical)),
        "saddle_points": float(saddles),
        "min_minimum_ratio": float(np.min(ratios)),
        "median_minimum_ratio": float(np.median(ratios)),
        "max_minimum_ratio": float(np.max(ratios)),
        "loss_lowest_critical": float(lowest["loss"]) if lowest else float("nan"),
        "ratio_at_lowest_loss": float(lowest["ratio"]) if lowest else float("nan"),
        "spearman_loss_ratio": float(rho),
        "spearman_p_value": float(p_value),
        "max_grad_norm_critical": float(max(q["grad"] for q in critical)) if critical else float("nan"),
        "median_grad_norm_all": float(np.median([q["grad"] for q in points])),
    }
    lecture = {"max_minimum_ratio": 0.55, "true_minima": 0.0}
    header = ["width", "P", "η", "L trained", "L found", "‖g‖", "#λ<0", "#λ≈0", "#λ>0", "min. ratio", "margin", "kind"]
    rows = [
        [
            q["width"],
            q["params"],
            q["eta"],
            q["loss_trained"],
            q["loss"],
            q["grad"],
            q["negative"],
            q["zero"],
            q["positive"],
            q["ratio"],
            q["margin"],
            q["kind"].replace("_", " "),
        ]
        for q in points
    ]
    m = metrics
    widths = ", ".join(map(str, config.widths))
    if n_crit:
        found_text = (
            f"{n_crit} of {len(points)} searches reached ‖g‖ ≤ {config.grad_tol:g} (largest ‖g‖ among them "
            f"{m['max_grad_norm_critical']:.2g}); only {int(m['robust_critical_points'])} reached "
            f"‖g‖ ≤ {config.robust_grad_tol:g} with every counted |λ| at least {MARGIN:g}× the zero tolerance, so "
            "the signs of the smallest eigenvalues at the others are not certain. Among the critical points, "
            f"{saddles} are saddle points and "
            f"{minima} have no negative eigenvalue; the minimum ratio ranges over "
            f"{m['min_minimum_ratio']:.3f}–{m['max_minimum_ratio']:.3f} (median {m['median_minimum_ratio']:.3f}), "
            f"against the lecture's ≲ {lecture['max_minimum_ratio']:g} (its low-loss points in about "
            f"{LECTURE_BAND[0]:g}–{LECTURE_BAND[1]:g}). The lowest-loss critical point "
            f"(L = {m['loss_lowest_critical']:.3g}) has ratio {m['ratio_at_lowest_loss']:.3f}. Spearman's rank "
            f"correlation between loss and ratio is {rho:.2f} (p = {p_value:.2g})."
        )
    else:
        found_text = f"No search reached ‖g‖ ≤ {config.grad_tol:g}; nothing can be classified."
    summary = (
        f"{len(points)} one-hidden-layer tanh networks 16-h-{classes} (h ∈ {{{widths}}}, P = 27h + 10) on the "
        f"{len(y_np)} scikit-learn digits pooled to 4×4, trained full-batch with Adam ({config.epochs} epochs, "
        f"η from "
        f"{config.learning_rates[0]:g} to {config.learning_rates[1]:g}, so that they stop at different losses) on "
        + (
            f"L = cross-entropy + (λ/2)‖θ‖² with λ = {config.weight_decay:g}, "
            if config.weight_decay
            else "the cross-entropy, "
        )
        + "then driven towards g = 0 by `find_critical_point` (dense "
        "Levenberg–Marquardt, float64) and classified from all P eigenvalues of the dense Hessian; an eigenvalue "
        "counts as zero when |λ| ≤ max(√eps·max|λ|, ‖g‖). " + found_text
    )
    return Result(
        title=(
            f"Training loss against minimum ratio: {saddles} saddles, {minima} without a negative eigenvalue, among "
            f"{n_crit} critical points"
        ),
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        tables={"Every network (margin: smallest counted |λ| / zero tolerance)": table(header, rows)},
        data={"points": points, "grad_tol": config.grad_tol},
    )


def figures(result: Result, out: Path) -> list[Path]:
    points = result.data["points"]
    m = result.metrics
    kinds = {
        "saddle_point": ("saddle point", "C3", "o"),
        "local_minimum": ("local minimum", "C2", "*"),
        "degenerate": ("degenerate", "C0", "s"),
        "local_maximum": ("local maximum", "C4", "v"),
    }

    def draw_scatter(ax: object) -> None:
        ax.axvspan(*LECTURE_BAND, color="gold", alpha=0.25, label=f"lecture's band {LECTURE_BAND[0]}–{LECTURE_BAND[1]}")
        for kind, (label, colour, marker) in kinds.items():
            for robust in (True, False):
                sel = [q for q in points if q["critical"] and q["kind"] == kind and q["robust"] == robust]
                if not sel:
                    continue
                how = "robust" if robust else "signs uncertain"
                ax.scatter(
                    [q["ratio"] for q in sel],
                    [q["loss"] for q in sel],
                    s=36,
                    marker=marker,
                    facecolors=colour if robust else "none",
                    edgecolors=colour,
                    label=f"{label}, {how} ({len(sel)})",
                    zorder=3,
                )
        rest = [q for q in points if not q["critical"]]
        if rest:
            ax.scatter(
                [q["ratio"] for q in rest],
                [q["loss"] for q in rest],
                s=18,
                marker="x",
                color="gray",
                label=f"‖g‖ > {result.data['grad_tol']:.2g}: not critical ({len(rest)})",
                zorder=2,
            )
        ax.set_xlim(0, 1)
        # head-room above the points for the legend
        ax.set_ylim(0, 1.75 * max(q["loss"] for q in points))
        ax.set_xlabel("minimum ratio = #(λ > 0) / #λ")
        ax.set_ylabel("training loss L at the point")
        ax.legend(fontsize="x-small", loc="upper right")

    crit = [q for q in points if q["critical"]] or points
    scaled = {"negative": [], "zero": [], "positive": []}
    for q in crit:
        lam, tol = q["eigenvalues"], q["tolerance"]
        s = np.max(np.abs(lam))
        scaled["negative"].append(lam[lam < -tol] / s)
        scaled["zero"].append(lam[np.abs(lam) <= tol] / s)
        scaled["positive"].append(lam[lam > tol] / s)
    scaled = {k: np.concatenate(v) for k, v in scaled.items()}

    def draw_hist(ax: object) -> None:
        lt = 1e-6
        edges = np.concatenate([-np.geomspace(1, lt, 25), [0.0], np.geomspace(lt, 1, 25)])
        colours = {"negative": "C3", "zero": "gray", "positive": "C0"}
        names = {
            "negative": "λ < −tol",
            "zero": "|λ| ≤ tol = max(√eps·max|λ|, ‖g‖): counted as 0",
            "positive": "λ > tol",
        }
        ax.hist(
            [scaled[k] for k in colours],
            bins=edges,
            stacked=True,
            color=list(colours.values()),
            label=[f"{names[k]} ({scaled[k].size})" for k in colours],
        )
        ax.set_xscale("symlog", linthresh=lt)
        ax.set_yscale("log")
        ax.set_ylim(0.7, 40 * ax.get_ylim()[1])  # head-room above the bars for the legend
        ax.set_xlabel(f"λ / max|λ| (symlog, linear within ±{lt:g})")
        ax.set_ylabel("count (all critical points)")
        ax.tick_params(axis="x", labelsize="x-small", labelrotation=45)
        ax.legend(fontsize="x-small", loc="upper center")

    fig = plot.panels(
        out / "loss_vs_minimum_ratio.png",
        [draw_scatter, draw_hist],
        titles=[
            f"{int(m['critical_points'])} critical points, Spearman ρ = {m['spearman_loss_ratio']:.2f}",
            "Hessian eigenvalues, all critical points",
        ],
        suptitle="Small tanh classifiers on digits: training loss vs minimum ratio",
        ncols=2,
    )
    return [fig]
