"""Deeper is not always better: training and held-out loss against depth and width on the COVID HW1 data
(SCOPE §1.7)."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import ExperimentConfig, Result, table

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
    learning_rate: float = 1e-2
    seeds: int = 3


def _train_mlp(
    config: Config, hidden: tuple[int, ...], train_set: tuple, test_set: tuple, epochs: int, key: jax.Array
) -> train.FitResult:
    model = models.mlp(train_set[0].shape[1], hidden, activation=jax.nn.relu)
    k_init, k_batch = jax.random.split(key)
    return train.fit_sweep(
        train.supervised(model.apply, losses.mse),
        jax.vmap(model.init)(jax.random.split(k_init, config.seeds)),
        optax.adam(config.learning_rate),
        train_set,
        keys=jax.random.split(k_batch, config.seeds),
        epochs=epochs,
        batch_size=None,
        val_data=test_set,
    )


def main(config: Config) -> Result:
    out = config.out_dir("depth_overfitting")
    key = jax.random.PRNGKey(config.seed)
    train_set, test_set, _ = data.split_standardized(data.load("covid"), key=key, n_train=config.n_train)
    # Centre the targets on the training mean (MSE is unchanged): Adam then needn't spend hundreds of steps
    # walking the output bias from 0 to ȳ ≈ 16, which would make the linear baseline look falsely bad.
    y_mean = train_set[1].mean()
    train_set = data.to_device(train_set[0], train_set[1] - y_mean)
    test_set = data.to_device(test_set[0], test_set[1] - y_mean)
    depths = config.depths[::2] if config.quick else config.depths
    widths = (config.widths[0], config.widths[-1]) if config.quick else config.widths
    epochs = config.epochs // 3 if config.quick else config.epochs

    def final(res: train.FitResult) -> tuple[float, float]:
        # The mean over seeds of the last epoch; a seed that diverged would show as NaN, not be hidden.
        return float(np.mean(res.history["train_loss"][:, -1])), float(np.mean(res.history["val_loss"][:, -1]))

    by_depth, curves = [], {}
    for depth in depths:
        res = _train_mlp(config, (config.width,) * depth, train_set, test_set, epochs, jax.random.fold_in(key, depth))
        by_depth.append(final(res))
        curves[depth] = res.history
    by_width = [
        final(
            _train_mlp(config, (w,) * config.width_depth, train_set, test_set, epochs, jax.random.fold_in(key, 100 + w))
        )
        for w in widths
    ]
    fig_depth = plot.train_test(
        out / "loss_vs_depth.png",
        depths,
        [t for t, _ in by_depth],
        [v for _, v in by_depth],
        title=f"{config.n_train} training rows, width {config.width}, {epochs} epochs (mean of {config.seeds} seeds)",
        xlabel="hidden layers (0 = linear)",
        ylabel="MSE",
        logy=True,
        labels=("training", "held-out"),
    )
    fig_width = plot.train_test(
        out / "loss_vs_width.png",
        widths,
        [t for t, _ in by_width],
        [v for _, v in by_width],
        title=f"{config.width_depth} hidden layers: MSE against width",
        xlabel="width",
        ylabel="MSE",
        logx=True,
        logy=True,
        labels=("training", "held-out"),
    )
    deepest = depths[-1]
    ep = np.arange(1, epochs + 1)
    fig_curves = plot.curves(
        out / "curves_deepest.png",
        {
            f"training ({deepest} layers)": (ep, curves[deepest]["train_loss"].mean(0)),
            f"held-out ({deepest} layers)": (ep, curves[deepest]["val_loss"].mean(0)),
            "training (linear)": (ep, curves[depths[0]]["train_loss"].mean(0)),
            "held-out (linear)": (ep, curves[depths[0]]["val_loss"].mean(0)),
        },
        title="Training loss keeps falling while held-out loss turns up",
        xlabel="epoch",
        ylabel="MSE",
        logy=True,
    )
    best_depth = depths[int(np.argmin([v for _, v in by_depth]))]
    deep_val = curves[deepest]["val_loss"].mean(0)
    return Result(
        title="Depth, width and overfitting",
        summary=(
            f"MLPs (ReLU) trained full-batch with Adam on {config.n_train} rows of `covid.train.csv` (all 116 "
            f"standardized features), evaluated on {len(test_set[1])} held-out rows. Training loss falls with "
            f"depth, while the held-out loss is lowest at depth {best_depth}: deeper is not always better. "
            f"For the deepest net the held-out loss bottoms out at epoch {int(np.argmin(deep_val)) + 1} and "
            "rises after, while training loss keeps falling."
        ),
        metrics={
            **{f"train_mse_depth_{d}": t for d, (t, _) in zip(depths, by_depth)},
            **{f"heldout_mse_depth_{d}": v for d, (_, v) in zip(depths, by_depth)},
            "best_depth": float(best_depth),
            "deepest_heldout_min_epoch": float(np.argmin(deep_val) + 1),
        },
        tables={
            "MSE against depth": table(
                ["hidden layers", "training", "held-out"], [[d, t, v] for d, (t, v) in zip(depths, by_depth)]
            ),
            "MSE against width": table(
                ["width", "training", "held-out"], [[w, t, v] for w, (t, v) in zip(widths, by_width)]
            ),
        },
        figures=[str(f) for f in (fig_depth, fig_width, fig_curves)],
        data={"by_depth": by_depth, "by_width": by_width, "depths": list(depths), "widths": list(widths)},
    )
