"""Plotting helpers: every figure in jaxml goes through here.

Matplotlib runs on the non-interactive Agg backend, so figures render on machines without a display (CI,
servers). Each helper draws one kind of figure, gives it a title, axis labels and a legend, and saves a PNG
atomically (see :mod:`jaxml.io`); it returns the path written.

Example:
    >>> import numpy as np
    >>> from jaxml import plot
    >>> x = np.arange(10)
    >>> plot.curves("/tmp/loss.png", {"train": (x, 1 / (1 + x))}, title="Loss", xlabel="epoch", ylabel="loss")
    PosixPath('/tmp/loss.png')
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxml.io import atomic_write_bytes  # noqa: E402

PathLike = str | os.PathLike
Series = Mapping[str, tuple[Sequence[float], Sequence[float]]]


def save(fig: plt.Figure, path: PathLike, dpi: int = 110) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _finish(ax: plt.Axes, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def curves(
    path: PathLike,
    series: Series,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    hlines: Mapping[str, float] | None = None,
    styles: Mapping[str, str] | None = None,
) -> Path:
    """Line plot of named (x, y) series, e.g. loss curves; ``hlines`` adds labelled horizontal references."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (x, y) in series.items():
        ax.plot(np.asarray(x), np.asarray(y), (styles or {}).get(label, "-"), label=label)
    for label, value in (hlines or {}).items():
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), fontsize="small", va="bottom")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def fitted_functions(
    path: PathLike,
    x: Sequence[float],
    y: Sequence[float],
    functions: Series,
    *,
    title: str,
    xlabel: str = "x",
    ylabel: str = "y",
    data_label: str = "data",
) -> Path:
    """Scatter the data (x, y) and draw fitted functions over it, each given as (x_grid, y_grid)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(np.asarray(x), np.asarray(y), s=12, alpha=0.6, color="black", label=data_label)
    for label, (xg, yg) in functions.items():
        ax.plot(np.asarray(xg), np.asarray(yg), label=label)
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def train_test(
    path: PathLike,
    values: Sequence[float],
    train: Sequence[float],
    test: Sequence[float],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    labels: tuple[str, str] = ("train", "test"),
    xticklabels: Sequence[str] | None = None,
) -> Path:
    """Training and test error against a hyper-parameter (degree, depth, λ, batch size, ...)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    xs = np.arange(len(values)) if xticklabels is not None else np.asarray(values)
    ax.plot(xs, np.asarray(train), "o-", label=labels[0])
    ax.plot(xs, np.asarray(test), "s-", label=labels[1])
    if xticklabels is not None:
        ax.set_xticks(xs)
        ax.set_xticklabels(list(xticklabels))
    if logx and xticklabels is None:
        ax.set_xscale("symlog" if np.any(np.asarray(values) <= 0) else "log")
    if logy:
        ax.set_yscale("log")
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def scatter(
    path: PathLike,
    groups: Series,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lines: Series | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """Scatter plot of named point groups, with optional lines (a boundary, a fit) drawn over them."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for label, (x, y) in groups.items():
        ax.scatter(np.asarray(x), np.asarray(y), s=16, alpha=0.75, label=label)
    for label, (x, y) in (lines or {}).items():
        ax.plot(np.asarray(x), np.asarray(y), "-", label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def contour(
    path: PathLike,
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    title: str,
    xlabel: str = "θ₁",
    ylabel: str = "θ₂",
    trajectories: Mapping[str, np.ndarray] | None = None,
    points: Mapping[str, tuple[float, float]] | None = None,
    levels: int | Sequence[float] = 30,
    log_levels: bool = False,
    resolution: int = 200,
    legend_outside: bool = False,
) -> Path:
    """Contours of a 2-D error surface f(X, Y) (vectorised over grids) with optimizer paths over it.

    ``trajectories`` maps a label to a (T, 2) array of points; ``points`` marks named points (minima, saddles).
    ``legend_outside`` puts the legend below the axes, off the contours.
    """
    gx = np.linspace(*xlim, resolution)
    gy = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(gx, gy)
    Z = np.asarray(f(X, Y), dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    if log_levels:
        shift = Z.min()
        Zp = Z - shift + 1e-12
        lv = np.geomspace(Zp.min() + 1e-9, Zp.max(), levels if isinstance(levels, int) else len(levels))
        cs = ax.contour(X, Y, Zp, levels=lv, cmap="viridis", linewidths=0.8)
    else:
        cs = ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
    fig.colorbar(cs, ax=ax, shrink=0.8, label="loss" + (" (shifted)" if log_levels else ""))
    for label, traj in (trajectories or {}).items():
        t = np.asarray(traj)
        ax.plot(t[:, 0], t[:, 1], ".-", markersize=2, linewidth=1.2, label=label)
        ax.plot(t[-1, 0], t[-1, 1], "x", color=ax.lines[-1].get_color())
    for label, (px, py) in (points or {}).items():
        ax.plot(px, py, "k*", markersize=10)
        ax.annotate(label, (px, py), textcoords="offset points", xytext=(5, 5), fontsize="small")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    _finish(ax, title, xlabel, ylabel, legend=not legend_outside)
    if legend_outside and ax.get_legend_handles_labels()[0]:
        fig.set_size_inches(6.4, 6.4)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    return save(fig, path)


def decision_regions(
    path: PathLike,
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    class_names: Sequence[str] | None = None,
    resolution: int = 250,
    margin: float = 0.05,
) -> Path:
    """Points of a 2-D, K-class data set over the regions where ``predict`` (N, 2) -> (N,) labels them."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    lo, hi = x.min(0), x.max(0)
    pad = (hi - lo) * margin
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    X, Y = np.meshgrid(gx, gy)
    Z = np.asarray(predict(np.stack([X.ravel(), Y.ravel()], axis=1))).reshape(X.shape)
    classes = np.unique(y)
    names = list(class_names) if class_names is not None else [str(c) for c in classes]
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    ax.contourf(X, Y, Z, levels=np.arange(len(classes) + 1) - 0.5, alpha=0.2, cmap="coolwarm")
    for c in classes:
        m = y == c
        ax.scatter(x[m, 0], x[m, 1], s=14, label=names[int(c)], edgecolor="k", linewidth=0.3)
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def bars(
    path: PathLike,
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    xlabel: str = "",
    errors: Mapping[str, Sequence[float]] | None = None,
    hlines: Mapping[str, float] | None = None,
) -> Path:
    """Grouped bar chart: one bar per group within each category (e.g. lecture vs ours).

    ``errors`` gives error-bar half-widths per group (e.g. a spread over seeds); ``hlines`` labelled references.
    """
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(categories) * max(1, len(groups))), 4.2))
    n = len(groups)
    width = 0.8 / max(n, 1)
    xs = np.arange(len(categories))
    for i, (label, values) in enumerate(groups.items()):
        err = None if errors is None or label not in errors else np.asarray(errors[label], dtype=float)
        ax.bar(xs + (i - (n - 1) / 2) * width, np.asarray(values, dtype=float), width, label=label, yerr=err, capsize=3)
    for label, value in (hlines or {}).items():
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), fontsize="small", va="bottom")
    ax.set_xticks(xs)
    ax.set_xticklabels(list(categories), rotation=15, ha="right")
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def histogram(
    path: PathLike,
    samples: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str = "count",
    bins: int = 50,
    logy: bool = False,
) -> Path:
    """Overlaid histograms of named samples (eigenvalues, errors, ...)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, s in samples.items():
        ax.hist(np.asarray(s, dtype=float), bins=bins, alpha=0.55, label=label)
    if logy:
        ax.set_yscale("log")
    _finish(ax, title, xlabel, ylabel)
    return save(fig, path)


def panels(
    path: PathLike,
    draw: Sequence[Callable[[plt.Axes], None]],
    *,
    titles: Sequence[str],
    suptitle: str,
    ncols: int | None = None,
) -> Path:
    """A grid of subplots, each drawn by one callable taking its ``Axes`` (for multi-panel lecture figures).

    Each callable should set its own axis labels; the helper adds the subplot titles, grids and legends.
    """
    n = len(draw)
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax, fn, t in zip(axes.ravel(), draw, titles):
        fn(ax)
        ax.set_title(t, fontsize="medium")
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(suptitle)
    return save(fig, path)
