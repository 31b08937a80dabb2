"""Deeper is not always better: training and held-out loss against depth and width on the COVID HW1 data
(course §1.7)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, choice, integer, number, progress, table, tuple_of

DESCRIPTION = "Train vs held-out MSE against MLP depth and width on COVID HW1 (overfitting)"
SECTION = "1.7"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    #: 20 random splits, not the minimum 10: the held-out gap between the deepest network and the linear model
    #: varies from split to split with SD ≈ 0.6 around a mean ≈ 1.1, so 10 splits left it at z ≈ 4.4–8.5 by seed
    replicates: int = 20
    n_train: int = 200
    depths: tuple[int, ...] = (0, 1, 2, 3, 4)
    width: int = 64
    widths: tuple[int, ...] = (4, 16, 64, 256)
    #: the width sweep uses one hidden layer and a larger η: a narrow ReLU network (width 4, 116 inputs) at the
    #: depth sweep's η was still far above the linear model's training MSE when training ended (one stacked
    #: width-4 layer more, and some splits stay stuck near predicting the mean)
    width_depth: int = 1
    width_learning_rate: float = 3e-2
    epochs: int = 600
    learning_rate: float = 3e-3
    #: "relu" (the lecture's networks) or "identity": the negative control, a deep *linear* network, which
    #: stacks layers without adding any function the linear model could not represent
    activation: str = "relu"

    #: 200 epochs pay for the 20 splits (the networks reach their held-out minimum by epoch ~60 and overfit well
    #: before the end: the quick verdicts are the full run's)
    QUICK = {"epochs": 200, "widths": (4, 16), "depths": (0, 1, 4)}

    DOMAINS = {
        "n_train": integer(2, 2159),  # at most the training part (80%) of COVID's 2,699 rows
        "depths": tuple_of(integer(0, 64), min_length=2, includes=0),  # 0: the linear model, and a network depth
        "width": integer(1, 10**4),
        "widths": tuple_of(integer(1, 10**4)),
        "width_depth": integer(1, 64),
        "width_learning_rate": number(0, low_open=True),
        "epochs": integer(),
        "learning_rate": number(0),  # 0: the negative control (no training)
        "activation": choice(("relu", "identity")),
    }


ACTIVATIONS = {"relu": jax.nn.relu, "identity": lambda z: z}
LINEAR_NETS = {"activation": "identity"}  # the negative control: depth adds no capacity
SHORT = {"epochs": 20}  # the negative control of overfitting *during* training: stopped before it can happen

CLAIMS = (
    Claim(
        "training_falls_with_depth",
        "1.7",
        "Stacking layers lowers the training loss: the deepest network fits its training rows below the least-"
        "squares optimum of the linear model (depth 0), the lowest training loss any linear model reaches (paired "
        "per split: log of the ratio).",
        reads=("train_mse_depth_0", "train_mse_deepest", "train_falls_every_step"),
        effect="log_train_linear_over_deepest",
        control=LINEAR_NETS,
    ),
    Claim(
        "deeper_not_better",
        "1.7",
        "Deeper is not always better: the deepest network's held-out loss is above the shallowest model's (the "
        "linear model, depth 0), although its training loss is far lower (paired per split).",
        reads=("heldout_mse_deepest", "heldout_mse_depth_0"),
        effect="heldout_deepest_minus_linear",
        control=LINEAR_NETS,
    ),
    Claim(
        "better_then_worse",
        "1.7",
        "The lecture's shape: held-out loss first falls with depth, then rises: some network depth beats the "
        "linear model on held-out data (the best of the network depths per split; corrected for the choice).",
        reads=("heldout_mse_depth_0", "heldout_mse_best_network", "networks_beating_linear"),
        effect="heldout_linear_minus_best_network",
        tests="network_depths",
        control={"learning_rate": 0.0},  # untrained networks: none can beat the fitted linear model
        expected=False,
        explain=lambda m: (
            f"Held-out MSE of the linear model {m['heldout_mse_depth_0']:.3g}, of the best network depth per split "
            f"{m['heldout_mse_best_network']:.3g} on average; a network beat the linear model on "
            f"{m['networks_beating_linear']:.0f} of {m['splits']:.0f} splits: with {m['n_train']:.0f} training "
            f"rows and {m['n_features']:.0f} features the linear model already overfits (held-out "
            f"{m['heldout_mse_depth_0'] / m['train_mse_depth_0']:.1f}× its training MSE), and the networks overfit "
            "further."
        ),
    ),
    Claim(
        "heldout_turns_up",
        "1.7",
        "Overfitting during training: the deepest network's held-out loss bottoms out and then rises by more than "
        "5% while its training loss keeps falling. The epoch of the minimum is chosen on one half of the held-out "
        "rows and the rise measured on the other (and vice versa), so noise around the minimum cannot make the rise "
        "(effect: log of the rise − log 1.05).",
        reads=("deepest_heldout_rise", "deepest_heldout_min_epoch", "deepest_train_fall_after_min"),
        effect="log_heldout_rise_minus_5_percent",
        control=SHORT,
        expected=False,
        explain=lambda m: (
            f"The held-out MSE is lowest around epoch {m['deepest_heldout_min_epoch']:.0f} (median over splits) and "
            f"rises {100 * (math.exp(m['deepest_heldout_rise']) - 1):.1f}% on average from there to the end "
            f"(cross-validated), while the training MSE falls another {100 * m['deepest_train_fall_after_min']:.0f}%: "
            "the network overfits early, then mostly memorizes the training rows without moving its held-out "
            "predictions much."
        ),
    ),
)


def _splits(config: Config) -> dict[str, Any]:
    """One random split per replicate (``n_train`` training rows, the rest held out), standardized on its own
    training rows, with targets standardized too (MSE is reported in the original units: × var(y_train)).

    Every split has the same sizes, so the R splits stack on a leading run axis (x: (R, rows, D), y: (R, rows)):
    ``fit_sweep(..., data_per_run=True)`` trains run r on split r. Standardized targets put the output weights
    at scale 1, so Adam trains even a width-4 network in the epochs given (with raw
    targets, std ≈ 8, a narrow network's output layer lagged for thousands of steps).
    """
    ds = data.load("covid")
    xs, ys, xt, yt, scale = [], [], [], [], []
    for key in jax.random.split(jax.random.PRNGKey(config.seed), config.replicates):
        (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(ds, key=key, n_train=config.n_train)
        mean, std = float(y_tr.mean()), float(y_tr.std())
        xs.append(x_tr), ys.append((y_tr - mean) / std), xt.append(x_te), yt.append((y_te - mean) / std)
        scale.append(std**2)
    return {
        "train": (jnp.asarray(np.stack(xs), jnp.float32), jnp.asarray(np.stack(ys), jnp.float32)),
        "test": (jnp.asarray(np.stack(xt), jnp.float32), jnp.asarray(np.stack(yt), jnp.float32)),
        "scale": np.asarray(scale),
        "np": (np.stack(xs), np.stack(ys), np.stack(xt), np.stack(yt)),
    }


def _half_a(model: models.Model) -> Any:
    """A per-epoch metric: MSE on the first half (A) of a batch's rows. On the held-out rows (``val_data``) the
    trainer's ``val_loss`` is the MSE on all of them, so half B's MSE is 2 · val_loss − half A's (equal halves).
    The forward pass runs on every row and is sliced afterwards: the same computation as ``val_loss``'s, which
    XLA computes once for both."""

    def metric(params: Any, batch: tuple) -> jax.Array:
        x, y = batch
        n = y.shape[0] // 2
        return losses.mse(model.apply(params, x)[:n], y[:n])

    return metric


def _train(
    config: Config, hidden: tuple[int, ...], s: dict[str, Any], key: jax.Array, curves: bool, eta: float
) -> dict:
    """Train one architecture on every split at once (``train.fit_sweep``, full-batch Adam with cosine decay to
    1% of η so each net settles at its floor instead of bouncing around it); final training and held-out MSE per
    split in the original units, and with ``curves`` the per-epoch curves (held-out halves A and B)."""
    model = models.mlp(s["train"][0].shape[2], hidden, activation=ACTIVATIONS[config.activation])
    r = config.replicates
    k_init, k_batch = jax.random.split(key)
    objective = train.supervised(model.apply, losses.mse)
    res = train.fit_sweep(
        objective,
        jax.vmap(model.init)(jax.random.split(k_init, r)),
        optax.adam(optax.cosine_decay_schedule(eta, config.epochs, alpha=0.01)),
        s["train"],
        keys=jax.random.split(k_batch, r),
        epochs=config.epochs,
        batch_size=None,
        val_data=s["test"] if curves else None,
        metrics={"half_a": _half_a(model)} if curves else None,
        progress=False,
        data_per_run=True,  # run r trains (and is evaluated) on split r
    )
    evaluate = jax.vmap(objective)
    out = {
        "train": np.asarray(evaluate(res.params, s["train"]), np.float64) * s["scale"],
        "heldout": np.asarray(evaluate(res.params, s["test"]), np.float64) * s["scale"],
    }
    if curves:
        h = {k: np.asarray(v, np.float64) * s["scale"][:, None] for k, v in res.history.items()}
        out["curve_train"], out["curve_heldout"] = h["train_loss"], h["val_loss"]
        out["curve_a"] = h["val_half_a"]
        out["curve_b"] = 2 * h["val_loss"] - h["val_half_a"]  # half B (equal halves, see _half_a)
    return out


def compute(config: Config) -> Result:
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {config.activation!r}")
    if 0 not in config.depths or len(config.depths) < 2:
        raise ValueError(f"depths must include 0 (the linear model) and a network depth, got {config.depths}")
    key = jax.random.PRNGKey(config.seed)
    s = _splits(config)
    if s["test"][0].shape[1] % 2:
        raise ValueError("the held-out set must split into two equal halves")
    r = config.replicates

    # Depth 0 is the linear model at its closed-form least-squares optimum: the baseline is not left unconverged.
    x_tr, y_tr, x_te, y_te = s["np"]
    linear = np.zeros((2, r))
    for i in range(r):
        a_tr, a_te = np.c_[x_tr[i], np.ones(x_tr.shape[1])], np.c_[x_te[i], np.ones(x_te.shape[1])]
        theta = np.linalg.lstsq(a_tr, y_tr[i], rcond=None)[0]
        linear[:, i] = np.mean((a_tr @ theta - y_tr[i]) ** 2), np.mean((a_te @ theta - y_te[i]) ** 2)
    linear *= s["scale"]

    depths = list(config.depths)
    deepest = max(depths)
    by_depth: dict[int, dict[str, np.ndarray]] = {0: {"train": linear[0], "heldout": linear[1]}}
    for depth in depths:
        if depth == 0:
            continue
        progress(f"depth {depth}: {r} networks of width {config.width}, {config.epochs} epochs")
        k_depth = jax.random.fold_in(key, depth)
        by_depth[depth] = _train(config, (config.width,) * depth, s, k_depth, depth == deepest, config.learning_rate)
    by_width: dict[int, dict[str, np.ndarray]] = {}
    for w in config.widths:
        progress(f"width {w}: {r} networks of depth {config.width_depth}")
        by_width[w] = _train(
            config, (w,) * config.width_depth, s, jax.random.fold_in(key, 100 + w), False, config.width_learning_rate
        )

    train_d = np.array([by_depth[d]["train"] for d in depths])  # (depths, R)
    held_d = np.array([by_depth[d]["heldout"] for d in depths])
    nets = held_d[1:]
    deep = by_depth[deepest]
    # Overfitting during training, cross-validated on two halves of the held-out rows: the epoch of the minimum
    # from one half, the rise from it to the end on the other.
    a, b = deep["curve_a"], deep["curve_b"]
    rows = np.arange(r)
    at_a, at_b = np.argmin(a, axis=1), np.argmin(b, axis=1)
    rise = 0.5 * (np.log(b[:, -1] / b[rows, at_a]) + np.log(a[:, -1] / a[rows, at_b]))
    whole = deep["curve_heldout"]
    min_epoch = np.argmin(whole, axis=1)
    train_at_min = deep["curve_train"][rows, min_epoch]
    mean_train = train_d.mean(1)
    metrics = {
        **{f"train_mse_depth_{d}": float(t) for d, t in zip(depths, mean_train)},
        **{f"heldout_mse_depth_{d}": float(v) for d, v in zip(depths, held_d.mean(1))},
        **{f"train_mse_width_{w}": float(v["train"].mean()) for w, v in by_width.items()},
        **{f"heldout_mse_width_{w}": float(v["heldout"].mean()) for w, v in by_width.items()},
        "train_mse_deepest": float(mean_train[-1]),
        "train_falls_every_step": float(np.all(np.diff(mean_train) < 0)),
        "heldout_mse_deepest": float(held_d[-1].mean()),
        "heldout_mse_best_network": float(nets.min(0).mean()),
        "network_depths": len(depths) - 1,  # the best of these is taken: the claim's count of tests
        "networks_beating_linear": float(np.sum(nets.min(0) < held_d[0])),
        "best_depth_mode": float(depths[int(np.bincount(held_d.argmin(0), minlength=len(depths)).argmax())]),
        "deepest_heldout_min_epoch": float(np.median(min_epoch) + 1),
        "deepest_heldout_rise": float(np.mean(rise)),
        "deepest_train_fall_after_min": float(np.mean(1 - deep["curve_train"][:, -1] / train_at_min)),
        "splits": float(r),
        "n_train": float(config.n_train),
        "n_features": float(x_tr.shape[2]),
    }
    worst_width = min(by_width, key=lambda w: -by_width[w]["train"].mean())
    summary = (
        f"MLPs ({config.activation}, width {config.width}) trained full-batch with Adam (η = "
        f"{config.learning_rate:g}, cosine decay, {config.epochs} epochs) on {config.n_train} rows of "
        f"`covid.train.csv` (all {x_tr.shape[2]} standardized features, standardized target), evaluated on "
        f"{x_te.shape[1]} held-out rows, over {r} random splits (one network per split and architecture, all "
        "splits trained at once by `train.fit_sweep`); depth 0 is the linear model at its closed-form least-"
        "squares optimum.\n\n"
        f"Mean training MSE goes from {mean_train[0]:.3g} (linear) to {mean_train[-1]:.3g} (depth {deepest}), "
        f"{'falling at every added layer' if metrics['train_falls_every_step'] else 'not falling at every added layer'}"
        f"; mean held-out MSE: "
        + ", ".join(f"{v:.3g} (depth {d})" for d, v in zip(depths, held_d.mean(1)))
        + f". A network beat the linear model on held-out data on {int(metrics['networks_beating_linear'])} of {r} "
        f"splits. During training, the depth-{deepest} network's held-out MSE is lowest at epoch "
        f"{int(np.median(min_epoch)) + 1} (median over splits) and rises {100 * (np.exp(rise.mean()) - 1):+.1f}% "
        f"from there to the end (cross-validated on two halves of the held-out rows), while its training MSE falls "
        f"{100 * metrics['deepest_train_fall_after_min']:.0f}%. Narrowest check: width {worst_width} trains to MSE "
        f"{by_width[worst_width]['train'].mean():.3g} (worst split "
        f"{by_width[worst_width]['train'].max():.3g}; linear {mean_train[0]:.3g})."
    )
    return Result(
        title=(
            f"Depth and overfitting: training MSE {mean_train[0]:.3g} → {mean_train[-1]:.3g}, held-out "
            f"{held_d[0].mean():.3g} → {held_d[-1].mean():.3g}"
        ),
        summary=summary,
        metrics=metrics,
        replicates={
            "log_train_linear_over_deepest": np.log(train_d[0] / train_d[-1]),
            "heldout_deepest_minus_linear": held_d[-1] - held_d[0],
            "heldout_linear_minus_best_network": held_d[0] - nets.min(0),
            "log_heldout_rise_minus_5_percent": rise - math.log(1.05),
        },
        tables={
            f"MSE against depth (width {config.width}; depth 0 = closed-form linear least squares; mean ± SD over "
            f"{r} splits)": table(
                ["hidden layers", "training", "held-out", "held-out SD"],
                [[d, t.mean(), v.mean(), v.std(ddof=1)] for d, t, v in zip(depths, train_d, held_d)],
            ),
            f"MSE against width ({config.width_depth} hidden layer(s), η = {config.width_learning_rate:g}; mean over "
            "splits)": table(
                ["width", "training", "worst split (training)", "held-out"],
                [[w, v["train"].mean(), v["train"].max(), v["heldout"].mean()] for w, v in by_width.items()],
            ),
        },
        data={
            "by_depth": [(by_depth[d]["train"], by_depth[d]["heldout"]) for d in depths],
            "by_width": [(by_width[w]["train"], by_width[w]["heldout"]) for w in config.widths],
            "depths": depths,
            "widths": list(config.widths),
            "curve": {k: deep[k][0] for k in ("curve_train", "curve_heldout")},
            "deepest": deepest,
            "linear": (float(linear[0].mean()), float(linear[1].mean())),
            "config": config,
        },
    )


def _two_panels(
    path: Path,
    xs: list[int],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    xlabel: str,
    suptitle: str,
    logx: bool,
    linear: tuple[float, float] | None,
) -> Path:
    """Training MSE on a log axis (it spans decades) beside held-out MSE on a linear axis (it does not): the
    mean over splits as a line, each split as a faint dot."""

    def panel(which: int, marker: str, color: str) -> Any:
        def draw(ax: Any) -> None:
            values = [np.asarray(p[which]) for p in pairs]
            for x, v in zip(xs, values):
                ax.plot(np.full(len(v), x), v, ".", color=color, alpha=0.3, markersize=5)
            means = [float(v.mean()) for v in values]
            ax.plot(xs, means, marker + "-", color=color, label=("training", "held-out")[which] + ", mean of splits")
            if linear is not None:
                ax.axhline(linear[which], color="gray", linestyle="--", linewidth=1, label="linear, closed form")
            if logx:
                ax.set_xscale("log", base=2)
            if which == 0:
                ax.set_yscale("log")
            else:
                v = np.concatenate(values + ([np.array([linear[1]])] if linear is not None else []))
                lo, hi = float(v.min()), float(v.max())
                ax.set_ylim(max(0.0, lo - 0.1 * (hi - lo)), hi + 0.1 * (hi - lo) + 1e-9)
            ax.set_xticks(xs)
            ax.set_xticklabels([str(x) for x in xs])
            ax.set_xlabel(xlabel)
            ax.set_ylabel(("training MSE (log)", "held-out MSE")[which])

        return draw

    return plot.panels(
        path,
        [panel(0, "o", "tab:blue"), panel(1, "s", "tab:orange")],
        titles=["training MSE", "held-out MSE"],
        suptitle=suptitle,
        ncols=2,
        panel_size=(5.2, 3.8),
    )


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    c = d["config"]
    m = result.metrics
    fig_depth = _two_panels(
        out / "loss_vs_depth.png",
        d["depths"],
        d["by_depth"],
        "hidden layers (0 = linear, closed form)",
        f"{c.n_train} training rows, width {c.width}: a network beat the linear model on held-out data on "
        f"{int(m['networks_beating_linear'])} of {int(m['splits'])} splits",
        logx=False,
        linear=None,
    )
    widths = d["widths"]
    best_w = widths[int(np.argmin([v.mean() for _, v in d["by_width"]]))]
    fig_width = _two_panels(
        out / "loss_vs_width.png",
        widths,
        d["by_width"],
        "width",
        f"{c.width_depth} hidden layer(s): held-out best at width {best_w} (mean of splits)",
        logx=True,
        linear=d["linear"],
    )
    deepest = d["deepest"]
    curve = d["curve"]
    ep = np.arange(1, len(curve["curve_train"]) + 1)
    k = int(np.argmin(curve["curve_heldout"])) + 1

    def draw_train(ax: Any) -> None:
        ax.plot(ep, curve["curve_train"], color="tab:blue", label=f"training, {deepest} layers")
        ax.axhline(d["linear"][0], color="gray", linestyle="--", linewidth=1, label="linear, closed form (mean)")
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training MSE (log)")

    def draw_held(ax: Any) -> None:
        ax.plot(ep, curve["curve_heldout"], color="tab:orange", label=f"held-out, {deepest} layers")
        ax.axhline(d["linear"][1], color="gray", linestyle="--", linewidth=1, label="linear, closed form (mean)")
        ax.axvline(k, color="tab:red", linestyle=":", label=f"minimum at epoch {k}")
        ax.set_xscale("log")
        ax.set_ylim(0.0, hi)
        ax.set_xlabel("epoch")
        ax.set_ylabel("held-out MSE")

    # The first epochs (held-out ≈ var(y)) would squash the part that matters, around the minimum: zoom there and
    # say so in the title.
    val = curve["curve_heldout"]
    hi = float(max(val[k - 1 :].max(), d["linear"][1])) * 1.6
    above = int(np.sum(val > hi))
    held_title = "held-out MSE" + (f" (first {above} epochs above the axis)" if above else "")
    fig_curves = plot.panels(
        out / "curves_deepest.png",
        [draw_train, draw_held],
        titles=["training MSE", held_title],
        suptitle=(
            f"Depth {deepest} (first split): held-out lowest at epoch {k}\nmean rise after the minimum over "
            f"{int(m['splits'])} splits: {100 * (np.exp(m['deepest_heldout_rise']) - 1):+.1f}% (cross-validated)"
        ),
        ncols=2,
        panel_size=(5.6, 3.8),
    )
    return [fig_depth, fig_width, fig_curves]
