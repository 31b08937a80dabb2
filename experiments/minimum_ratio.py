"""Are trained networks at local minima? Training loss against the minimum ratio at critical points (course §3.3).

The lecture's recipe, at a size where the dense Hessian is cheap: small tanh classifiers on scikit-learn's digits
(8×8 images average-pooled to 4×4, 16 inputs, 10 classes, softmax cross-entropy), trained with Adam at many
learning rates (so they stop at different losses), then driven to ‖g‖ ≈ 0 by Levenberg–Marquardt on g = 0
(``curvature.find_critical_point``, float64), and classified from all P eigenvalues of the dense Hessian.

Each network is one replicate (its own init and η, drawn from ``config.seed``). Three things keep the claims
honest:

* The softmax is unchanged when a constant is added to every logit, so the output bias (1 direction) and each
  hidden unit's outgoing weights (h directions) give h + 1 *exactly* zero eigenvalues at every θ. They are
  projected out before counting: the minimum ratio is over the P − h − 1 other eigenvalues, so a ratio of 1 (a
  strict minimum up to those symmetries) is possible and "ratio < 1" can fail.
* A search that ends above the loss training reached has *climbed* to another critical point (often the
  label-entropy point, where the net predicts class frequencies), not the one training stopped near; points
  with the same width and loss (to 1e-6) are one point. Climbed and duplicate points are reported, not counted.
* Most searches stall at ‖g‖ ~ 1e-4 (gradient-flat regions, Frye et al. 2021), where an eigenvalue within a
  decade of the zero tolerance max(√eps·max|λ|, ‖g‖) has an uncertain sign: a point counts as a saddle only
  when some λ < −``MARGIN``·tolerance.

The negative control (``hidden_layer=False``) is softmax regression, a convex problem: every critical point is
a minimum, so none of the claims can hold there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import curvature, data, losses, models, optim, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, flag, integer, number, progress, table, tuple_of

DESCRIPTION = "Small digit classifiers driven to ‖g‖ ≈ 0: training loss vs minimum ratio, and how many are minima"
SECTION = "3.3"

# The lecture's figure: every critical point has minimum ratio ≲ 0.55, the low-loss ones in about 0.5–0.6.
LECTURE_BAND = (0.5, 0.6)
# "Few" true minima: at most this fraction of the critical points (as integers: 5·[saddle] − 4 > 0 on average).
FEW = 0.2
# An eigenvalue's sign counts only when |λ| exceeds MARGIN × the zero tolerance.
MARGIN = 10.0
# Two critical points of the same width whose losses agree to this (relative) are one point.
SAME_LOSS = 1e-6

# softmax regression: convex, every critical point is a minimum; every network counted (all reach one point)
CONTROL = {"hidden_layer": False, "merge_duplicates": False}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    widths: tuple[int, ...] = (3, 5)
    n_examples: int = 500
    epochs: int = 400
    learning_rates: tuple[float, float] = (2e-3, 3e-2)
    newton_steps: int = 100
    # a point is critical when ‖g‖ ≤ grad_tol: the lecture's recipe stops at ‖g‖² ≤ 1e-5
    grad_tol: float = 10**-2.5
    weight_decay: float = 0.0
    # the negative control: no hidden layer (softmax regression, convex)
    hidden_layer: bool = True
    merge_duplicates: bool = True  # one point per (width, loss); the control counts every network

    # replicates: networks per width (each its own init and η)
    QUICK = {"widths": (4,), "replicates": 12, "epochs": 300, "newton_steps": 60}

    DOMAINS = {
        "widths": tuple_of(integer(1, 10**3)),
        "n_examples": integer(10, 1797),  # digits has 1,797 images
        "epochs": integer(),
        "learning_rates": tuple_of(number(0, low_open=True), length=2, ordered=True),  # η log-uniform in this range
        "newton_steps": integer(),
        "grad_tol": number(0, low_open=True),
        "weight_decay": number(0),
        "hidden_layer": flag(),
        "merge_duplicates": flag(),
    }


def _f(v: float | None, spec: str = ".3g") -> str:
    """A metric for a sentence; None (no counted point) as "—"."""
    return "—" if v is None else format(v, spec)


def _valid(m: dict) -> str:
    return f"over the {int(m['counted_points'])} distinct critical points training stopped near"


CLAIMS = (
    Claim(
        "true_minima_rare",
        "3.3",
        f'True local minima are rare ("I never saw a real local minimum"): more than {1 - FEW:.0%} of the critical '
        f"points have an eigenvalue clearly below zero (λ < −{MARGIN:g}× the zero tolerance).",
        reads=("counted_points", "clear_saddles", "median_lambda_min_over_tolerance"),
        effect="clear_saddle_5x_minus_4",
        control=CONTROL,
        expected=False,
        explain=lambda m: (
            f"{int(m['clear_saddles'])} of {int(m['counted_points'])} points have a clearly negative eigenvalue; "
            f"the median λ_min is {_f(m['median_lambda_min_over_tolerance'])}× the zero tolerance: at the "
            "low-loss points the negative eigenvalues are as small as the remaining gradient, so their sign is "
            "not established."
        ),
    ),
    Claim(
        "low_loss_in_lecture_band",
        "3.3",
        f"The low-loss critical points (loss at most the median) have minimum ratio within the lecture's band "
        f"{LECTURE_BAND[0]:g}–{LECTURE_BAND[1]:g} (effect: distance inside the band).",
        reads=("low_loss_median_ratio",),
        effect="low_loss_inside_band",
        control=CONTROL,
        expected=False,
        explain=lambda m: (
            f"Median ratio of the low-loss points: {_f(m['low_loss_median_ratio'], '.3f')}"
            + (
                "."
                if m["low_loss_median_ratio"] is None
                else ", above the band: at our low-loss points only a few eigenvalues are negative."
                if m["low_loss_median_ratio"] > LECTURE_BAND[1]
                else (", below the band." if m["low_loss_median_ratio"] < LECTURE_BAND[0] else ", inside the band.")
            )
        ),
    ),
    Claim(
        "lower_loss_higher_ratio",
        "3.3",
        "Lower training loss comes with a higher minimum ratio (effect per point: +1 when it lies on the "
        "concordant side of both medians — loss below and ratio above, or the reverse — and −1 otherwise).",
        reads=("spearman_loss_ratio", "counted_points", "climbed_points"),
        effect="loss_ratio_concordance",
        control=CONTROL,
        expected=False,
        explain=lambda m: (
            f"Spearman's ρ(loss, ratio) {_valid(m)}: {m['spearman_loss_ratio']:.2f}; points where the search "
            f"climbed above the trained loss ({int(m['climbed_points'])} here) are not counted."
        ),
    ),
)


def pooled_digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits 8×8 → 4×4 by 2×2 average pooling, scaled to [0, 1] and centred; labels 0–9."""
    ds = data.load("digits")
    x = np.asarray(ds.x, np.float64).reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16) / 16.0
    return x - x.mean(axis=0), np.asarray(ds.y)


def structural_null_space(params: list) -> np.ndarray:
    """An orthonormal basis (P, fan_in + 1) of the directions along which the softmax cross-entropy is constant
    at every θ: the output bias + c·1 and, for each unit j feeding the output layer, its outgoing weights + c·1
    (every logit moves by the same c·aⱼ). H·v = 0 exactly along them."""
    fan_in = params[-1]["w"].shape[0]
    columns = []
    for j in range(fan_in + 1):
        d = jax.tree_util.tree_map(jnp.zeros_like, params)
        d[-1] = dict(d[-1])
        if j < fan_in:
            d[-1]["w"] = d[-1]["w"].at[j].set(1.0)
        else:
            d[-1]["b"] = jnp.ones_like(d[-1]["b"])
        columns.append(np.asarray(curvature.ravel(d)[0], np.float64))
    q, _ = np.linalg.qr(np.stack(columns, axis=1))
    return q


def _complement(null: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(null, mode="complete")
    return q[:, null.shape[1] :]


def _train_width(width: int, config: Config, x: jax.Array, y: jax.Array, classes: int, key: jax.Array) -> list:
    """Train ``config.replicates`` nets of one width (vmapped), then search and classify each."""
    n_nets = config.replicates
    hidden = [width] if config.hidden_layer else []
    model = models.mlp(x.shape[1], hidden, classes, activation=jnp.tanh)
    ce = train.supervised(model.apply, losses.softmax_cross_entropy)

    def objective(p: object, batch: tuple) -> jax.Array:
        sq = sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(p))
        return ce(p, batch) + 0.5 * config.weight_decay * sq

    k_init, k_fit, k_eta = jax.random.split(jax.random.fold_in(key, width), 3)
    # η log-uniform over the range, drawn per replicate (sorted only for the table)
    lo, hi = np.log(config.learning_rates[0]), np.log(config.learning_rates[1])
    lrs = jnp.exp(jnp.sort(jax.random.uniform(k_eta, (n_nets,), minval=lo, maxval=hi)))
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
    progress(f"width {width}: trained {n_nets} networks; searching for critical points")
    loss = lambda p: objective(p, (x, y))  # noqa: E731
    basis = None
    points = []
    for i in range(n_nets):
        # one search at a time (not vmapped): a search that converges in a few steps stops there instead of
        # waiting, in lockstep, for the slowest one
        start = jax.tree_util.tree_map(lambda a, i=i: a[i], fitted.params)
        p = curvature.find_critical_point(loss, start, tol=1e-12, max_steps=config.newton_steps, method="dense").params
        if basis is None:
            null = structural_null_space(p)
            basis = (null, _complement(null))
        null, comp = basis
        h = np.asarray(curvature.hessian(loss, p), np.float64)
        lam = np.linalg.eigvalsh(comp.T @ h @ comp)  # the spectrum without the h + 1 structural zeros
        cp = curvature.classify_critical_point(loss, p, grad_tol=config.grad_tol)
        tol = max(float(np.sqrt(np.finfo(np.float64).eps)) * float(np.abs(lam).max()), cp.grad_norm)
        loss_trained = float(fitted.history["train_loss"][i, -1])
        points.append(
            {
                "width": width if config.hidden_layer else 0,
                "eta": float(lrs[i]),
                "params": int(h.shape[0]),
                "structural": int(null.shape[1]),
                "structural_residual": float(np.max(np.abs(h @ null))),
                "loss_trained": loss_trained,
                "loss": cp.loss,
                "grad": cp.grad_norm,
                "critical": cp.grad_norm <= config.grad_tol,
                "climbed": cp.loss > loss_trained,
                "duplicate": False,
                "ratio": float(np.mean(lam > tol)),
                "negative": int(np.sum(lam < -tol)),
                "zero": int(np.sum(np.abs(lam) <= tol)),
                "positive": int(np.sum(lam > tol)),
                "clear_negative": int(np.sum(lam < -MARGIN * tol)),
                "lambda_min_over_tol": float(lam[0] / tol),
                "eigenvalues": lam,
                "tolerance": tol,
            }
        )
        if (i + 1) % 4 == 0 or i + 1 == n_nets:
            progress(f"width {width}: {i + 1} of {n_nets} critical-point searches done")
    return points


def compute(config: Config) -> Result:
    x_np, y_np = pooled_digits()
    idx = np.random.default_rng(config.seed).permutation(len(y_np))[: config.n_examples]
    x_np, y_np = x_np[idx], y_np[idx]
    classes = int(y_np.max()) + 1
    points: list[dict] = []
    with jax.enable_x64(True):
        x, y = jnp.asarray(x_np), jnp.asarray(y_np)
        key = jax.random.key(config.seed)
        for width in config.widths if config.hidden_layer else config.widths[:1]:
            points += _train_width(width, config, x, y, classes, key)
    # one point per (width, loss): two searches that end at the same loss reached the same critical point
    for i, q in enumerate(points):
        q["duplicate"] = config.merge_duplicates and any(
            r["critical"] and r["width"] == q["width"] and abs(r["loss"] - q["loss"]) <= SAME_LOSS * (1 + q["loss"])
            for r in points[:i]
        )
        q["counted"] = q["critical"] and not q["climbed"] and not q["duplicate"]
    counted = [q for q in points if q["counted"]]
    ratios = np.array([q["ratio"] for q in counted], np.float64)
    c_loss = np.array([q["loss"] for q in counted], np.float64)
    n = len(counted)
    # effects, one per counted point (integers where they count)
    saddle = np.array([q["clear_negative"] > 0 for q in counted], bool)
    low = c_loss <= np.median(c_loss) if n else np.zeros(0, bool)
    band_mid, band_half = np.mean(LECTURE_BAND), np.ptp(LECTURE_BAND) / 2
    inside_band = band_half - np.abs(ratios[low] - band_mid)
    concordance = -np.sign(c_loss - np.median(c_loss)) * np.sign(ratios - np.median(ratios)) if n else np.zeros(0)
    if n >= 3 and np.ptp(ratios) > 0 and np.ptp(c_loss) > 0:
        from scipy import stats

        rho = float(stats.spearmanr(c_loss, ratios)[0])
    else:
        rho = 0.0
    lowest = counted[int(np.argmin(c_loss))] if n else None
    metrics = {
        "networks": len(points),
        "critical_points": sum(q["critical"] for q in points),
        "climbed_points": sum(q["critical"] and q["climbed"] for q in points),
        "duplicate_points": sum(q["critical"] and q["duplicate"] and not q["climbed"] for q in points),
        "counted_points": n,
        "clear_saddles": int(saddle.sum()),
        "median_lambda_min_over_tolerance": (
            float(np.median([q["lambda_min_over_tol"] for q in counted])) if n else None
        ),
        "min_minimum_ratio": float(ratios.min()) if n else None,
        "median_minimum_ratio": float(np.median(ratios)) if n else None,
        "max_minimum_ratio": float(ratios.max()) if n else None,
        "low_loss_median_ratio": float(np.median(ratios[low])) if n else None,
        "loss_lowest_critical": float(lowest["loss"]) if lowest else None,
        "ratio_at_lowest_loss": float(lowest["ratio"]) if lowest else None,
        "spearman_loss_ratio": rho,
        "max_grad_norm_counted": float(max(q["grad"] for q in counted)) if n else None,
        "max_structural_residual": float(max(q["structural_residual"] for q in points)),
    }
    lecture = {"max_minimum_ratio": 0.55}
    header = [
        "width", "P", "η", "L trained", "L found", "‖g‖", "#λ<0", "#λ≈0", "#λ>0", "min. ratio", "λ_min/tol",
        "status",
    ]  # fmt: skip

    def status(q: dict) -> str:
        if not q["critical"]:
            return "not critical"
        if q["climbed"]:
            return "climbed (not counted)"
        if q["duplicate"]:
            return "duplicate (not counted)"
        return "clear saddle" if q["clear_negative"] else "no clear negative λ"

    rows = [
        [
            q["width"], q["params"], q["eta"], q["loss_trained"], q["loss"], q["grad"], q["negative"], q["zero"],
            q["positive"], q["ratio"], q["lambda_min_over_tol"], status(q),
        ]
        for q in points
    ]  # fmt: skip
    m = metrics
    widths = ", ".join(map(str, config.widths))
    if n:
        found_text = (
            f"{m['critical_points']} of {len(points)} searches reached ‖g‖ ≤ {config.grad_tol:.2g}; "
            f"{m['climbed_points']} of them climbed above the loss training had reached and "
            f"{m['duplicate_points']} repeated an earlier point, leaving {n} distinct critical points (the "
            f"replicates of the claims; largest ‖g‖ among them {m['max_grad_norm_counted']:.2g}). "
            f"{m['clear_saddles']} of them have an eigenvalue below −{MARGIN:g}× the zero tolerance (median "
            f"λ_min = {m['median_lambda_min_over_tolerance']:.3g}× the tolerance). Without the structural zeros the "
            f"minimum ratio ranges over {m['min_minimum_ratio']:.3f}–{m['max_minimum_ratio']:.3f} (median "
            f"{m['median_minimum_ratio']:.3f}; low-loss points {m['low_loss_median_ratio']:.3f}), against the "
            f"lecture's ≲ {lecture['max_minimum_ratio']:g} (its low-loss points in about {LECTURE_BAND[0]:g}–"
            f"{LECTURE_BAND[1]:g}). Spearman's ρ(loss, ratio) = {rho:.2f}."
        )
    else:
        found_text = (
            f"No search reached a distinct critical point below the trained loss with ‖g‖ ≤ {config.grad_tol:.2g}."
        )
    model_text = (
        f"one-hidden-layer tanh networks 16-h-{classes} (h ∈ {{{widths}}}, P = 27h + 10)"
        if config.hidden_layer
        else f"softmax regressions 16-{classes} (the negative control: no hidden layer, a convex loss)"
    )
    summary = (
        f"{len(points)} {model_text} on {len(y_np)} scikit-learn digits pooled to 4×4, trained full-batch with "
        f"Adam ({config.epochs} epochs, η log-uniform in {config.learning_rates[0]:g}–{config.learning_rates[1]:g} "
        "so that they stop at different losses) on "
        + (
            f"cross-entropy + (λ/2)‖θ‖², λ = {config.weight_decay:g}, "
            if config.weight_decay
            else "the cross-entropy, "
        )
        + "then driven towards g = 0 by `find_critical_point` (dense Levenberg–Marquardt, float64). The dense "
        "Hessian's h + 1 exact zeros from the softmax's shift symmetry (|H·v| ≤ "
        f"{m['max_structural_residual']:.1e} along them) are projected out; of the other eigenvalues, one counts as "
        "zero when |λ| ≤ max(√eps·max|λ|, ‖g‖). " + found_text
    )
    return Result(
        title=(
            f"Training loss against minimum ratio: {m['clear_saddles']} clear saddles among {n} distinct critical "
            "points"
        ),
        summary=summary,
        metrics=metrics,
        lecture=lecture,
        replicates={
            "clear_saddle_5x_minus_4": 5 * saddle.astype(np.int64) - 4,
            "low_loss_inside_band": inside_band,
            "loss_ratio_concordance": concordance.astype(np.int64),
        },
        tables={"Every network (λ_min/tol: the smallest eigenvalue over the zero tolerance)": table(header, rows)},
        data={"points": points, "grad_tol": config.grad_tol},
    )


def figures(result: Result, out: Path) -> list[Path]:
    points = result.data["points"]
    m = result.metrics
    counted = [q for q in points if q["counted"]]

    def draw_scatter(ax: object) -> None:
        ax.axvspan(*LECTURE_BAND, color="gold", alpha=0.25, label=f"lecture's band {LECTURE_BAND[0]}–{LECTURE_BAND[1]}")
        styles = {
            True: (f"clear saddle (λ_min < −{MARGIN:g}·tol)", "C3", "o"),
            False: ("no clearly negative λ", "C0", "s"),
        }
        for clear, (label, colour, marker) in styles.items():
            sel = [q for q in counted if (q["clear_negative"] > 0) == clear]
            if sel:
                ax.scatter(
                    [q["ratio"] for q in sel], [q["loss"] for q in sel], s=40, marker=marker, facecolors="none",
                    edgecolors=colour, linewidths=1.5, label=f"{label} ({len(sel)})", zorder=3,
                )  # fmt: skip
        # climbed points: one marker per distinct point, with how many searches ended there
        climbed = [q for q in points if q["critical"] and q["climbed"]]
        distinct: list[tuple[dict, int]] = []
        for q in climbed:
            for k, (r, c) in enumerate(distinct):
                if r["width"] == q["width"] and abs(r["loss"] - q["loss"]) <= SAME_LOSS * (1 + q["loss"]):
                    distinct[k] = (r, c + 1)
                    break
            else:
                distinct.append((q, 1))
        if distinct:
            ax.scatter(
                [r["ratio"] for r, _ in distinct], [r["loss"] for r, _ in distinct], s=40, marker="x", color="gray",
                label=f"climbed above the trained loss, not counted ({len(climbed)} searches)", zorder=2,
            )  # fmt: skip
            for r, c in distinct:
                if c > 1:
                    ax.annotate(f"×{c}", (r["ratio"], r["loss"]), textcoords="offset points", xytext=(6, 4),
                                fontsize="x-small", color="gray")  # fmt: skip
        shown = counted + [r for r, _ in distinct]
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.75 * max([q["loss"] for q in shown] or [1.0]))  # head-room above the points for the legend
        ax.set_xlabel("minimum ratio = #(λ > tol) / (P − h − 1)")
        ax.set_ylabel("training loss L at the point")
        ax.legend(fontsize="x-small", loc="upper right")

    shown = counted or points
    scaled = {"negative": [], "zero": [], "positive": []}
    for q in shown:
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
        ax.set_ylabel("count (stacked), counted points")
        ax.tick_params(axis="x", labelsize="x-small", labelrotation=45)
        ax.legend(fontsize="x-small", loc="upper center")

    fig = plot.panels(
        out / "loss_vs_minimum_ratio.png",
        [draw_scatter, draw_hist],
        titles=[
            f"{m['counted_points']} distinct critical points, Spearman ρ = {m['spearman_loss_ratio']:.2f}",
            "Hessian eigenvalues without the structural zeros",
        ],
        suptitle="Small tanh classifiers on digits: training loss vs minimum ratio",
        ncols=2,
    )
    return [fig]
