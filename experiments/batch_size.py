"""Batch size: time per update and per epoch on this machine, noisy small-batch vs smooth full-batch paths, and
small- vs large-batch generalization in the manner of Keskar et al. (2017) (course §4.1)."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, NullFormatter

from jaxml import data, losses, models, optim, plot, train
from jaxml.report import Claim, ExperimentConfig, Requirement, Result, flag, integer, number, progress, table, tuple_of

DESCRIPTION = "Batch size: time per update/epoch on this hardware, noisy vs full-batch paths, small vs large batch"
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

#: "about the same time": a full-batch update within this factor of a batch-1 update
NEARLY_FREE = 2.0
# "Much longer per epoch": 4×. Computed one example after another (the control), a full-batch epoch costs about
# what a batch-1 epoch does (about 2× less, from per-update overhead), so a 2× margin could not fail reliably.
MUCH_SLOWER = 4.0


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    timing_batch_sizes: tuple[int, ...] = (1, 4, 16, 64, 256, 0)  # 0 = full batch
    timing_repeats: int = 15  # calls per batch size, interleaved across sizes: the timing claims' replicates
    serial_batch: bool = False  # the control: a batch's examples computed one after another (no parallelism)
    hidden: tuple[int, ...] = (256, 256)
    small_batch: int = 32
    large_fraction: float = 0.1  # Keskar's large batch: 10% of the training set
    epochs_small: int = 20
    epochs_large: int = 60  # more epochs (as many updates as the small batch's first ~13), to fit the training set
    learning_rate: float = 1e-3
    shuffle_labels: bool = False  # the control of the Keskar claims: both batch sizes trained on permuted labels
    path_examples: int = 20
    path_batch: int = 1  # the noisy path's batch size; path_examples (the full batch) is the control
    path_epochs: int = 30
    path_eta: float = 0.02

    QUICK = {"timing_repeats": 10, "hidden": (128, 128), "epochs_small": 12, "epochs_large": 40}

    DOMAINS = {
        "timing_batch_sizes": tuple_of(integer(0, 10**6)),  # 0 (or more than the training rows): the full batch
        "timing_repeats": integer(2, 10**4),
        "serial_batch": flag(),
        "hidden": tuple_of(integer(1, 10**4)),
        "small_batch": integer(1, 1000),
        "large_fraction": number(0, 1, low_open=True),
        "epochs_small": integer(),
        "epochs_large": integer(),
        "learning_rate": number(0, low_open=True),
        "shuffle_labels": flag(),
        "path_examples": integer(2, 10**6),
        "path_batch": integer(1, 10**6),
        "path_epochs": integer(),
        "path_eta": number(0, low_open=True),
    }
    REQUIRES = (
        Requirement(
            ("path_batch", "path_examples"),
            "path_batch must be at most path_examples",
            lambda c: c.path_batch <= c.path_examples,
        ),
    )


SERIAL = {"serial_batch": True}  # no parallel hardware: a batch of B costs B examples' time
SHUFFLED = {"shuffle_labels": True}
PATH_FULL = {"path_batch": 20}  # the "small batch" path is the full-batch path: no gradient noise


CLAIMS = (
    Claim(
        "large_batch_update_nearly_free",
        "4.1",
        f"With parallel hardware a larger batch costs about the same time per update: the full-batch update "
        f"takes at most {NEARLY_FREE:g}× the time of a batch-1 update (per timed repeat: ln {NEARLY_FREE:g} − "
        "ln ratio).",
        reads=("update_time_ratio_full_over_1", "full_batch_size", "cpu_cores"),
        effect="log_nearly_free_minus_log_update_ratio",
        control=SERIAL,
        expected=False,
        explain=lambda m: (
            f"Measured on this machine's CPU ({m['cpu_cores']:.0f} cores, no accelerator): a full-batch update "
            f"({m['full_batch_size']:.0f} examples) takes {m['update_time_ratio_full_over_1']:.3g}× a batch-1 "
            "update (median over the repeats). A 2-core CPU has little parallelism to fill, so per-update cost "
            "grows with the batch; the lecture's near-constant cost is a GPU's (thousands of cores); run there, "
            "the verdict may differ."
        ),
    ),
    Claim(
        "small_batch_epoch_slower",
        "4.1",
        "Small batches take longer per epoch (many sequential updates, each with its own fixed overhead): an "
        f"epoch at batch size 1 takes more than {MUCH_SLOWER:g}× a full-batch epoch "
        f"(per timed repeat: ln ratio − ln {MUCH_SLOWER:g}).",
        reads=("epoch_time_ratio_1_over_full",),
        effect="log_epoch_ratio_minus_log_much_slower",
        control=SERIAL,
    ),
    Claim(
        "full_batch_stable",
        "4.1",
        "Full batch: one stable step per epoch — on a least-squares problem with η < 2/λmax(H) its distance to "
        "the minimum falls in every epoch (a theorem: ‖(I − ηH)ᵗ e₀‖ is non-increasing), in every replicate.",
        lambda m: m["full_batch_path_distance_rises_max"] == 0 and m["path_eta_times_lambda_max_max"] < 2,
        reads=("full_batch_path_distance_rises_max", "path_eta_times_lambda_max_max"),
    ),
    Claim(
        "small_batch_noisy",
        "4.1",
        "Small batch: noisy steps — batch size 1's distance to the minimum rises again in some epochs, where the "
        "full batch's never does (paired by data draw: rises at batch 1 − rises at full batch).",
        reads=("small_batch_path_distance_rises", "full_batch_path_distance_rises"),
        effect="path_rises_small_minus_full",
        control=PATH_FULL,
    ),
    Claim(
        "both_fit_training_set",
        "4.1",
        "In the Keskar et al. comparison both batch sizes fit the training set: ≥ 99% training accuracy (per "
        "replicate: the lower of the two training counts − ⌈0.99 n⌉).",
        reads=("small_batch_train_accuracy", "large_batch_train_accuracy"),
        effect="train_correct_min_minus_99_percent",
        control=SHUFFLED,
    ),
    Claim(
        "small_batch_generalizes_better",
        "4.1",
        "Small batches generalize better (Keskar et al.: higher test accuracy at about equal training accuracy): "
        "the small batch gets more test images right than the large batch (paired by initialization and batch "
        "order: correct SB − correct LB).",
        reads=("small_batch_test_accuracy", "large_batch_test_accuracy", "keskar_test_gap_images", "test_examples"),
        effect="test_correct_small_minus_large",
        control=SHUFFLED,
        expected=False,
        explain=lambda m: (
            f"Small batch {m['small_batch_test_accuracy']:.2f}% vs large batch {m['large_batch_test_accuracy']:.2f}%"
            f" on {m['test_examples']:.0f} test images: a paired gap of {m['keskar_test_gap_images']:+.2f} images "
            "on average. Both batch sizes reach about the same test accuracy on digits; the lecture's smallest gap "
            "(0.2 points on MNIST) is less than one of our test images, its largest (5 points on CIFAR-100) comes "
            "from larger, harder data."
        ),
    ),  # fmt: skip
)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _epoch_seconds(objective, params, optimizer, data_, batch: int, epochs: int = 3) -> float:
    """The fastest of ``epochs`` consecutive epochs' wall times (after one more, which absorbs the call's set-up
    and, on the very first call for this batch size, the compilation): the minimum drops the epochs that another
    process interrupted. Dispatch is asynchronous, so each stamp waits for its chunk's result first."""
    stamps: list[float] = []

    def stamp(epoch: int, state) -> None:
        jax.block_until_ready(state.params)
        stamps.append(time.perf_counter())

    train.fit(
        objective, params, optimizer, data_, key=0, epochs=epochs + 1, batch_size=batch, callback_every=1,
        callback=stamp, progress=False,
    )  # fmt: skip
    return float(np.min(np.diff(stamps)))


def _time_batch_sizes(objective, params, data_, sizes: list[int], repeats: int, seed: int) -> np.ndarray:
    """(repeats, len(sizes)) epoch times. Every size is compiled first; then the repeats interleave the sizes in
    a fresh random order each time, so that a burst of load from other processes hits all sizes alike."""
    optimizer = optim.sgd(0.01)  # η is an argument of the trainer's program: one program per batch size
    for b in sizes:
        _epoch_seconds(objective, params, optimizer, data_, b)
    rng = np.random.default_rng(seed)
    times = np.zeros((repeats, len(sizes)))
    for r in range(repeats):
        for i in rng.permutation(len(sizes)):
            times[r, i] = _epoch_seconds(objective, params, optimizer, data_, sizes[i])
    return times


def _path(objective, params, data_, batch, eta, epochs, key) -> np.ndarray:
    """(w, b) after every epoch of gradient descent on the 2-parameter linear model."""
    points = [(float(params["w"][0, 0]), float(params["b"][0]))]
    record = lambda epoch, state: points.append((float(state.params["w"][0, 0]), float(state.params["b"][0])))
    train.fit(
        objective, params, optim.sgd(eta), data_, key=key, epochs=epochs, batch_size=batch,
        callback_every=1, callback=record, progress=False,
    )  # fmt: skip
    return np.array(points)


def _serial(objective):
    """The same objective with the batch's examples computed one after another (``lax.map``: a loop, no
    vectorization): the mean of the per-example losses, as with parallel hardware removed."""

    def one_at_a_time(params, batch):
        one = lambda example: objective(params, jax.tree.map(lambda a: a[None], example))
        return jnp.mean(jax.lax.map(one, batch))

    return one_at_a_time


def _rises(path: np.ndarray, target) -> int:
    """How many epochs moved the parameters farther from ``target`` (the least-squares point)."""
    return int(np.sum(np.diff(np.linalg.norm(path - np.asarray(target), axis=1)) > 0))


def compute(config: Config) -> Result:
    key = jax.random.PRNGKey(config.seed)
    reps = config.replicates
    digits = data.load("digits")
    (x_tr, y_tr), (x_te, y_te) = data.train_test_split(digits.x / 16.0, digits.y, key=key)
    if config.shuffle_labels:
        y_tr = np.asarray(jax.random.permutation(jax.random.fold_in(key, 3), y_tr))
    train_set, test_set = data.to_device(x_tr, y_tr), data.to_device(x_te, y_te)
    n = len(y_tr)
    model = models.mlp(64, config.hidden, 10)
    arch = f"MLP 64-{'-'.join(map(str, config.hidden))}-10"
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])

    # 1. time per epoch and per update (interleaved repeats after compilation: each repeat is a replicate)
    sizes = sorted({n if b == 0 else min(b, n) for b in config.timing_batch_sizes})
    params0 = jax.jit(model.init)(jax.random.fold_in(key, 1))
    load_before = os.getloadavg()[0]
    timed = _serial(objective) if config.serial_batch else objective
    progress(f"timing {len(sizes)} batch sizes × {config.timing_repeats} repeats")
    epoch_times = _time_batch_sizes(timed, params0, train_set, sizes, config.timing_repeats, config.seed)
    load_after = os.getloadavg()[0]
    updates = np.array([n // b for b in sizes])
    per_epoch = np.median(epoch_times, axis=0)
    per_update = per_epoch / updates
    spread = (epoch_times.min(0) / updates, epoch_times.max(0) / updates)
    update_ratio = (epoch_times[:, -1] / updates[-1]) / (epoch_times[:, 0] / updates[0])  # per repeat
    epoch_ratio = epoch_times[:, 0] / epoch_times[:, -1]

    # 2. noisy vs full-batch paths on a two-parameter problem (w, b): one data draw and batch order per replicate
    progress(f"batch-1 and full-batch paths on {reps} data draws")
    line = models.linear(1)
    line_objective = train.supervised(line.apply, losses.mse)
    start = {"w": jnp.full((1, 1), -2.0), "b": jnp.full((1,), 3.0)}
    paths = []
    for k in jax.random.split(jax.random.fold_in(key, 4), reps):
        k_data, k_order = jax.random.split(k)
        xs, ys = data.noisy_regression_1d(
            k_data, n=config.path_examples, noise=0.5, low=-2.0, high=2.0, fn=lambda t: 2.0 * t + 1.0
        )
        line_set = data.to_device(xs, ys)
        small = _path(line_objective, start, line_set, config.path_batch, config.path_eta, config.path_epochs, k_order)
        full = _path(line_objective, start, line_set, None, config.path_eta, config.path_epochs, k_order)
        least_squares = tuple(float(v) for v in np.polyfit(xs, ys, 1))  # (w, b), the closed-form minimum
        design = np.stack([xs, np.ones_like(xs)], axis=1)
        lam_max = float(np.linalg.eigvalsh(2 * design.T @ design / len(xs))[-1])  # the Hessian of the MSE
        paths.append({"xs": xs, "ys": ys, "small": small, "full": full, "least_squares": least_squares,
                      "rises_small": _rises(small, least_squares), "rises_full": _rises(full, least_squares),
                      "eta_lambda_max": config.path_eta * lam_max})  # fmt: skip
    rises_small = np.array([p["rises_small"] for p in paths], dtype=np.int64)
    rises_full = np.array([p["rises_full"] for p in paths], dtype=np.int64)
    first = paths[0]
    dist_small = np.linalg.norm(first["small"] - first["least_squares"], axis=1)
    dist_full = np.linalg.norm(first["full"] - first["least_squares"], axis=1)

    # 3. small vs large batch (Keskar et al.): both trained to fit the training set, replicates in one sweep
    large = max(int(round(config.large_fraction * n)), config.small_batch + 1)
    k_init, k_batch = jax.random.split(jax.random.fold_in(key, 2))
    init = jax.jit(jax.vmap(model.init))(jax.random.split(k_init, reps))  # the same initializations for both
    keskar = {}
    for b, e in ((config.small_batch, config.epochs_small), (large, config.epochs_large)):
        progress(f"Keskar et al.: batch {b}, {e} epochs, {reps} replicates in one sweep")
        res = train.fit_sweep(
            objective, init, optim.adam(config.learning_rate), train_set, keys=jax.random.split(k_batch, reps),
            epochs=e, batch_size=b, val_data=test_set, metrics={"accuracy": accuracy},
        )  # fmt: skip
        keskar[b] = {k: 100 * np.asarray(v) if "accuracy" in k else np.asarray(v) for k, v in res.history.items()}
    sb, lb = keskar[config.small_batch], keskar[large]
    # counts are integers: an accuracy (a float32 fraction) times the set's size, rounded
    count = lambda acc, size: np.rint(acc / 100 * size).astype(np.int64)
    sb_train, lb_train = count(sb["train_accuracy"][:, -1], n), count(lb["train_accuracy"][:, -1], n)
    sb_test, lb_test = count(sb["val_accuracy"][:, -1], len(y_te)), count(lb["val_accuracy"][:, -1], len(y_te))
    needed = -(-99 * n // 100)  # ⌈0.99 n⌉
    gap = sb_test - lb_test  # paired by replicate (same initialization and batch-order key)

    metrics = {
        "full_batch_size": n,
        "cpu_cores": int(os.cpu_count() or 0),
        "load_average_during_timing": float(max(load_before, load_after)),
        "time_per_update_batch_1_s": float(per_update[0]),
        "time_per_update_full_batch_s": float(per_update[-1]),
        "time_per_epoch_batch_1_s": float(per_epoch[0]),
        "time_per_epoch_full_batch_s": float(per_epoch[-1]),
        "update_time_ratio_full_over_1": float(np.median(update_ratio)),
        "per_example_speedup_full_over_1": float(np.median(epoch_ratio)),
        "epoch_time_ratio_1_over_full": float(np.median(epoch_ratio)),
        "small_batch_path_distance_rises": float(rises_small.mean()),
        "full_batch_path_distance_rises": float(rises_full.mean()),
        "full_batch_path_distance_rises_max": int(rises_full.max()),
        "path_eta_times_lambda_max_max": float(max(p["eta_lambda_max"] for p in paths)),
        "small_batch_path_final_distance": float(dist_small[-1]),
        "full_batch_path_final_distance": float(dist_full[-1]),
        "small_batch_test_accuracy": float(sb["val_accuracy"][:, -1].mean()),
        "large_batch_test_accuracy": float(lb["val_accuracy"][:, -1].mean()),
        "small_batch_test_accuracy_std": float(sb["val_accuracy"][:, -1].std(ddof=1)),
        "large_batch_test_accuracy_std": float(lb["val_accuracy"][:, -1].std(ddof=1)),
        "small_batch_train_accuracy": float(sb["train_accuracy"][:, -1].mean()),
        "large_batch_train_accuracy": float(lb["train_accuracy"][:, -1].mean()),
        "small_batch_train_accuracy_min": float(sb["train_accuracy"][:, -1].min()),
        "large_batch_train_accuracy_min": float(lb["train_accuracy"][:, -1].min()),
        "keskar_test_gap_images": float(gap.mean()),
        "keskar_test_gap_points": float(100 * gap.mean() / len(y_te)),
        "test_examples": int(len(y_te)),
    }
    replicates = {
        "log_nearly_free_minus_log_update_ratio": np.log(NEARLY_FREE) - np.log(update_ratio),
        "log_epoch_ratio_minus_log_much_slower": np.log(epoch_ratio) - np.log(MUCH_SLOWER),
        "path_rises_small_minus_full": rises_small - rises_full,
        "train_correct_min_minus_99_percent": np.minimum(sb_train, lb_train) - needed,
        "test_correct_small_minus_large": gap,
    }
    m = metrics
    se_gap = float(gap.std(ddof=1) / np.sqrt(reps))
    cpu = f"{_cpu_name()} ({m['cpu_cores']} cores; load average {m['load_average_during_timing']:.1f})"
    keskar_rows = [[name, sb_, lb_, "—", "—"] for name, (sb_, lb_) in KESKAR.items()]
    keskar_rows.append(
        [f"ours: {arch} on digits (SB {config.small_batch}, LB {large}), {reps} replicates",
         f"{m['small_batch_test_accuracy']:.2f} ± {m['small_batch_test_accuracy_std']:.2f}",
         f"{m['large_batch_test_accuracy']:.2f} ± {m['large_batch_test_accuracy_std']:.2f}",
         m["small_batch_train_accuracy"], m["large_batch_train_accuracy"]]
    )  # fmt: skip
    how = "one example after another (`lax.map`, the negative control)" if config.serial_batch else "vectorized"
    shuffled = " on permuted training labels (the negative control)" if config.shuffle_labels else ""
    summary = (
        f"**Time** ({arch}, plain SGD, {n} digits, each batch's examples computed {how}, on {cpu}; "
        f"{config.timing_repeats} repeats per batch size, timed after compilation with the sizes interleaved in "
        "random order, since other processes share the machine; each call's figure is its fastest of 3 "
        "consecutive epochs). An update on the full "
        f"batch ({n} examples) takes {m['update_time_ratio_full_over_1']:.3g}× an update on 1 example (median "
        f"over repeats, from {update_ratio.min():.3g} to {update_ratio.max():.3g}), so an epoch takes "
        f"{m['epoch_time_ratio_1_over_full']:.3g}× longer at batch size 1 ({n} updates) than with the full batch "
        f"(1 update; from {epoch_ratio.min():.3g} to {epoch_ratio.max():.3g}). **Noise.** Fitting y = wx + b to "
        f"{config.path_examples} examples with η = {config.path_eta:g} ({reps} data draws), the full-batch "
        f"distance to the least-squares point rises in {m['full_batch_path_distance_rises']:.3g} of "
        f"{config.path_epochs} epochs on average (at most {m['full_batch_path_distance_rises_max']}; "
        f"ηλmax ≤ {m['path_eta_times_lambda_max_max']:.3g} < 2), batch size {config.path_batch}'s in "
        f"{m['small_batch_path_distance_rises']:.3g} (from {rises_small.min()} to {rises_small.max()}). "
        f"**Generalization** (Keskar et al.{shuffled}): Adam (η = {config.learning_rate:g}) with a small batch "
        f"({config.small_batch}, {config.epochs_small} epochs) and a large one (10% of the data, {large}, "
        f"{config.epochs_large} epochs), {reps} replicates with the same initializations and batch-order keys: "
        f"training accuracy {m['small_batch_train_accuracy']:.2f}% and {m['large_batch_train_accuracy']:.2f}% "
        f"(lowest {m['small_batch_train_accuracy_min']:.1f}% and {m['large_batch_train_accuracy_min']:.1f}%); "
        f"test accuracy {m['small_batch_test_accuracy']:.2f} ± {m['small_batch_test_accuracy_std']:.2f}% vs "
        f"{m['large_batch_test_accuracy']:.2f} ± {m['large_batch_test_accuracy_std']:.2f}% (mean ± std; paired gap "
        f"{m['keskar_test_gap_images']:+.2f} ± {se_gap:.2f} test images, mean ± standard error)."
    )
    return Result(
        title="Batch size: time, noise and generalization",
        summary=summary,
        metrics=metrics,
        replicates=replicates,
        tables={
            "Time against batch size (median of the repeats; this machine's CPU)": table(
                ["batch size", "updates per epoch", "s per update", "s per epoch", "min–max s per epoch"],
                [[b, u, pu, pe, f"{lo * u:.3g}–{hi * u:.3g}"]
                 for b, u, pu, pe, lo, hi in zip(sizes, updates, per_update, per_epoch, *spread)],
            ),
            "Test accuracy (%), small batch (SB) vs large batch (LB): the lecture's Keskar et al. (2017) numbers "
            "and ours (mean ± std over replicates)": table(
                ["network, data", "SB test", "LB test", "SB train", "LB train"], keskar_rows
            ),
        },  # fmt: skip
        data={
            "sizes": sizes, "per_update": per_update, "per_epoch": per_epoch, "epoch_times": epoch_times,
            "updates": updates, "keskar": keskar, "small_batch": config.small_batch, "large_batch": large,
            "small_path": first["small"], "full_path": first["full"], "least_squares": first["least_squares"],
            "xs": first["xs"], "ys": first["ys"], "paths": paths, "arch": arch, "cpu": cpu,
            "path_eta": config.path_eta, "path_batch": config.path_batch, "se_gap": se_gap,
        },
    )  # fmt: skip


def figures(result: Result, out: Path) -> list[Path]:
    d, m = result.data, result.metrics
    sizes, per_update, per_epoch, times, updates = (
        np.asarray(d[k]) for k in ("sizes", "per_update", "per_epoch", "epoch_times", "updates")
    )
    n = int(sizes[-1])

    def timing(values: np.ndarray, per: np.ndarray, ylabel: str, reference: str):
        def draw(ax):
            lo, hi = (times / per).min(0), (times / per).max(0)
            ax.errorbar(sizes, values, yerr=[values - lo, hi - values], fmt="o-", capsize=3, color="C0",
                        label="measured (median, min–max)")  # fmt: skip
            if reference == "update":
                ax.plot(sizes, values[0] * sizes, "--", color="gray", label="∝ batch size (no parallelism)")
                ax.plot(sizes, np.full(len(sizes), values[0]), ":", color="gray", label="constant (ideal parallel)")
            else:
                ax.plot(sizes, values[-1] * n / sizes, "--", color="gray", label="∝ updates per epoch")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("batch size B")
            ax.set_ylabel(ylabel)

        return draw

    lx, ly = d["least_squares"]
    xs, ys = d["xs"], d["ys"]
    mse_grid = lambda w, b: np.mean((w[..., None] * xs + b[..., None] - ys) ** 2, axis=-1)
    keskar, sbb, lbb = d["keskar"], d["small_batch"], d["large_batch"]
    names = {sbb: f"small batch B = {sbb}", lbb: f"large batch B = {lbb} (10%)"}
    colors = {sbb: "C0", lbb: "C3"}
    full_label, small_label = "full batch (1 update per epoch)", f"batch size {d['path_batch']} (per epoch)"

    def path_panel(which: tuple[str, ...], xlim, ylim):
        # each path in its own panel: they start together and one would hide the other
        def draw(ax):
            gw, gb = np.meshgrid(np.linspace(*xlim, 160), np.linspace(*ylim, 160))
            z = mse_grid(gw, gb)
            levels = np.geomspace(max(float(z.min()), 1e-3), float(z.max()), 18)
            cs = ax.contour(gw, gb, z, levels=levels, cmap="viridis", linewidths=0.7, norm=LogNorm())
            bar = ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="loss (MSE), log-spaced levels")
            bar.set_ticks(levels[::4])
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
            bar.ax.yaxis.set_minor_formatter(NullFormatter())
            for name in which:
                p = d["full_path"] if name == "full" else d["small_path"]
                style = ({"color": "C1", "lw": 3.0, "marker": "o", "ms": 4, "zorder": 2, "label": full_label}
                         if name == "full" else
                         {"color": "C0", "lw": 1.0, "ls": "--", "marker": ".", "ms": 5, "zorder": 3,
                          "label": small_label})  # fmt: skip
                ax.plot(p[:, 0], p[:, 1], **style)
            ax.plot(lx, ly, "k*", markersize=11, zorder=4, label="least squares")
            ax.set_xlim(*xlim)
            ax.set_ylim(*ylim)
            ax.set_xlabel("w")
            ax.set_ylabel("b")

        return draw

    def accuracy_curves(ax):
        for b, h in keskar.items():
            ep = np.arange(1, h["train_accuracy"].shape[1] + 1)
            ax.plot(ep, h["train_accuracy"].mean(0), "-", color=colors[b], label=f"{names[b]}: train")
            ax.plot(ep, h["val_accuracy"].mean(0), "--", color=colors[b], label=f"{names[b]}: test")
        low = min(float(h["val_accuracy"][:, min(2, h["val_accuracy"].shape[1] - 1) :].min()) for h in keskar.values())
        ax.set_ylim(max(low - 1, 0), 100.3)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%), mean over replicates")

    def final_test(ax):
        acc = np.stack([h["val_accuracy"][:, -1] for h in keskar.values()])  # (2, seeds)
        jitter = np.linspace(-0.08, 0.08, acc.shape[1])
        for j in range(acc.shape[1]):  # each replicate's pair (same initialization and batch order)
            ax.plot([jitter[j], 1 + jitter[j]], acc[:, j], "-", color="gray", alpha=0.3, lw=0.8)
        for i, b in enumerate(keskar):
            ax.plot(i + jitter, acc[i], "o", color=colors[b], alpha=0.6)
            ax.errorbar([i + 0.25], [acc[i].mean()], yerr=[acc[i].std()], fmt="s", capsize=4, color=colors[b])
        ax.set_xticks([0, 1])
        ax.set_xticklabels([f"B = {b}" for b in keskar])
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylabel("final test accuracy (%)")
        ax.set_xlabel("dots: replicates (lines pair them); ■ mean ± std")

    figs = [
        plot.panels(
            out / "time_vs_batch_size.png",
            [
                timing(per_update, updates, "seconds per update", "update"),
                timing(per_epoch, np.ones_like(updates), "seconds per epoch", "epoch"),
            ],
            titles=[f"time per update: full/1 = {m['update_time_ratio_full_over_1']:.3g}×",
                    f"time per epoch: B=1/full = {m['epoch_time_ratio_1_over_full']:.3g}×"],
            suptitle=f"{d['arch']}, {n} digits, plain SGD on {d['cpu']}",
            ncols=2,
        ),
    ]  # fmt: skip
    def distances(ax):
        for name, p, style in (
            ("full", d["full_path"], {"color": "C1", "lw": 3.0, "marker": "o", "ms": 4, "zorder": 2}),
            ("small", d["small_path"], {"color": "C0", "lw": 1.0, "ls": "--", "marker": ".", "ms": 5, "zorder": 3}),
        ):
            dist = np.linalg.norm(p - np.asarray([lx, ly]), axis=1)
            ax.semilogy(np.arange(len(dist)), dist, label=full_label if name == "full" else small_label, **style)
        ax.set_xlabel("epoch")
        ax.set_ylabel("distance to the least-squares (w, b)")

    whole = ((-3.0, 4.0), (-1.0, 4.0))
    rises = (m["full_batch_path_distance_rises"], m["small_batch_path_distance_rises"])
    figs.append(
        plot.panels(
            out / "noisy_vs_full_batch.png",
            [path_panel(("full",), *whole), path_panel(("small",), *whole), distances],
            titles=["full batch", f"batch size {d['path_batch']}", "distance to the minimum after each epoch"],
            suptitle=f"y = wx + b, {len(xs)} examples, η = {d['path_eta']:g}: (w, b) after each epoch on the first "
            f"data draw\n(epochs whose step moved away from the minimum, mean over draws: full batch {rises[0]:.3g}, "
            f"B = {d['path_batch']} {rises[1]:.3g})",
            ncols=3,
            panel_size=(4.8, 4.0),
            shared_legend=True,
        )
    )
    figs.append(
        plot.panels(
            out / "small_vs_large_batch.png",
            [accuracy_curves, final_test],
            titles=["accuracy during training", f"SB − LB: {m['keskar_test_gap_images']:+.2f} ± {d['se_gap']:.2f} "
                    "test images (paired, ± s.e.)"],
            suptitle="Small vs large batch on digits (Adam), in the manner of Keskar et al. 2017",
            ncols=2,
            shared_legend=True,
            legend_ncol=2,
        )
    )  # fmt: skip
    return figs
