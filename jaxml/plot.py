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

__all__ = [
    "bars",
    "check",
    "contour",
    "curves",
    "decision_regions",
    "fitted_functions",
    "histogram",
    "panels",
    "path_on_surface",
    "save",
    "scatter",
    "train_test",
]

PathLike = str | os.PathLike
Series = Mapping[str, tuple[Sequence[float], Sequence[float]]]


def check(fig: plt.Figure) -> None:
    """Refuse a figure a reader cannot trust: a NaN or ±∞ in any plotted line, marker set, bar or image (a
    sentinel such as "not reached" must be left out, not drawn as data), or a legend entry with no text.

    Args:
        fig: the figure, fully drawn.

    Raises:
        ValueError: if a line, marker set, bar or image holds NaN or ±∞, or a legend entry is blank; the message
            names the axes (by title) and the series.
    """
    for ax in fig.axes:
        where = repr(ax.get_title() or fig.get_suptitle() or "untitled axes")
        for line in ax.get_lines():
            if not np.all(np.isfinite(np.asarray(line.get_xydata(), dtype=float))):
                raise ValueError(f"figure {where}: line {line.get_label()!r} has NaN or ±∞ values; drop them")
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size and not np.all(np.isfinite(offsets)):
                raise ValueError(f"figure {where}: markers {coll.get_label()!r} have NaN or ±∞ positions")
        for patch in ax.patches:
            box = patch.get_bbox() if hasattr(patch, "get_bbox") else None
            if box is not None and not np.all(np.isfinite(box.get_points())):
                raise ValueError(f"figure {where}: a bar or patch {patch.get_label()!r} has a NaN or ±∞ extent")
        for image in ax.get_images():
            values = np.ma.masked_invalid(np.ma.asarray(image.get_array()))
            if np.ma.count_masked(values) > np.ma.count_masked(np.ma.asarray(image.get_array())):
                raise ValueError(f"figure {where}: an image has NaN or ±∞ pixels; mask them explicitly")
    for legend in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if legend is None:
            continue
        empty = [t for t in legend.get_texts() if not t.get_text().strip()]
        if empty:
            raise ValueError(f"figure {fig.get_suptitle() or 'untitled'!r}: a legend entry has no text")


def save(
    fig: plt.Figure, path: PathLike, dpi: int = 110, rect: tuple[float, float, float, float] | None = None
) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically and close it; ``rect`` is the area ``tight_layout`` fills.

    Every figure passes :func:`check` first (no NaN or ±∞ drawn, no empty legend entry).

    Args:
        fig: the figure to save; it is closed afterwards, also when :func:`check` refuses it.
        path: the PNG file to write (parent folders are created).
        dpi: the resolution, in dots per inch.
        rect: (left, bottom, right, top) in figure fractions for ``tight_layout``; ``None`` for the whole figure.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    try:
        check(fig)
    except ValueError:
        plt.close(fig)
        raise
    buf = io.BytesIO()
    fig.tight_layout(rect=rect)
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _finish(
    ax: plt.Axes,
    title: str,
    xlabel: str,
    ylabel: str,
    legend_loc: str | None = None,
    *,
    logx: bool = False,
    logy: bool = False,
) -> None:
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        _legend(ax, legend_loc)


def _legend(ax: plt.Axes, loc: str | None, fontsize: str = "small") -> None:
    """A legend at ``loc``: a Matplotlib location, or off the data — ``"outside"`` (right of the axes; the figure
    widens so the axes keep their size) or ``"below"`` (under the axes, two columns; the figure grows taller)."""
    fig = ax.figure
    width, height = fig.get_size_inches()
    if loc == "outside":
        fig.set_size_inches(width * 1.4, height)
        ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    elif loc == "below":
        rows = -(-len(ax.get_legend_handles_labels()[1]) // 2)
        fig.set_size_inches(width, height + 0.25 * rows + 0.3)
        ax.legend(fontsize=fontsize, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    else:
        ax.legend(fontsize=fontsize, loc=loc or "best")


def _reference_label(ax: plt.Axes, label: str, value: float, series: Series | None = None) -> None:
    # The label goes at the end of the line (left or right) where the plotted curves keep farthest from it,
    # on a translucent box, so that it neither hides a curve nor is hidden by one.
    right = False
    if series:
        xs = np.concatenate([np.asarray(x, dtype=float).ravel() for x, _ in series.values()])
        ys = np.concatenate([np.asarray(y, dtype=float).ravel() for _, y in series.values()])
        ok = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[ok], ys[ok]
        if xs.size and np.ptp(xs) > 0:
            cut = 0.3 * np.ptp(xs)
            gap = lambda m: float(np.min(np.abs(ys[m] - value))) if np.any(m) else np.inf  # noqa: E731
            right = gap(xs >= xs.max() - cut) > gap(xs <= xs.min() + cut)
    ax.annotate(
        label,
        (0.99 if right else 0.01, value),
        xycoords=("axes fraction", "data"),
        fontsize="small",
        va="bottom",
        ha="right" if right else "left",
        bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 1},
    )


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
    legend_loc: str | None = None,
) -> Path:
    """Line plot of named (x, y) series, e.g. loss curves; ``hlines`` adds labelled horizontal references.

    ``legend_loc``: where the legend goes, a Matplotlib location, ``"outside"`` (right of the axes) or
    ``"below"`` (under the axes).

    Args:
        path: the PNG file to write.
        series: label → (x, y), the points of one line.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        logx: use a logarithmic x axis.
        logy: use a logarithmic y axis.
        hlines: label → y of a dashed horizontal reference line, labelled where the curves keep clear of it.
        styles: label → Matplotlib format string (``"--"``, ``"o-"``) for that series; default ``"-"``.
        legend_loc: where the legend goes: a Matplotlib location (default ``"best"``), ``"outside"`` (right of
            the axes) or ``"below"`` (under the axes).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (x, y) in series.items():
        ax.plot(np.asarray(x), np.asarray(y), (styles or {}).get(label, "-"), label=label)
    for label, value in (hlines or {}).items():
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        _reference_label(ax, label, value, series)
    _finish(ax, title, xlabel, ylabel, legend_loc=legend_loc, logx=logx, logy=logy)
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
    """Scatter the data (x, y) and draw fitted functions over it, each given as (x_grid, y_grid).

    Args:
        path: the PNG file to write.
        x: the data's inputs, shape (N,).
        y: the data's targets, shape (N,).
        functions: label → (x_grid, y_grid), one fitted function evaluated on a grid.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        data_label: the legend label of the data points.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
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
    """Training and test error against a hyper-parameter (degree, depth, λ, batch size, ...).

    Args:
        path: the PNG file to write.
        values: the hyper-parameter's values (the x positions, unless ``xticklabels`` is given).
        train: the training error at each value.
        test: the test error at each value.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        logx: use a logarithmic x axis (symmetric-log when a value is ≤ 0; ignored with ``xticklabels``).
        logy: use a logarithmic y axis.
        labels: the legend labels of the two curves.
        xticklabels: names for the values, drawn at equally spaced positions instead of ``values``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    xs = np.arange(len(values)) if xticklabels is not None else np.asarray(values)
    ax.plot(xs, np.asarray(train), "o-", label=labels[0])
    ax.plot(xs, np.asarray(test), "s-", label=labels[1])
    if xticklabels is not None:
        ax.set_xticks(xs)
        ax.set_xticklabels(list(xticklabels))
    if logx and xticklabels is None:
        ax.set_xscale("symlog" if np.any(np.asarray(values) <= 0) else "log")
    _finish(ax, title, xlabel, ylabel, logy=logy)
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
    colors: Mapping[str, str] | None = None,
    legend_loc: str | None = None,
) -> Path:
    """Scatter plot of named point groups, with optional lines (a boundary, a fit) drawn over them.

    ``colors`` fixes the colour of a group or line by its label (one colour per category across figures);
    ``legend_loc``: where the legend goes, a Matplotlib location, ``"outside"`` (right of the axes) or
    ``"below"`` (under the axes).

    Args:
        path: the PNG file to write.
        groups: label → (x, y), the points of one group.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        lines: label → (x, y), lines drawn over the points (a decision boundary, a fit).
        logx: use a logarithmic x axis.
        logy: use a logarithmic y axis.
        colors: label → Matplotlib colour, for groups and lines; others get the colour cycle.
        legend_loc: where the legend goes: a Matplotlib location (default ``"best"``), ``"outside"`` (right of
            the axes) or ``"below"`` (under the axes).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = colors or {}
    for label, (x, y) in groups.items():
        ax.scatter(np.asarray(x), np.asarray(y), s=16, alpha=0.75, label=label, color=colors.get(label))
    for label, (x, y) in (lines or {}).items():
        ax.plot(np.asarray(x), np.asarray(y), "-", label=label, color=colors.get(label))
    _finish(ax, title, xlabel, ylabel, legend_loc=legend_loc, logx=logx, logy=logy)
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
    level_range: tuple[float, float] | None = None,
    inset: tuple[tuple[float, float], tuple[float, float]] | None = None,
    inset_bounds: tuple[float, float, float, float] = (0.56, 0.06, 0.4, 0.4),
    legend_loc: str | None = None,
    colors: Mapping[str, str] | None = None,
) -> Path:
    """Contours of a 2-D error surface f(X, Y) (vectorised over grids) with optimizer paths over it.

    ``trajectories`` maps a label to a (T, 2) array of points; ``points`` marks named points (minima, saddles).
    ``log_levels`` spaces the levels geometrically over the (shifted) loss, with a logarithmic colour bar whose
    ticks read as powers of ten; ``level_range`` = (lowest, highest) level of the shifted loss overrides the
    grid's range. ``inset`` = ((x0, x1), (y0, y1)) adds a zoomed view of that window (at ``inset_bounds``, in
    axes fractions) with the same contours and paths; ``legend_loc`` places the legend (``"below"``: under the
    axes, off the data); ``colors`` fixes a trajectory's colour by label (one colour per optimizer across figures).

    Args:
        path: the PNG file to write.
        f: the surface, ``f(X, Y) -> Z`` on NumPy grids of equal shape (e.g. :func:`jaxml.surfaces.on_grid`).
        xlim: (low, high) of θ₁, the window's x range.
        ylim: (low, high) of θ₂, the window's y range.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        trajectories: label → (T, 2) array of θ along an optimizer's path (its end marked with an x).
        points: label → (θ₁, θ₂) of a point to star and name (minima, saddles).
        levels: the number of contour levels, or the levels themselves.
        log_levels: space the levels geometrically over the loss shifted to be positive, with a log colour bar.
        resolution: grid points per axis.
        level_range: (lowest, highest) level of the shifted loss with ``log_levels``; ``None`` for the grid's
            range.
        inset: ((x0, x1), (y0, y1)), a window to repeat zoomed in an inset; ``None`` for none.
        inset_bounds: the inset's (left, bottom, width, height) in axes fractions.
        legend_loc: where the legend goes: a Matplotlib location (default ``"best"``), ``"outside"`` (right of
            the axes) or ``"below"`` (under the axes).
        colors: label → Matplotlib colour of a trajectory; others get the colour cycle.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a trajectory or a point holds NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, NullFormatter

    gx = np.linspace(*xlim, resolution)
    gy = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(gx, gy)
    Z = np.asarray(f(X, Y), dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    n_levels = levels if isinstance(levels, int) else len(levels)
    if log_levels:
        shift = min(float(Z.min()), 0.0)  # only a surface that goes negative needs shifting to be logged
        surface = lambda x, y: np.maximum(np.asarray(f(x, y), dtype=float) - shift, 0.0) + 1e-12
        lo, hi = level_range if level_range is not None else ((Z - shift).min() + 1e-12 + 1e-9, (Z - shift).max())
        lv = np.geomspace(lo, hi, n_levels)
        style = {"levels": lv, "cmap": "viridis", "linewidths": 0.8, "norm": LogNorm(lv[0], lv[-1])}
    else:
        shift = 0.0
        surface = lambda x, y: np.asarray(f(x, y), dtype=float)
        style = {"levels": levels, "cmap": "viridis", "linewidths": 0.8}
    cs = ax.contour(X, Y, surface(X, Y), **style)
    bar = fig.colorbar(cs, ax=ax, shrink=0.8, label="loss" + (f" + {-shift:.3g}" if shift else ""))
    if log_levels:
        decades = 10.0 ** np.arange(np.ceil(np.log10(lv[0])), np.floor(np.log10(lv[-1])) + 1)
        if len(decades) >= 2:
            bar.set_ticks(decades)
            bar.ax.yaxis.set_major_formatter(LogFormatterSciNotation())
        else:  # less than two decades: a few levels, written plainly
            bar.set_ticks(lv[:: max(1, len(lv) // 5)])
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
        bar.ax.yaxis.set_minor_formatter(NullFormatter())
    axes = [ax]
    if inset is not None:
        (ix0, ix1), (iy0, iy1) = inset
        sub = ax.inset_axes(list(inset_bounds))
        IX, IY = np.meshgrid(np.linspace(ix0, ix1, resolution), np.linspace(iy0, iy1, resolution))
        sub.contour(IX, IY, surface(IX, IY), **style)
        sub.set_xlim(ix0, ix1)
        sub.set_ylim(iy0, iy1)
        sub.tick_params(labelsize="x-small")
        sub.set_facecolor("white")
        ax.indicate_inset_zoom(sub, edgecolor="gray")
        axes.append(sub)
    for label, traj in (trajectories or {}).items():
        t = np.asarray(traj)
        color = (colors or {}).get(label)
        for i, a in enumerate(axes):
            line = a.plot(t[:, 0], t[:, 1], ".-", markersize=2, linewidth=1.2, color=color,
                          label=label if i == 0 else None)[0]  # fmt: skip
            color = line.get_color()
            a.plot(t[-1, 0], t[-1, 1], "x", color=color)
    for label, (px, py) in (points or {}).items():
        for i, a in enumerate(axes):
            a.plot(px, py, "k*", markersize=10)
            if i == 0:
                a.annotate(label, (px, py), textcoords="offset points", xytext=(5, 5), fontsize="small")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    _finish(ax, title, xlabel, ylabel, legend_loc=legend_loc)
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
    legend_loc: str | None = None,
) -> Path:
    """Points of a 2-D, K-class data set over the regions where ``predict`` (N, 2) -> (N,) labels them.

    ``legend_loc``: where the legend goes, a Matplotlib location, ``"outside"`` (right of the axes) or
    ``"below"`` (under the axes).

    Args:
        path: the PNG file to write.
        predict: ``predict(points) -> labels``, (M, 2) grid points to (M,) class indices 0…K−1.
        x: the data's points, shape (N, 2).
        y: their class indices, shape (N,), in 0…K−1.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        class_names: the legend label of each class, indexed by class; ``None`` for the class indices.
        resolution: grid points per axis.
        margin: how far the grid extends beyond the data, as a fraction of its range on each axis.
        legend_loc: where the legend goes: a Matplotlib location (default ``"best"``), ``"outside"`` (right of
            the axes) or ``"below"`` (under the axes).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
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
    _finish(ax, title, xlabel, ylabel, legend_loc=legend_loc)
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
    value_labels: bool = False,
    legend_loc: str | None = None,
) -> Path:
    """Grouped bar chart: one bar per group within each category (e.g. lecture vs ours).

    ``errors`` gives error-bar half-widths per group (e.g. a spread over seeds); ``hlines`` labelled references;
    ``value_labels`` writes each bar's value above it (a bar of height 0 is otherwise invisible);
    ``legend_loc`` as in every plot here ("outside"/"below" keep the legend off the bars).

    Args:
        path: the PNG file to write.
        categories: the x-axis categories.
        groups: label → one value per category (one bar of each category).
        title: the axes' title.
        ylabel: the y-axis label.
        xlabel: the x-axis label.
        errors: label → one error-bar half-width per category; a group not named here gets none.
        hlines: label → y of a dashed horizontal reference line, labelled at one end.
        value_labels: write each bar's value above it.
        legend_loc: where the legend goes: a Matplotlib location (default ``"best"``), ``"outside"`` (right of
            the axes) or ``"below"`` (under the axes).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(categories) * max(1, len(groups))), 4.2))
    n = len(groups)
    width = 0.8 / max(n, 1)
    xs = np.arange(len(categories))
    for i, (label, values) in enumerate(groups.items()):
        err = None if errors is None or label not in errors else np.asarray(errors[label], dtype=float)
        bars = ax.bar(
            xs + (i - (n - 1) / 2) * width, np.asarray(values, dtype=float), width, label=label, yerr=err, capsize=3
        )
        if value_labels:
            ax.bar_label(bars, labels=[f"{v:.2g}" for v in np.asarray(values, dtype=float)], fontsize="small")
    for label, value in (hlines or {}).items():
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        _reference_label(ax, label, value)
    ax.set_xticks(xs)
    ax.set_xticklabels(list(categories), rotation=15, ha="right")
    _finish(ax, title, xlabel, ylabel, legend_loc)
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
    """Overlaid histograms of named samples (eigenvalues, errors, ...).

    Args:
        path: the PNG file to write.
        samples: label → the values of one sample.
        title: the axes' title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        bins: the number of bins of each histogram.
        logy: use a logarithmic y axis.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a sample holds NaN or ±∞ (Matplotlib would silently leave NaN out of the bins: a count
            that is not the sample's), or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    arrays = {label: np.asarray(s, dtype=float) for label, s in samples.items()}
    for label, values in arrays.items():
        if not np.all(np.isfinite(values)):
            raise ValueError(f"histogram {title!r}: sample {label!r} has NaN or ±∞ values; drop them")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, values in arrays.items():
        ax.hist(values, bins=bins, alpha=0.55, label=label)
    _finish(ax, title, xlabel, ylabel, logy=logy)
    return save(fig, path)


def panels(
    path: PathLike,
    draw: Sequence[Callable[[plt.Axes], None]],
    *,
    titles: Sequence[str],
    suptitle: str,
    ncols: int | None = None,
    panel_size: tuple[float, float] = (4.2, 3.6),
    legend_loc: str | None = None,
    shared_legend: bool = False,
    legend_ncol: int = 3,
) -> Path:
    """A grid of subplots, each drawn by one callable taking its ``Axes`` (for multi-panel lecture figures).

    Each callable should set its own axis labels; the helper adds the subplot titles, grids and legends.
    ``panel_size`` is one subplot's (width, height) in inches; ``legend_loc="outside"`` puts each legend to the
    right of its panel (off the data), any other value is matplotlib's ``loc``. With ``shared_legend`` (panels that
    draw the same labelled series) one legend goes under the whole figure, off the data, instead of one per
    panel.

    Args:
        path: the PNG file to write.
        draw: one callable per panel, ``draw(ax)``, drawing into its ``Axes`` (e.g. :func:`path_on_surface`).
        titles: one title per panel.
        suptitle: the figure's title.
        ncols: panels per row; ``None`` for up to 3.
        panel_size: one panel's (width, height) in inches.
        legend_loc: each panel's legend place: ``"outside"`` (right of the panel) or a Matplotlib location
            (default ``"best"``); unused with ``shared_legend``.
        shared_legend: draw one legend under the figure for all panels (each label once).
        legend_ncol: the columns of the shared legend.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: if a plotted value is NaN or ±∞, or a legend label is blank (:func:`check`).
        OSError: if the PNG or its folder cannot be written (:func:`jaxml.io.atomic_write_bytes`).
    """
    n = len(draw)
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    extra = 0.5 if shared_legend else 0.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows + extra), squeeze=False
    )
    handles: dict[str, object] = {}
    for ax, fn, t in zip(axes.ravel(), draw, titles):
        fn(ax)
        ax.set_title(t, fontsize="medium")
        ax.grid(True, alpha=0.3)
        h, lab = ax.get_legend_handles_labels()
        if shared_legend:
            handles.update({k: v for v, k in zip(h, lab) if k not in handles and not k.startswith("_")})
        elif h:
            if legend_loc == "outside":  # no widening: panel_size leaves the room
                ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
            else:
                ax.legend(fontsize="x-small", loc=legend_loc or "best")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(suptitle)
    rect = None
    if shared_legend and handles:
        rows = -(-len(handles) // legend_ncol)
        bottom = min(0.35, (0.3 + 0.25 * rows) / fig.get_figheight())
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=legend_ncol, fontsize="small")
        rect = (0.0, bottom, 1.0, 1.0)
    return save(fig, path, rect=rect)


def path_on_surface(
    values: Callable[[np.ndarray, np.ndarray], np.ndarray],
    theta: np.ndarray,
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    label: str,
    color: str,
    steps: int,
    style: str = "-",
    marks: Mapping[str, tuple[float, float]] | None = None,
    resolution: int = 120,
) -> Callable[[plt.Axes], None]:
    """A :func:`panels` drawer: a loss surface's log-spaced contours, with a colour bar, and ONE optimizer's path.

    One path per panel: paths that share a stretch (gradient descent and momentum into the same valley) cannot
    hide one another. A diverged path is drawn up to its last finite θ.

    Args:
        values: ``values(X, Y) -> Z`` on NumPy grids (e.g. ``jaxml.surfaces.on_grid(f)``).
        theta: the path, shape (T, 2).
        xlim: (low, high) of θ₁, the window's x range.
        ylim: (low, high) of θ₂, the window's y range.
        label: the path's legend label.
        color: the path's Matplotlib colour.
        steps: how many updates the path took (labels its end point).
        style: the path's Matplotlib line style.
        marks: named points to star (minima, saddles).
        resolution: grid points per axis.

    Returns:
        ``draw(ax)``, a callable for :func:`panels` that draws the contours, the colour bar, the path (start,
        end and line) and the marks into ``ax``. The surface is evaluated here, once; nothing is drawn yet.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import LogFormatterSciNotation

    X, Y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    Z = np.asarray(values(X, Y), dtype=float)
    shift = float(Z.min()) - 1e-3  # shifted positive for the log colour scale
    Z = Z - shift

    def draw(ax: plt.Axes) -> None:
        cs = ax.contour(X, Y, Z, levels=np.geomspace(Z.min(), Z.max(), 20), cmap="viridis",
                        norm=LogNorm(Z.min(), Z.max()), linewidths=0.7)  # fmt: skip
        decades = 10.0 ** np.arange(np.ceil(np.log10(Z.min())), np.floor(np.log10(Z.max())) + 1)
        bar = ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.02, ticks=decades,
                                 format=LogFormatterSciNotation())  # fmt: skip
        sign = "+" if shift < 0 else "−"
        bar.set_label("loss" if abs(shift) < 1e-2 else f"loss {sign} {abs(shift):.3g}", labelpad=2)
        th = np.asarray(theta, dtype=float)
        finite = np.all(np.isfinite(th), axis=1)
        th = th[: len(th) if finite.all() else int(np.argmin(finite))]
        if len(th):
            ax.plot(th[:, 0], th[:, 1], style, color=color, lw=1.4, label=label)
            ax.plot(th[0, 0], th[0, 1], "o", color="k", ms=5, label="start")
            ax.plot(th[-1, 0], th[-1, 1], "X", color=color, ms=9, mec="k", label=f"after {steps} updates")
        for name, (px, py) in (marks or {}).items():
            ax.plot(px, py, "k*", ms=10)
            ax.annotate(name, (px, py), textcoords="offset points", xytext=(0, 7), ha="center", fontsize="small")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("θ₁")
        ax.set_ylabel("θ₂")
        ax.legend(fontsize="x-small", loc="lower left")

    return draw

