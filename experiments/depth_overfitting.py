"""Deeper is not always better: training and held-out loss against depth and width on the COVID HW1 data
(SCOPE §1.7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "Train vs held-out MSE against MLP depth and width on COVID HW1 (overfitting)"
SECTION = "1.7"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    n_train: int = 200
    depths: tuple[int, ...] = (0, 1, 2, 3, 4)
    width: int = 64
    widths: tuple[int, ...] = (4, 16, 64, 256)
    width_depth: int = 2
    epochs: int = 1500
    learning_rate: float = 1e-3
    seeds: int = 3

    QUICK = {"epochs": 500, "widths": (4, 64), "seeds": 2, "learning_rate": 3e-3}


CLAIMS = (
    Claim(
        "training_falls_with_depth",
        "1.7",
        "Stacking more layers lowers the training loss (each depth fits the training set at least as well as the "
        "one before).",
        lambda m: m["train_worst_step_ratio"] <= 1.0,
        reads=("train_worst_step_ratio", "train_mse_shallowest", "train_mse_deepest"),
    ),
    Claim(
        "deeper_not_better",
        "1.7",
        "Deeper is not always better: the deepest network's held-out loss is above the best depth's (overfitting).",
        lambda m: m["heldout_mse_deepest"] > m["heldout_mse_best"],
        reads=("heldout_mse_deepest", "heldout_mse_best", "best_depth"),
    ),
    Claim(
        "heldout_turns_up",
        "1.7",
        "Overfitting during training: the deepest network's held-out loss bottoms out and then rises (by > 5%) "
        "while its training loss keeps falling.",
        lambda m: m["deepest_heldout_rise"] > 0.05 and m["deepest_train_fall_after_min"] > 0.0,
        reads=("deepest_heldout_rise", "deepest_heldout_min_epoch", "deepest_train_fall_after_min"),
    ),
)


def _train_mlp(
    config: Config, hidden: tuple[int, ...], train_set: tuple, test_set: tuple, key: jax.Array
) -> train.FitResult:
    model = models.mlp(train_set[0].shape[1], hidden, activation=jax.nn.relu)
    k_init, k_batch = jax.random.split(key)
    return train.fit_sweep(
        train.supervised(model.apply, losses.mse),
        jax.vmap(model.init)(jax.random.split(k_init, config.seeds)),
        # η decays (cosine) to 1% so each net settles at its floor instead of bouncing around it (full-batch
        # Adam at a constant η spikes near zero loss, which made depth 4 fit worse than depth 3).
        optax.adam(optax.cosine_decay_schedule(config.learning_rate, config.epochs, alpha=0.01)),
        train_set,
        keys=jax.random.split(k_batch, config.seeds),
        epochs=config.epochs,
        batch_size=None,
        val_data=test_set,
    )


def _final(res: train.FitResult) -> tuple[float, float]:
    # The mean over seeds of the last epoch; a seed that diverged would show as NaN, not be hidden.
    return float(np.mean(res.history["train_loss"][:, -1])), float(np.mean(res.history["val_loss"][:, -1]))


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    train_np, test_np, _ = data.split_standardized(data.load("covid"), key=key, n_train=config.n_train)
    # Centre the targets on the training mean (MSE is unchanged): Adam then needn't walk the output bias
    # from 0 to ȳ ≈ 16 first.
    y_mean = float(train_np[1].mean())
    train_set = data.to_device(train_np[0], train_np[1] - y_mean)
    test_set = data.to_device(test_np[0], test_np[1] - y_mean)

    # Depth 0 is the linear model at its closed-form least-squares optimum: the baseline is not left unconverged.
    linear = models.linear(train_np[0].shape[1])
    exact = models.least_squares(*train_set)
    linear_pair = (
        float(losses.mse(linear.apply(exact, train_set[0]), train_set[1])),
        float(losses.mse(linear.apply(exact, test_set[0]), test_set[1])),
    )
    by_depth: dict[int, tuple[float, float]] = {}
    curves: dict[int, dict[str, np.ndarray]] = {}
    for depth in config.depths:
        if depth == 0:
            by_depth[0] = linear_pair
            continue
        res = _train_mlp(config, (config.width,) * depth, train_set, test_set, jax.random.fold_in(key, depth))
        by_depth[depth] = _final(res)
        curves[depth] = {k: np.asarray(v).mean(0) for k, v in res.history.items()}
    by_width = {}
    for w in config.widths:
        if w == config.width and config.width_depth in by_depth:
            by_width[w] = by_depth[config.width_depth]  # the same network as in the depth sweep
            continue
        res = _train_mlp(config, (w,) * config.width_depth, train_set, test_set, jax.random.fold_in(key, 100 + w))
        by_width[w] = _final(res)

    depths = list(config.depths)
    train_d = np.array([by_depth[d][0] for d in depths])
    held_d = np.array([by_depth[d][1] for d in depths])
    best_depth = depths[int(np.argmin(held_d))]
    deepest = max(d for d in depths if d > 0)
    deep = curves[deepest]
    min_epoch = int(np.argmin(deep["val_loss"]))
    held_min, held_end = float(deep["val_loss"][min_epoch]), float(deep["val_loss"][-1])
    train_at_min, train_end = float(deep["train_loss"][min_epoch]), float(deep["train_loss"][-1])
    metrics = {
        **{f"train_mse_depth_{d}": float(t) for d, t in zip(depths, train_d)},
        **{f"heldout_mse_depth_{d}": float(v) for d, v in zip(depths, held_d)},
        **{f"train_mse_width_{w}": t for w, (t, _) in by_width.items()},
        **{f"heldout_mse_width_{w}": v for w, (_, v) in by_width.items()},
        "train_worst_step_ratio": float(np.max(train_d[1:] / train_d[:-1])),
        "train_mse_shallowest": float(train_d[0]),
        "train_mse_deepest": float(train_d[-1]),
        "heldout_mse_deepest": float(held_d[-1]),
        "heldout_mse_best": float(held_d.min()),
        "best_depth": float(best_depth),
        "deepest_heldout_min_epoch": float(min_epoch + 1),
        "deepest_heldout_rise": held_end / held_min - 1.0,
        "deepest_train_fall_after_min": 1.0 - train_end / train_at_min if train_at_min > 0 else 0.0,
    }
    falls = metrics["train_worst_step_ratio"] <= 1
    summary = (
        f"MLPs (ReLU, width {config.width}) trained full-batch with Adam (η = {config.learning_rate:g}, cosine "
        "decay, "
        f"{config.epochs} epochs, mean of {config.seeds} seeds) on {config.n_train} rows of `covid.train.csv` (all "
        f"{train_np[0].shape[1]} standardized features), evaluated on {len(test_np[1])} held-out rows; depth 0 is "
        f"the linear model at its closed-form least-squares optimum (training MSE {linear_pair[0]:.3g}, held-out "
        f"{linear_pair[1]:.3g}).\n\n"
        f"Training MSE goes from {train_d[0]:.3g} (depth {depths[0]}) to {train_d[-1]:.3g} (depth {depths[-1]}), "
        f"{'never rising with depth' if falls else 'rising at some depth'}; held-out MSE is lowest at depth "
        f"{best_depth} ({held_d.min():.3g}) and {held_d[-1]:.3g} at depth {deepest}: "
        + (
            "deeper is not better here. "
            if held_d[-1] > held_d.min()
            else "the deepest network is also the best on held-out data here. "
        )
        + f"During training, the depth-{deepest} network's held-out MSE is lowest at epoch {min_epoch + 1} "
        f"({held_min:.3g}) and ends at {held_end:.3g} ({100 * (held_end / held_min - 1):+.1f}%), while its training "
        f"MSE goes from {train_at_min:.3g} to {train_end:.3g}."
    )
    return Result(
        title=(
            f"Depth and overfitting: training MSE {train_d[0]:.3g} → {train_d[-1]:.3g}, held-out best at depth "
            f"{best_depth}"
        ),
        summary=summary,
        metrics=metrics,
        tables={
            f"MSE against depth (width {config.width}; depth 0 = closed-form linear least squares)": table(
                ["hidden layers", "training", "held-out"], [[d, t, v] for d, t, v in zip(depths, train_d, held_d)]
            ),
            f"MSE against width ({config.width_depth} hidden layers)": table(
                ["width", "training", "held-out"], [[w, t, v] for w, (t, v) in by_width.items()]
            ),
        },
        data={
            "by_depth": [by_depth[d] for d in depths],
            "by_width": [by_width[w] for w in config.widths],
            "depths": depths,
            "widths": list(config.widths),
            "curves": curves,
            "deepest": deepest,
            "linear": linear_pair,
            "config": config,
        },
    )


def _two_panels(
    path: Path,
    xs: list[int],
    pairs: list[tuple[float, float]],
    xlabel: str,
    suptitle: str,
    logx: bool,
    linear: tuple[float, float] | None,
) -> Path:
    """Training MSE on a log axis (it spans decades) beside held-out MSE on a linear axis (it does not)."""

    def panel(which: int, marker: str, color: str) -> Any:
        def draw(ax: Any) -> None:
            ax.plot(xs, [p[which] for p in pairs], marker + "-", color=color, label=("training", "held-out")[which])
            if linear is not None:
                ax.axhline(linear[which], color="gray", linestyle="--", linewidth=1, label="linear, closed form")
            if logx:
                ax.set_xscale("log", base=2)
            if which == 0:
                ax.set_yscale("log")
            else:
                v = [p[1] for p in pairs] + ([linear[1]] if linear is not None else [])
                lo, hi = min(v), max(v)
                ax.set_ylim(max(0.0, lo - 0.15 * (hi - lo)), hi + 0.15 * (hi - lo) + 1e-9)
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
        f"{c.n_train} training rows, width {c.width}: held-out best at depth {int(m['best_depth'])}",
        logx=False,
        linear=None,
    )
    widths = d["widths"]
    best_w = widths[int(np.argmin([v for _, v in d["by_width"]]))]
    fig_width = _two_panels(
        out / "loss_vs_width.png",
        widths,
        d["by_width"],
        "width",
        f"{c.width_depth} hidden layers: held-out best at width {best_w}",
        logx=True,
        linear=d["linear"],
    )
    deepest = d["deepest"]
    curve = d["curves"][deepest]
    ep = np.arange(1, len(curve["train_loss"]) + 1)
    k = int(m["deepest_heldout_min_epoch"])

    def draw_train(ax: Any) -> None:
        ax.plot(ep, curve["train_loss"], color="tab:blue", label=f"training, {deepest} layers")
        ax.axhline(d["linear"][0], color="gray", linestyle="--", linewidth=1, label="linear, closed form")
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training MSE (log)")

    def draw_held(ax: Any) -> None:
        ax.plot(ep, curve["val_loss"], color="tab:orange", label=f"held-out, {deepest} layers")
        ax.axhline(d["linear"][1], color="gray", linestyle="--", linewidth=1, label="linear, closed form")
        ax.axvline(k, color="tab:red", linestyle=":", label=f"minimum at epoch {k}")
        ax.set_xscale("log")
        # The first epochs (held-out ≈ ȳ's variance) would squash the part that matters: around the minimum.
        val = curve["val_loss"]
        lo = float(min(val.min(), d["linear"][1]))
        hi = float(max(val[k - 1 :].max(), d["linear"][1])) * 1.6
        ax.set_ylim(0.0 if lo < 0.5 * hi else 0.9 * lo, hi)
        ax.set_xlabel("epoch")
        ax.set_ylabel("held-out MSE")

    # the held-out panel zooms on the minimum: say so when the zoom cuts the first epochs off
    top = float(max(curve["val_loss"][k - 1 :].max(), d["linear"][1])) * 1.6
    above = int(np.sum(curve["val_loss"] > top))
    held_title = "held-out MSE" + (f" (first {above} epochs above the axis)" if above else "")
    fig_curves = plot.panels(
        out / "curves_deepest.png",
        [draw_train, draw_held],
        titles=["training MSE", held_title],
        suptitle=(
            f"Depth {deepest}: held-out lowest at epoch {k}, then {100 * m['deepest_heldout_rise']:+.1f}% by the end"
        ),
        ncols=2,
    )
    return [fig_depth, fig_width, fig_curves]
