"""Linear regression on the course's HW1 COVID data: gradient descent against closed-form least squares,
MAE / MSE / Huber under outliers, and the effect of batch size and learning rate (SCOPE §1.1–1.3)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, plot, train
from jaxml.report import Claim, ExperimentConfig, Result, table

DESCRIPTION = "GD vs closed-form least squares on COVID HW1; MAE/MSE/Huber with outliers; batch size × η"
SECTION = "1.3"

#: day 5's positive rate from days 1–4's and day 5's illness surveys: a well-posed linear problem.
FEATURES = (
    "tested_positive_d1", "tested_positive_d2", "tested_positive_d3", "tested_positive_d4",
    "cli_d5", "ili_d5", "hh_cmnty_cli_d5", "nohh_cmnty_cli_d5",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    gd_epochs: int = 20000
    outlier_fraction: float = 0.05
    outlier_size: float = 60.0
    robust_epochs: int = 3000
    batch_sizes: tuple[int | None, ...] = (None, 256, 32)
    learning_rates: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
    curve_learning_rate: float = 0.01
    sweep_epochs: int = 40

    QUICK = {"gd_epochs": 5000, "robust_epochs": 1000, "sweep_epochs": 10}


CLAIMS = (
    Claim(
        "gd_reaches_least_squares",
        "1.3",
        "Gradient descent on the MSE of the linear model y = b + Σ wⱼxⱼ reaches the closed-form least-squares "
        "optimum (training MSE within 0.1%).",
        lambda m: m["gd_train_mse_rel_gap"] < 1e-3,
        reads=("gd_train_mse_rel_gap", "gd_train_mse", "least_squares_train_mse", "gd_max_param_gap"),
    ),
    Claim(
        "mse_chases_outliers",
        "1.2",
        "MSE (L2) squares the residual, so a few outliers pull the fit: with corrupted training targets its "
        "clean-test MAE is > 1.5× that of MAE (L1) or Huber training.",
        lambda m: (
            m["test_mae_mse_with_outliers"]
            > 1.5 * max(m["test_mae_mae_with_outliers"], m["test_mae_huber_with_outliers"])
        ),
        reads=("test_mae_mse_with_outliers", "test_mae_mae_with_outliers", "test_mae_huber_with_outliers"),
    ),
    Claim(
        "robust_losses_near_clean",
        "1.2",
        "MAE and Huber training on corrupted targets stay within 20% of the clean least-squares fit's test MAE.",
        lambda m: (
            max(m["test_mae_mae_with_outliers"], m["test_mae_huber_with_outliers"])
            < 1.2 * m["test_mae_least_squares_clean"]
        ),
        reads=("test_mae_mae_with_outliers", "test_mae_huber_with_outliers", "test_mae_least_squares_clean"),
    ),
    Claim(
        "too_large_eta_diverges",
        "1.1",
        "The learning rate is a hyperparameter to tune: the largest η of the sweep diverges for every batch size, "
        "a smaller one trains.",
        lambda m: m["largest_eta_diverged_batch_sizes"] == m["batch_size_count"] and m["trained_runs"] > 0,
        reads=("largest_eta_diverged_batch_sizes", "batch_size_count", "trained_runs"),
    ),
    Claim(
        "small_batch_faster_per_epoch",
        "1.1",
        "Batch size is the other hyperparameter: at a small η, smaller batches take more updates per epoch and "
        "reach a lower training loss after the same number of epochs.",
        lambda m: m["curve_final_ratio_small_over_full"] < 1.0 and m["curve_batch_order_ok"] > 0.5,
        reads=("curve_final_ratio_small_over_full", "curve_batch_order_ok"),
    ),
)


def _diverged(history: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """A run diverged if the trainer stopped it (non-finite) or its loss ended above where it started."""
    last, first = history[:, -1], history[:, 0]
    return (flagged >= 0) | ~np.isfinite(last) | (last > first)


def compute(config: Config) -> Result:
    if config.curve_learning_rate not in config.learning_rates:
        raise ValueError(
            f"curve_learning_rate must be one of learning_rates {config.learning_rates}, "
            f"got {config.curve_learning_rate}"
        )
    key = jax.random.PRNGKey(config.seed)
    k_split, k_gd, k_out, k_sweep = jax.random.split(key, 4)
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(data.load("covid"), key=k_split, features=FEATURES)
    x_tr, y_tr, x_te, y_te = data.to_device(x_tr, y_tr, x_te, y_te)
    model = models.linear(len(FEATURES))
    mse_objective = train.supervised(model.apply, losses.mse)

    # 1. Full-batch GD with η = 1/λ_max(H), H = 2XᵀX/N (the largest stable-and-monotone step), against lstsq.
    exact = models.least_squares(x_tr, y_tr)
    design = jnp.concatenate([x_tr, jnp.ones((len(x_tr), 1))], axis=1)
    eigs = jnp.linalg.eigvalsh(2 * design.T @ design / len(design))
    eta = float(1.0 / eigs[-1])
    gd = train.fit(mse_objective, model.init(k_gd), optax.sgd(eta), (x_tr, y_tr), key=k_gd, epochs=config.gd_epochs)
    gap = float(
        jnp.max(jnp.abs(jnp.concatenate([gd.params["w"][:, 0] - exact["w"][:, 0], gd.params["b"] - exact["b"]])))
    )
    ls_train, ls_test = float(mse_objective(exact, (x_tr, y_tr))), float(mse_objective(exact, (x_te, y_te)))
    gd_train = float(mse_objective(gd.params, (x_tr, y_tr)))

    # 2. Outliers: corrupt a fraction of training targets; MSE chases them, MAE and Huber do not.
    n_bad = int(config.outlier_fraction * len(y_tr))
    bad = jax.random.choice(k_out, len(y_tr), (n_bad,), replace=False)
    y_bad = y_tr.at[bad].add(config.outlier_size)
    robust = {}
    for name, loss in {"MSE": losses.mse, "MAE": losses.mae, "Huber (δ=1)": losses.huber}.items():
        fitted = train.fit(
            train.supervised(model.apply, loss),
            model.init(k_gd),
            optax.adam(0.05),
            (x_tr, y_bad),
            key=k_gd,
            epochs=config.robust_epochs,
            batch_size=256,
        )
        robust[name] = float(losses.mae(model.apply(fitted.params, x_te), y_te))
    clean_mae = float(losses.mae(model.apply(exact, x_te), y_te))

    # 3. Batch size × learning rate: one vmapped program per batch size trains every η at once.
    lrs = jnp.asarray(config.learning_rates)
    n = len(lrs)
    final, diverged, curves, stopped = {}, {}, {}, {}
    i_curve = list(config.learning_rates).index(config.curve_learning_rate)
    for bs in config.batch_sizes:
        label = "full batch" if bs is None else f"B = {bs}"
        swept = train.fit_sweep(
            mse_objective,
            jax.vmap(model.init)(jax.random.split(k_sweep, n)),
            optax.sgd,
            (x_tr, y_tr),
            keys=jnp.stack([k_sweep] * n),
            epochs=config.sweep_epochs,
            batch_size=bs,
            learning_rates=lrs,
        )
        hist = np.asarray(swept.history["train_loss"])
        diverged[label] = _diverged(hist, np.asarray(swept.diverged_epoch))
        final[label] = hist[:, -1]
        stopped[label] = np.asarray(swept.diverged_epoch)
        curves[label] = hist[i_curve]
    labels = list(final)
    ends = [float(curves[label][-1]) for label in labels]
    largest_div = sum(bool(diverged[label][-1]) for label in labels)
    trained = sum(int(np.sum(~diverged[label])) for label in labels)
    # batch sizes are listed largest first (full batch, then smaller): the loss after the same epochs should fall
    sizes = [np.inf if bs is None else bs for bs in config.batch_sizes]
    order = np.argsort(-np.asarray(sizes))
    ordered = [ends[i] for i in order]
    order_ok = all(b < a for a, b in zip(ordered, ordered[1:]))
    full_i, small_i = int(order[0]), int(order[-1])

    metrics = {
        "least_squares_train_mse": ls_train,
        "least_squares_test_mse": ls_test,
        "gd_train_mse": gd_train,
        "gd_train_mse_rel_gap": abs(gd_train - ls_train) / ls_train,
        "gd_max_param_gap": gap,
        "learning_rate": eta,
        **{f"test_mae_{k.split()[0].lower()}_with_outliers": v for k, v in robust.items()},
        "test_mae_least_squares_clean": clean_mae,
        "largest_eta_diverged_batch_sizes": float(largest_div),
        "batch_size_count": float(len(labels)),
        "trained_runs": float(trained),
        "curve_final_ratio_small_over_full": ends[small_i] / ends[full_i],
        "curve_batch_order_ok": float(order_ok),
    }
    rows = [
        [f"{lr:g}"] + [_cell(final[label][i], diverged[label][i], stopped[label][i]) for label in labels]
        for i, lr in enumerate(config.learning_rates)
    ]
    eta_c = config.curve_learning_rate
    summary = (
        f"Linear model y = b + Σ wⱼxⱼ on {len(FEATURES)} standardized features of `covid.train.csv` "
        f"({len(x_tr)} train / {len(x_te)} test rows). Full-batch gradient descent with η = 1/λmax(H) = {eta:.3g} "
        f"reaches training MSE {gd_train:.6g} against the closed form's {ls_train:.6g} (relative gap "
        f"{metrics['gd_train_mse_rel_gap']:.1e}, largest parameter gap {gap:.1e}) after {config.gd_epochs} epochs. "
        f"With {n_bad} training targets shifted by +{config.outlier_size:g}, the clean-test MAE is "
        f"{robust['MSE']:.3g} for MSE training, {robust['MAE']:.3g} for MAE and {robust['Huber (δ=1)']:.3g} for Huber "
        f"(clean least squares: {clean_mae:.3g}). "
        f"In the sweep of {n} learning rates × {len(labels)} batch sizes ({config.sweep_epochs} epochs of SGD), "
        f"the largest η = {config.learning_rates[-1]:g} diverged for {largest_div} of {len(labels)} batch sizes "
        f"and {trained} of {n * len(labels)} runs trained; at η = {eta_c:g} the training MSE after "
        f"{config.sweep_epochs} epochs is "
        + ", ".join(f"{ends[i]:.3g} ({labels[i]})" for i in order)
        + (" — smaller batches, more updates per epoch, lower loss." if order_ok else " — not ordered by batch size.")
    )
    return Result(
        title=(
            f"Linear regression: GD reaches least squares (gap {metrics['gd_train_mse_rel_gap']:.0e}); "
            "MSE vs MAE/Huber under outliers; batch size × η"
        ),
        summary=summary,
        metrics=metrics,
        tables={
            f"Training MSE after {config.sweep_epochs} epochs of SGD, by learning rate (rows) and batch size "
            "(columns); diverged = non-finite, or ended above its first epoch's loss": table(["η", *labels], rows),
            "Clean-test MAE by training loss": table(
                ["training loss", "test MAE"],
                [*([k, v] for k, v in robust.items()), ["least squares, clean data", clean_mae]],
            ),
        },
        data={
            "gd_history": gd.history,
            "least_squares_train_mse": ls_train,
            "eta": eta,
            "condition": float(eigs[-1] / eigs[0]),
            "robust": robust,
            "clean_mae": clean_mae,
            "n_bad": n_bad,
            "config": config,
            "sweep_final": final,
            "sweep_diverged": diverged,
            "curves": curves,
        },
    )


def _cell(value: float, diverged: bool, stopped_epoch: int) -> str:
    if stopped_epoch >= 0:
        return f"diverged (non-finite at epoch {int(stopped_epoch) + 1})"
    return f"diverged (ended at {value:.3g})" if diverged else f"{value:.4g}"


def figures(result: Result, out: Path) -> list[Path]:
    d = result.data
    c = d["config"]
    ls_train = d["least_squares_train_mse"]
    hist = np.asarray(d["gd_history"]["train_loss"])
    epoch_axis = np.arange(1, len(hist) + 1)
    fig_gd = plot.curves(
        out / "gd_vs_least_squares.png",
        # float32 resolves the relative gap to about 1e-7: below that the curve would be rounding noise
        {"gradient descent": (epoch_axis, np.maximum((hist - ls_train) / ls_train, 1e-7))},
        hlines={"float32 resolution (1e-7)": 1e-7},
        title=f"Full-batch GD, η = 1/λmax = {d['eta']:.3f}, condition number {d['condition']:.0f}",
        xlabel="epoch",
        ylabel="(training MSE − least squares) / least squares",
        logx=True,
        logy=True,
    )

    # The three losses against the residual r = ŷ − y, computed by the library's own functions per residual.
    r = np.linspace(-3.0, 3.0, 601)
    per = lambda loss: np.asarray(jax.vmap(lambda t: loss(t[None], jnp.zeros(1)))(jnp.asarray(r)))

    def draw_losses(ax: Any) -> None:
        ax.plot(r, per(losses.mae), label="MAE (L1): |r|")
        ax.plot(r, per(losses.mse), label="MSE (L2): r²")
        ax.plot(r, per(losses.huber), label="Huber, δ = 1: ½r² inside, |r| − ½ outside")
        notes = np.where(np.abs(r) > 1, np.abs(r) - 0.5, r**2)
        ax.plot(r, notes, ":", color="gray", label="the notes' form (jumps at |r| = 1)")
        ax.set_ylim(0, 4)
        ax.set_xlabel("residual r = ŷ − y")
        ax.set_ylabel("loss of one example")

    fig_losses = plot.panels(
        out / "losses_vs_residual.png",
        [draw_losses],
        titles=["MSE grows quadratically: an outlier dominates it"],
        suptitle="The regression losses against the residual",
        ncols=1,
        panel_size=(6.4, 4.2),
        legend_loc="outside",
    )
    robust = d["robust"]
    fig_robust = plot.bars(
        out / "losses_with_outliers.png",
        list(robust) + ["least squares, clean data"],
        {"test MAE": list(robust.values()) + [d["clean_mae"]]},
        title=f"{d['n_bad']} training targets shifted by +{c.outlier_size:g}: test MAE by training loss",
        ylabel="test MAE (clean test set)",
    )

    lrs = np.asarray(c.learning_rates)
    final, diverged = d["sweep_final"], d["sweep_diverged"]

    def draw_sweep(ax: Any) -> None:
        ok_values = np.concatenate([v[~diverged[k]] for k, v in final.items()])
        lo, hi = float(ok_values.min()), float(ok_values.max())
        top = hi * 3
        for i, (label, v) in enumerate(final.items()):
            ok = ~diverged[label]
            ax.plot(lrs[ok], v[ok], "o-", color=f"C{i}", label=label)
            if np.any(~ok):
                # one row of × per batch size, so that coinciding divergences stay visible
                y_mark = top / (1.15 + 0.2 * i)
                ax.plot(lrs[~ok], np.full(int(np.sum(~ok)), y_mark), "x", color=f"C{i}", markersize=9, mew=2)
        ax.axhline(top / 1.8, color="gray", linewidth=0.8)
        ax.annotate("diverged (×)", (0.01, top / 1.7), xycoords=("axes fraction", "data"), fontsize="small")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(lo / 2, top)
        ax.set_xlabel("learning rate η")
        ax.set_ylabel("training MSE")

    fig_sweep = plot.panels(
        out / "batch_size_learning_rate.png",
        [draw_sweep],
        titles=[f"after {c.sweep_epochs} epochs of SGD; × = diverged"],
        suptitle="Batch size × learning rate",
        ncols=1,
        panel_size=(6.4, 4.2),
        legend_loc="outside",
    )
    curves = d["curves"]
    fig_curves = plot.curves(
        out / "batch_size_curves.png",
        {label: (np.arange(1, len(v) + 1), v) for label, v in curves.items()},
        title=f"η = {c.curve_learning_rate:g}: training MSE by epoch and batch size",
        xlabel="epoch",
        ylabel="training MSE",
        logy=True,
    )
    return [fig_gd, fig_losses, fig_robust, fig_sweep, fig_curves]
