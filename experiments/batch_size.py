"""Batch size: time per update and per epoch, noisy small-batch vs smooth full-batch paths, and small- vs
large-batch generalization in the manner of Keskar et al. (2017) (SCOPE §4.1)."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import data, losses, models, optim, plot, train
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Batch size: time per update/epoch, noisy vs full-batch paths, small vs large batch on digits"
SECTION = "4.1"

#: the lecture's table (Keskar et al. 2017, Adam): test accuracy (%) with small batch (256) vs large (10%)
KESKAR = {
    "F1 (MLP, MNIST)": (98.03, 97.81),
    "F2 (MLP, TIMIT)": (64.02, 59.45),
    "C1 (CNN, CIFAR-10)": (80.04, 77.26),
    "C2 (CNN, CIFAR-10)": (89.24, 87.26),
    "C3 (CNN, CIFAR-100)": (49.58, 46.45),
    "C4 (CNN, CIFAR-100)": (63.08, 57.81),
}


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    timing_batch_sizes: tuple[int, ...] = (1, 4, 16, 64, 256, 0)  # 0 = full batch
    timing_epochs: int = 6
    hidden: tuple[int, ...] = (256, 256)
    small_batch: int = 16
    large_fraction: float = 0.1  # Keskar's large batch: 10% of the training set
    epochs_small: int = 30
    epochs_large: int = 100  # more epochs, so that both reach ~100% training accuracy as in Keskar et al.
    learning_rate: float = 1e-3
    seeds: int = 3
    path_epochs: int = 30
    path_eta: float = 0.02


def _epoch_times(objective, params, batch, data_, key, epochs: int) -> np.ndarray:
    """Wall time of each epoch after the first (which compiles), from fit's per-epoch callback."""
    stamps: list[float] = []
    # checkpoint_every=1 without a checkpoint_dir: one compiled call per epoch, nothing written
    train.fit(
        objective,
        params,
        optim.sgd(0.01),
        data_,
        key=key,
        epochs=epochs,
        batch_size=batch,
        checkpoint_every=1,
        callback=lambda epoch, state: stamps.append(time.perf_counter()),
        progress=False,
    )
    return np.diff(stamps)


def _path(objective, params, data_, batch, eta, epochs, key) -> np.ndarray:
    """(w, b) after every epoch of gradient descent on the 2-parameter linear model."""
    points = [(float(params["w"][0, 0]), float(params["b"][0]))]
    record = lambda epoch, state: points.append((float(state.params["w"][0, 0]), float(state.params["b"][0])))
    train.fit(
        objective, params, optim.sgd(eta), data_, key=key, epochs=epochs, batch_size=batch,
        checkpoint_every=1, callback=record, progress=False,
    )  # fmt: skip
    return np.array(points)


def main(config: Config) -> Result:
    out = config.out_dir("batch_size")
    key = jax.random.PRNGKey(config.seed)
    quick = config.quick
    digits = data.load("digits")
    (x_tr, y_tr), (x_te, y_te) = data.train_test_split(digits.x / 16.0, digits.y, key=key)
    train_set, test_set = data.to_device(x_tr, y_tr), data.to_device(x_te, y_te)
    n = len(y_tr)
    hidden = (64, 64) if quick else config.hidden
    model = models.mlp(64, hidden, 10)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])

    # 1. time per update and per epoch
    sizes = (16, 0) if quick else config.timing_batch_sizes
    sizes = [n if b == 0 else b for b in sizes]
    params0 = jax.jit(model.init)(jax.random.fold_in(key, 1))
    per_epoch = []
    for b in sizes:
        times = _epoch_times(objective, params0, b, train_set, key, 3 if quick else config.timing_epochs)
        per_epoch.append(float(np.median(times)))
    per_update = [t / (n // b) for t, b in zip(per_epoch, sizes)]

    # 2. noisy vs full-batch paths on a two-parameter problem (w, b) with the lecture's 20 examples
    xs, ys = data.noisy_regression_1d(3, n=20, noise=0.5, low=-2.0, high=2.0, fn=lambda t: 2.0 * t + 1.0)
    line = models.linear(1)
    line_objective = train.supervised(line.apply, losses.mse)
    start = {"w": jnp.full((1, 1), -2.0), "b": jnp.full((1,), 3.0)}
    small_path = _path(line_objective, start, data.to_device(xs, ys), 1, config.path_eta, config.path_epochs, key)
    full_path = _path(line_objective, start, data.to_device(xs, ys), None, config.path_eta, config.path_epochs, key)
    mse_grid = lambda w, b: np.mean((w[..., None] * xs + b[..., None] - ys) ** 2, axis=-1)
    least_squares = tuple(float(v) for v in np.polyfit(xs, ys, 1))  # (w, b), the closed-form minimum

    # 3. small vs large batch (Keskar et al.): both trained until ~100% training accuracy, several seeds
    large = max(int(round(config.large_fraction * n)), config.small_batch + 1)
    seeds = 2 if quick else config.seeds
    epochs = {config.small_batch: 10 if quick else config.epochs_small, large: 30 if quick else config.epochs_large}
    k_init, k_batch = jax.random.split(jax.random.fold_in(key, 2))
    keskar = {}
    for b, e in epochs.items():
        res = train.fit_sweep(
            objective,
            jax.jit(jax.vmap(model.init))(jax.random.split(k_init, seeds)),
            optim.adam(config.learning_rate),
            train_set,
            keys=jax.random.split(k_batch, seeds),
            epochs=e,
            batch_size=b,
            val_data=test_set,
            metrics={"accuracy": accuracy},
        )
        keskar[b] = res.history
    sb, lb = keskar[config.small_batch], keskar[large]
    pct = lambda h, k: 100 * float(h[k][:, -1].mean())

    figures = [
        plot.panels(
            out / "time_vs_batch_size.png",
            [
                lambda ax: (ax.loglog(sizes, per_update, "o-"), ax.set_xlabel("batch size"), ax.set_ylabel("s")),
                lambda ax: (ax.loglog(sizes, per_epoch, "s-"), ax.set_xlabel("batch size"), ax.set_ylabel("s")),
            ],
            titles=["time per update", "time per epoch"],
            suptitle=f"MLP 64-{'-'.join(map(str, hidden))}-10 on {n} digits, this machine's CPU",
            ncols=2,
        ),
        *[
            plot.contour(
                out / f"noisy_vs_full_batch{suffix}.png",
                mse_grid,
                xlim,
                ylim,
                title=f"y = wx + b, 20 examples, η = {config.path_eta:g}: (w, b) per epoch{what}",
                xlabel="w",
                ylabel="b",
                trajectories={
                    "full batch (1 update per epoch)": full_path,
                    "batch size 1 (20 updates per epoch)": small_path,
                },
                points={"least squares": least_squares},
                log_levels=True,
            )
            for suffix, what, xlim, ylim in (
                ("", "", (-3.0, 4.0), (-1.0, 4.0)),
                ("_zoom", " (zoom)", (least_squares[0] - 0.4, least_squares[0] + 0.4),
                 (least_squares[1] - 0.4, least_squares[1] + 0.4)),
            )
        ],
        plot.panels(
            out / "small_vs_large_batch.png",
            [
                lambda ax: [
                    ax.plot(np.arange(1, len(h["train_accuracy"][0]) + 1), 100 * h["train_accuracy"].mean(0), "-",
                            label=f"train, B = {b}")
                    for b, h in keskar.items()
                ]
                + [
                    ax.plot(np.arange(1, len(h["val_accuracy"][0]) + 1), 100 * h["val_accuracy"].mean(0), "--",
                            label=f"test, B = {b}")
                    for b, h in keskar.items()
                ]
                and ax.set_xlabel("epoch"),
                lambda ax: (
                    ax.bar(["SB train", "SB test", "LB train", "LB test"],
                           [pct(sb, "train_accuracy"), pct(sb, "val_accuracy"), pct(lb, "train_accuracy"),
                            pct(lb, "val_accuracy")]),
                    ax.set_ylim(90, 100.5),
                    ax.set_ylabel("accuracy (%)"),
                ),
            ],
            titles=["accuracy (mean over seeds)", f"final: SB = {config.small_batch}, LB = {large} (10%)"],
            suptitle="Small vs large batch on digits (Adam), in the manner of Keskar et al. 2017",
            ncols=2,
        ),
    ]  # fmt: skip

    keskar_rows = [[name, sb_, lb_, "—", "—"] for name, (sb_, lb_) in KESKAR.items()]
    keskar_rows.append(
        [f"ours: MLP on digits (SB {config.small_batch}, LB {large})", pct(sb, "val_accuracy"), pct(lb, "val_accuracy"),
         pct(sb, "train_accuracy"), pct(lb, "train_accuracy")]
    )  # fmt: skip
    metrics = {
        "time_per_update_smallest_batch_s": per_update[0],
        "time_per_update_full_batch_s": per_update[-1],
        "time_per_epoch_smallest_batch_s": per_epoch[0],
        "time_per_epoch_full_batch_s": per_epoch[-1],
        "small_batch_test_accuracy": pct(sb, "val_accuracy"),
        "large_batch_test_accuracy": pct(lb, "val_accuracy"),
        "small_batch_train_accuracy": pct(sb, "train_accuracy"),
        "large_batch_train_accuracy": pct(lb, "train_accuracy"),
        "small_batch_path_final_distance": float(np.linalg.norm(small_path[-1] - least_squares)),
        "full_batch_path_final_distance": float(np.linalg.norm(full_path[-1] - least_squares)),
        "small_batch_path_jitter_last_10_epochs": float(
            np.linalg.norm(np.diff(small_path[-11:], axis=0), axis=1).mean()
        ),
        "full_batch_path_step_last_10_epochs": float(np.linalg.norm(np.diff(full_path[-11:], axis=0), axis=1).mean()),
    }
    return Result(
        title="Batch size",
        summary=(
            f"**Time.** On this machine's CPU an update on a batch of {sizes[-1]} costs "
            f"{per_update[-1] / per_update[0]:.1f}× an update on a batch of {sizes[0]} — far less than the "
            f"{sizes[-1] // sizes[0]}× more examples it sees — so a full epoch takes "
            f"{per_epoch[0] / per_epoch[-1]:.1f}× "
            "less time with the large batch (the lecture's point, which parallel hardware makes stronger). "
            "**Noise.** Fitting y = wx + b to 20 examples, full-batch gradient descent takes one smooth step per "
            "epoch; batch size 1 takes 20 noisy steps per epoch and gets near the minimum in a few epochs, then "
            "jitters around it. **Generalization.** An MLP on digits trained by Adam with a small batch "
            f"({config.small_batch}) and with Keskar et al.'s large batch (10% of the data, {large}), the large one "
            f"for more epochs so that both fit the training set: test accuracy {pct(sb, 'val_accuracy'):.2f}% vs "
            f"{pct(lb, 'val_accuracy'):.2f}% (training {pct(sb, 'train_accuracy'):.1f}% vs "
            f"{pct(lb, 'train_accuracy'):.1f}%), mean of {seeds} seeds: a small-batch advantage of "
            f"{pct(sb, 'val_accuracy') - pct(lb, 'val_accuracy'):+.2f} points on this small, easy data set, where "
            "the lecture's table (Keskar et al., MNIST to CIFAR-100) shows 0.2 to 5 points."
        ),
        metrics=metrics,
        tables={
            "Time against batch size": table(
                ["batch size", "updates per epoch", "s per update", "s per epoch"],
                [[b, n // b, u, e] for b, u, e in zip(sizes, per_update, per_epoch)],
            ),
            "Test accuracy (%), small batch (SB) vs large batch (LB): the lecture's Keskar et al. (2017) numbers "
            "and ours": table(["network, data", "SB test", "LB test", "SB train", "LB train"], keskar_rows),
        },
        figures=[str(f) for f in figures],
        data={"sizes": sizes, "per_update": per_update, "per_epoch": per_epoch, "keskar": keskar,
              "small_path": small_path, "full_path": full_path},
    )  # fmt: skip
