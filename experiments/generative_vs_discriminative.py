"""Generative vs discriminative: test accuracy against training-set size, many random splits (SCOPE §2.9)."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import classification, data, generative, models, plot
from jaxml.report import ExperimentConfig, Result, table

DESCRIPTION = "Naive Bayes / shared-Σ Gaussian vs logistic regression against training-set size (breast cancer)"
SECTION = "2.9"

GENERATIVE = {"naive Bayes (diagonal Σ)": "diagonal", "Gaussian, shared Σ": "shared"}
LOGISTIC = "logistic regression"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    sizes: tuple[int, ...] = (6, 10, 20, 40, 80, 160, 320)
    splits: int = 50
    test_fraction: float = 0.3
    epochs: int = 1000
    learning_rate: float = 0.05
    l2: float = 1e-3
    reg_shared: float = 0.1
    reg_diagonal: float = 1e-3
    synthetic_distance: float = 2.5


def synthetic_gaussians(rng: np.random.Generator, n: int, dim: int, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes with one shared random Σ (the generative model's assumption holds exactly), means
    a Mahalanobis distance ``distance`` apart; the Bayes accuracy is Φ(distance/2)."""
    a = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    chol = np.linalg.cholesky(a @ a.T + 0.5 * np.eye(dim))
    direction = rng.normal(size=dim)
    # μ¹ − μ² = L u·distance with ‖u‖ = 1 has Mahalanobis length (μ¹−μ²)ᵀΣ⁻¹(μ¹−μ²) = distance².
    delta = chol @ (direction / np.linalg.norm(direction)) * distance
    y = (rng.random(n) < 0.5).astype(np.int32)
    x = rng.normal(size=(n, dim)) @ chol.T + np.outer(y, delta)
    return x, y


def _stratified(rng: np.random.Generator, pool: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """n training rows from ``pool`` with the pool's class ratio and at least 2 rows per class."""
    ones, zeros = pool[y[pool] == 1], pool[y[pool] == 0]
    n1 = int(np.clip(round(n * len(ones) / len(pool)), 2, n - 2))
    return np.r_[rng.permutation(ones)[:n1], rng.permutation(zeros)[: n - n1]]


@functools.partial(jax.jit, static_argnames=("kind",))
def _fit_predict(x: jax.Array, y: jax.Array, w: jax.Array, test: jax.Array, reg: jax.Array, kind: str) -> jax.Array:
    """Predictions of one generative model per run, all runs at once (0/1 ``sample_weight`` picks the rows)."""

    def one(xs: jax.Array, ys: jax.Array, ws: jax.Array, te: jax.Array) -> jax.Array:
        return generative.predict(generative.fit(xs, ys, kind, reg, num_classes=2, sample_weight=ws), xs[te])

    return jax.vmap(one)(x, y, w, test)


def learning_curves(
    sets: dict[str, tuple[np.ndarray, np.ndarray]], config: Config, sizes: tuple[int, ...], splits: int, epochs: int
) -> dict[str, dict[str, np.ndarray]]:
    """Test accuracy (len(sizes), splits) of each model on each data set (all of N rows and d features).

    Split r has one test set for every size. Every (data set, size, split) run is a 0/1 weight vector over the
    rows, so each model is *one* compiled program for everything: the generative fits take it as
    ``sample_weight`` under ``vmap``; logistic regression as a frozen mask in
    :func:`jaxml.classification.fit_subsets` over the data sets stacked row-wise.
    """
    rng = np.random.default_rng(config.seed)
    n_rows = {len(y) for _, y in sets.values()}
    if len(n_rows) != 1:
        raise ValueError("the data sets must have the same number of rows")
    n = n_rows.pop()
    n_test = int(round(config.test_fraction * n))
    masks, tests, xr, yr = [], [], [], []
    for x, y in sets.values():
        perms = [rng.permutation(n) for _ in range(splits)]
        for size in sizes:
            for p in perms:
                m = np.zeros(n)
                m[_stratified(rng, p[n_test:], y, size)] = 1.0
                mean = m @ x / m.sum()
                std = np.sqrt(np.maximum(m @ (x * x) / m.sum() - mean**2, 0.0))
                # Standardized with the run's own training rows only.
                xr.append((x - mean) / np.where(std > 1e-12, std, 1.0))
                masks.append(m)
                tests.append(p[:n_test])
                yr.append(y)
    masks, tests, xr, yr = (np.stack(a) for a in (masks, tests, xr, yr))
    y_test = np.take_along_axis(yr, tests, axis=1)
    shape = (len(sets), len(sizes), splits)
    acc = {}
    for name, kind in GENERATIVE.items():
        reg = config.reg_shared if kind == "shared" else config.reg_diagonal
        pred = np.asarray(_fit_predict(xr, yr, masks, tests, reg, kind=kind))
        acc[name] = np.mean(pred == y_test, axis=1).reshape(shape)
    # Logistic regression: stack the data sets row-wise; a run's mask lives in its own data set's block.
    x_all = np.concatenate([x for x, _ in sets.values()])
    y_all = np.concatenate([y for _, y in sets.values()])
    block = np.repeat(np.arange(len(sets)), len(sizes) * splits)
    wide = np.zeros((len(masks), len(y_all)))
    for r, (b, m) in enumerate(zip(block, masks)):
        wide[r, b * n : (b + 1) * n] = m
    model = models.linear(x_all.shape[1])
    fitted = classification.fit_subsets(
        model, "cross_entropy", x_all, y_all, wide, key=config.seed, epochs=epochs,
        optimizer=optax.adam(config.learning_rate), l2=config.l2, standardize=True,
    )  # fmt: skip
    logits = np.asarray(fitted.logits(model.apply, jnp.asarray(x_all)))  # (runs, all rows)
    pred = (np.take_along_axis(logits, tests + (block * n)[:, None], axis=1) > 0).astype(int)
    acc[LOGISTIC] = np.mean(pred == y_test, axis=1).reshape(shape)
    return {name: {model_: acc[model_][i] for model_ in acc} for i, name in enumerate(sets)}


def main(config: Config) -> Result:
    out = config.out_dir("generative_vs_discriminative")
    sizes = config.sizes if not config.quick else tuple(s for s in config.sizes if s in (6, 20, 80)) or config.sizes[:3]
    splits = config.splits if not config.quick else max(4, config.splits // 6)
    epochs = config.epochs if not config.quick else config.epochs // 3
    ds = data.load("breast_cancer")
    n, dim = ds.x.shape
    xs, ys = synthetic_gaussians(np.random.default_rng(config.seed + 1), n, dim, config.synthetic_distance)
    with jax.enable_x64(True):
        curves = learning_curves({"breast_cancer": (ds.x, ds.y), "gaussian": (xs, ys)}, config, sizes, splits, epochs)
    real, synth = curves["breast_cancer"], curves["gaussian"]

    def drawer(curves: dict[str, np.ndarray], ylabel: str) -> Callable[[Any], None]:
        def draw(ax: Any) -> None:
            for name, accs in curves.items():
                mean, std = accs.mean(1), accs.std(1)
                ax.plot(sizes, mean, "o-", label=name)
                ax.fill_between(sizes, mean - std, mean + std, alpha=0.15)
            ax.set_xscale("log")
            ax.set_xlabel("training examples")
            ax.set_ylabel(ylabel)

        return draw

    bayes = 0.5 * (1 + math.erf(config.synthetic_distance / 2 / math.sqrt(2)))  # Φ(Δ/2)
    fig = plot.panels(
        out / "accuracy_vs_training_size.png",
        [drawer(real, "test accuracy"), drawer(synth, "test accuracy")],
        titles=[
            f"breast cancer (569 × 30), {splits} splits",
            f"Gaussians, shared Σ (same N, d; Bayes {bayes:.3f})",
        ],
        suptitle="Generative vs discriminative: mean ± std over random splits",
        ncols=2,
    )

    def wins(curves: dict[str, np.ndarray]) -> tuple[list[int], list[int]]:
        # Sizes where the better generative model beats logistic regression by more than one standard error of
        # the mean (over splits), and sizes where logistic regression beats both by as much.
        lr = curves[LOGISTIC]
        best = np.maximum(*(curves[n].mean(1) for n in GENERATIVE))
        se = np.sqrt(lr.var(1) / lr.shape[1] + np.max([curves[n].var(1) for n in GENERATIVE], 0) / lr.shape[1])
        gen = [n for n, b, m, e in zip(sizes, best, lr.mean(1), se) if b > m + e]
        dis = [n for n, b, m, e in zip(sizes, best, lr.mean(1), se) if m > b + e]
        return gen, dis

    def rows(curves: dict[str, np.ndarray]) -> list[list[str]]:
        names = list(curves)
        return [
            [n, *(f"{curves[k][i].mean():.3f} ± {curves[k][i].std():.3f}" for k in names)] for i, n in enumerate(sizes)
        ]

    header = ["n train", *real]
    (real_wins, real_lr), (synth_wins, synth_lr) = wins(real), wins(synth)
    nb = next(iter(GENERATIVE))
    nb_mean = real[nb].mean(1)
    nb_flat = sizes[int(np.flatnonzero(nb_mean >= nb_mean[-1] - 0.01)[0])]
    metrics = {}
    for tag, curves in (("breast_cancer", real), ("gaussian", synth)):
        for name, key in ((LOGISTIC, "logistic"), *((n, GENERATIVE[n]) for n in GENERATIVE)):
            metrics[f"{tag}_{key}_acc_n{sizes[0]}"] = float(curves[name][0].mean())
            metrics[f"{tag}_{key}_acc_n{sizes[-1]}"] = float(curves[name][-1].mean())
    metrics["breast_cancer_generative_wins"] = float(len(real_wins))
    metrics["breast_cancer_logistic_wins"] = float(len(real_lr))
    metrics["gaussian_generative_wins"] = float(len(synth_wins))
    metrics["gaussian_logistic_wins"] = float(len(synth_lr))
    summary = (
        f"Test accuracy against training-set size over {splits} random splits (a fixed 30% test set per split, "
        "stratified training subsets, features standardized with each training subset's own statistics). "
        f"Models: Gaussian naive Bayes (diagonal Σ), a Gaussian with shared Σ (reg {config.reg_shared:g}·I), and "
        f"logistic regression (cross-entropy, λ = {config.l2:g}, {epochs} full-batch Adam steps; all runs of a "
        "model in one compiled program). Wins are counted when the gap exceeds one standard error of the mean. "
        f"**Breast cancer:** the generative models win at n ∈ {real_wins or 'none'}, logistic regression at "
        f"n ∈ {real_lr or 'none'}. Naive Bayes is within 0.01 of its final accuracy ({nb_mean[-1]:.3f}) from "
        f"n = {nb_flat} on: with 30 strongly correlated features its independence assumption is wrong, so it "
        "reaches a worse asymptote quickly, while logistic regression keeps improving. **Gaussian classes with "
        f"a shared Σ** (the generative assumption is *true*; same N and d): the shared-Σ model wins at "
        f"n ∈ {synth_wins or 'none'}, logistic regression at n ∈ {synth_lr or 'none'}. Where the assumption "
        "holds and there are a few examples per dimension, the generative model — which only estimates means and "
        "one Σ — is ahead; with very few examples per dimension Σ is poorly estimated and the (regularized) "
        "discriminative model is at least as good, and once the assumption is wrong, as on the real data, the "
        "discriminative model wins. The lecture's 'generative needs less data' holds in that middle regime."
    )
    return Result(
        title="Generative vs discriminative",
        summary=summary,
        metrics=metrics,
        tables={
            "Breast cancer: test accuracy (mean ± std)": table(header, rows(real)),
            "Gaussian classes, shared Σ: test accuracy (mean ± std)": table(header, rows(synth)),
        },
        figures=[str(fig)],
        data={"sizes": sizes, "breast_cancer": real, "gaussian": synth},
    )
