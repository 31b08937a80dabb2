"""Data: the real data sets shipped with jaxml, scikit-learn's bundled sets, splits, scaling, synthetic sets.

Nothing is downloaded. The course's files live in ``jaxml/data/files`` with their provenance (``SOURCES.md``
there: origin, commit, sha256); scikit-learn's sets come from its own package. Every loader returns a
:class:`Dataset` of NumPy arrays, validated: NaN, empty, ragged or non-numeric data raise ``ValueError``.

Example:
    >>> import jax
    >>> from jaxml import data
    >>> ds = data.load("diabetes")
    >>> (x_tr, y_tr), (x_te, y_te) = data.train_test_split(ds.x, ds.y, key=jax.random.PRNGKey(0))
    >>> scaler = data.fit_standardizer(x_tr)
    >>> x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    >>> x_tr.shape, x_te.shape
    ((354, 10), (88, 10))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks
from jaxml.data._files import SHA256, Dataset, read_csv, read_file
from jaxml.data.pokemon import load_pokemon_dataset

Array = jax.Array

__all__ = [
    "COVID_DAILY",
    "DATASETS",
    "SHA256",
    "Dataset",
    "Standardizer",
    "as_float_matrix",
    "fit_standardizer",
    "load",
    "load_covid",
    "load_sklearn",
    "noisy_regression_1d",
    "piecewise_linear_target",
    "read_csv",
    "read_file",
    "split_standardized",
    "to_device",
    "train_test_split",
    "xor",
]

#: the 16 daily survey features of the covid homework, repeated for 5 days.
COVID_DAILY = (
    "cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "wearing_mask", "travel_outside_state", "work_outside_home",
    "shop", "restaurant", "spent_time", "large_event", "public_transit", "anxious", "depressed",
    "worried_finances", "tested_positive",
)  # fmt: skip


def as_float_matrix(values: Any, name: str = "x") -> np.ndarray:
    """``values`` as a finite, non-empty 2-D float64 array, or a ``ValueError`` naming the problem.

    Args:
        values: a design matrix (N, d) as an array or nested sequences of numbers (bools count as 0/1); a 1-D
            sequence (N,) is read as one column, (N, 1).
        name: what to call ``values`` in error messages.

    Returns:
        A new ``np.ndarray`` of shape (N, d) and dtype float64.

    Raises:
        ValueError: if ``values`` is ragged, not numeric, not 1-D or 2-D, empty, or holds NaN or ±inf.
    """
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], (list, tuple)):
        lengths = {len(row) for row in values}
        if len(lengths) > 1:
            raise ValueError(f"{name} is ragged: rows have lengths {sorted(lengths)}")
    try:
        arr = np.asarray(values)
    except ValueError as err:  # numpy refuses ragged nested sequences
        raise ValueError(f"{name} is ragged or not numeric: {err}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, d), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return _checks.finite(arr, name)


def _check_targets(y: Any, n: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {y.dtype}")
    if y.shape[:1] != (n,):
        raise ValueError(f"{name} must have {n} rows like x, got shape {y.shape}")
    return _checks.finite(y, name)


def load_covid(split: str = "train") -> Dataset:
    """The course's HW1 regression set (COVIDcast surveys, 2,699 rows): predict day 5's ``tested_positive``.

    ``x`` holds the 37 one-hot states and the 5 × 16 daily features except the target (116 columns; ``id`` is
    dropped). ``split="test"`` returns the unlabeled homework test file with ``y`` all NaN — for prediction
    shapes only; evaluate on a held-out part of the training file.

    Args:
        split: ``"train"`` (labelled) or ``"test"`` (the homework's unlabeled file).

    Returns:
        A :class:`Dataset`: ``x`` (N, 116) float64, ``y`` (N,) float64 (NaN for ``"test"``), the feature names
        (day-suffixed ``_d1`` … ``_d5``), ``target_names`` ``("tested_positive_d5",)`` and a description.

    Raises:
        ValueError: if ``split`` is neither ``"train"`` nor ``"test"``, or if the shipped file does not match its
            documented sha256 (or holds a non-numeric or non-finite value).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    header, rows = read_csv(f"covid.{split}.csv")
    values = as_float_matrix([[float(v) for v in row] for row in rows], f"covid.{split}.csv")
    names = [f"{h}_d{(i - 38) // 16 + 1}" if i >= 38 else h for i, h in enumerate(header)]
    if split == "train":
        x, y, feature_names = values[:, 1:-1], values[:, -1], names[1:-1]
    else:
        x, y, feature_names = values[:, 1:], np.full(len(values), np.nan), names[1:]
    return Dataset(x, y, tuple(feature_names), ("tested_positive_d5",), "COVIDcast survey features (ML 2022 HW1)")


def load_sklearn(name: str) -> Dataset:
    """scikit-learn's bundled ``digits``, ``diabetes`` or ``breast_cancer`` (no download).

    Args:
        name: ``"digits"`` (10 classes), ``"diabetes"`` (regression) or ``"breast_cancer"`` (2 classes).

    Returns:
        A :class:`Dataset`: ``x`` (N, d) float64; ``y`` (N,) int32 class labels, or float64 targets for
        ``"diabetes"``; scikit-learn's feature and target names; and the first line of its description.

    Raises:
        ValueError: if ``name`` is not one of the three sets.
    """
    from sklearn import datasets

    loaders = {
        "digits": datasets.load_digits,
        "diabetes": datasets.load_diabetes,
        "breast_cancer": datasets.load_breast_cancer,
    }
    if name not in loaders:
        raise ValueError(f"unknown scikit-learn data set {name!r}; expected one of {sorted(loaders)}")
    bunch = loaders[name]()
    x = as_float_matrix(bunch.data, name)
    y = bunch.target
    y = y.astype(np.int32) if name != "diabetes" else y.astype(np.float64)
    targets = tuple(str(t) for t in getattr(bunch, "target_names", ("target",)))
    title = next(line for line in bunch.DESCR.splitlines() if line.strip() and not line.startswith(".."))
    return Dataset(x, y, tuple(str(f) for f in bunch.feature_names), targets, f"scikit-learn: {title.strip()}")


#: the names :func:`load` accepts.
DATASETS = ("covid", "digits", "diabetes", "breast_cancer", "pokemon")


def load(name: str) -> Dataset:
    """Load a data set by name: ``covid``, ``digits``, ``diabetes``, ``breast_cancer`` or ``pokemon``.

    ``covid`` is :func:`load_covid` ``("train")``, ``pokemon`` is :func:`jaxml.data.pokemon.load_pokemon_dataset`
    (Water vs Normal, six stats), and the others are :func:`load_sklearn`.

    Args:
        name: one of :data:`DATASETS`.

    Returns:
        The :class:`Dataset` of NumPy arrays: ``x`` (N, d) float64 and ``y`` (N,).

    Raises:
        ValueError: if ``name`` is not in :data:`DATASETS`, or if a shipped file does not match its documented
            sha256.
    """
    if name == "covid":
        return load_covid("train")
    if name == "pokemon":
        return load_pokemon_dataset()
    if name in ("digits", "diabetes", "breast_cancer"):
        return load_sklearn(name)
    raise ValueError(f"unknown data set {name!r}; expected one of {DATASETS}")


def train_test_split(
    x: Any, y: Any, *, key: Array | int, test_fraction: float = 0.2
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Shuffle with ``key`` (a PRNG key or an int seed) and hold out ``test_fraction`` of the rows:
    ((x_train, y_train), (x_test, y_test)). x and y must be finite and numeric, with one row per example.

    The test part has round(``test_fraction`` · N) rows, at least 1 and at most N − 1, so neither part is empty.

    Args:
        x: the features, N ≥ 2 rows (any trailing shape: (N,), (N, d), …), finite and numeric.
        y: the targets, N rows (leading axis N), finite and numeric.
        key: a PRNG key (``jax.random.key`` or ``jax.random.PRNGKey``) or an int seed; the same key gives the
            same split.
        test_fraction: the share of rows held out, in the open interval (0, 1).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, NumPy arrays: the rows of ``x`` and ``y`` in one random
        permutation, the first round(``test_fraction`` · N) of it for the test part.

    Raises:
        TypeError: if ``x`` is not numeric, ``test_fraction`` is not a real number, or ``key`` is neither a PRNG
            key nor an int seed.
        ValueError: if ``x`` is a scalar, empty, ragged, non-finite or has fewer than 2 rows; if ``y`` is not
            numeric, not finite or has another number of rows; if ``test_fraction`` is outside (0, 1) or not
            finite; or if ``key`` is a batch of keys or a seed beyond 64 bits.

    Example:
        >>> (x_tr, y_tr), (x_te, y_te) = train_test_split(np.arange(10.0), np.arange(10), key=0, test_fraction=0.3)
        >>> len(x_tr), len(x_te), sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
        (7, 3, True)
    """
    _checks.finite(x, "x")
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"x must have a leading axis of examples, got a scalar {x!r}")
    y = _check_targets(y, len(x))
    if len(x) < 2:
        raise ValueError(f"x needs at least 2 rows to split, got {len(x)}")
    _checks.real(test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    key = _checks.key(key, "key")
    perm = np.asarray(jax.random.permutation(key, len(x)))
    n_test = min(max(1, round(test_fraction * len(x))), len(x) - 1)
    test, train = perm[:n_test], perm[n_test:]
    return (x[train], y[train]), (x[test], y[test])


class Standardizer(NamedTuple):
    """x ↦ (x − mean) / std with mean and std fitted on the training part only (see :func:`fit_standardizer`).

    Attributes:
        mean: the per-column means of the training features, shape (d,), float64.
        std: the per-column standard deviations, shape (d,), float64; 1 for a column of zero spread.
    """

    mean: np.ndarray
    std: np.ndarray

    def transform(self, x: Any) -> np.ndarray:
        """(x − mean) / std; x must be finite with the fitted number of columns.

        Args:
            x: features (..., d), d the fitted number of columns (one example (d,) or a batch (N, d)).

        Returns:
            The standardized features, float64, the shape of ``x``.

        Raises:
            TypeError: if ``x`` is not a real numeric array.
            ValueError: if ``x`` is empty or not finite, or its last axis is not of length d.
        """
        _checks.real_array(x, "x")
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != self.mean.shape:
            raise ValueError(f"x must have {self.mean.shape[0]} columns, got shape {x.shape}")
        return (x - self.mean) / self.std

    def inverse(self, z: Any) -> np.ndarray:
        """z · std + mean, the inverse of :meth:`transform`.

        Args:
            z: standardized features (..., d), d the fitted number of columns.

        Returns:
            The features in their original units, the shape of ``z``.

        Raises:
            TypeError: if ``z`` is not a real numeric array.
            ValueError: if ``z`` is empty or not finite, or its last axis is not of length d.
        """
        _checks.real_array(z, "z")
        z = np.asarray(z)
        if z.shape[-1:] != self.mean.shape:
            raise ValueError(f"z must have {self.mean.shape[0]} columns, got shape {z.shape}")
        return z * self.std + self.mean


def fit_standardizer(x: Any) -> Standardizer:
    """Per-column mean and std of ``x`` (columns of zero spread get std 1, so they map to 0, not NaN).

    Each column is divided by the power of two within a factor 2 of its largest absolute value before the
    moments are taken and the moments multiplied back: exact scalings (the same bits as NumPy's mean and std
    wherever those do not overflow), but the squares of values like 1e200 no longer overflow to an infinite std
    that would map the column to zeros.

    Args:
        x: the training features (N, d), finite and numeric; a 1-D x (N,) is one column.

    Returns:
        A :class:`Standardizer` whose ``mean`` and ``std`` have shape (d,) (population std, ``ddof=0``).

    Raises:
        ValueError: if ``x`` is ragged, not numeric, empty, not 1-D or 2-D, or not finite.

    Example:
        >>> scaler = fit_standardizer([[1.0, 5.0], [3.0, 5.0]])
        >>> scaler.mean.tolist(), scaler.std.tolist(), scaler.transform([[3.0, 5.0]]).tolist()
        ([2.0, 5.0], [1.0, 1.0], [[1.0, 0.0]])
        >>> fit_standardizer([[1e200], [-1e200]]).transform([[1e200]]).tolist()     # std 1e200, not inf
        [[1.0]]
    """
    x = as_float_matrix(x)
    _, exponent = np.frexp(np.max(np.abs(x), axis=0))  # max|x| = m·2^e, ½ ≤ m < 1 (0 for a zero column)
    scale = np.ldexp(1.0, exponent - 1)  # 2^(e−1) ≤ max|x|: finite even for max|x| near the largest float
    scaled = x / scale
    mean, std = scaled.mean(axis=0) * scale, scaled.std(axis=0) * scale
    return Standardizer(mean, np.where(std > 0, std, 1.0))


def split_standardized(
    ds: Dataset,
    *,
    key: Array | int,
    test_fraction: float = 0.2,
    features: Sequence[str] | None = None,
    n_train: int | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], Standardizer]:
    """Select ``features`` (by name; default all), split with ``key``, keep at most ``n_train`` training rows,
    and standardize with statistics of the training part only. Returns (train, test, standardizer).

    Args:
        ds: a :class:`Dataset` (e.g. from :func:`load`).
        key: a PRNG key or an int seed for :func:`train_test_split`.
        test_fraction: the share of rows held out, in (0, 1).
        features: names from ``ds.feature_names`` to keep, in the order given; ``None`` keeps every column.
        n_train: keep only the first ``n_train`` training rows (of the shuffled split), 1 ≤ ``n_train`` ≤ the
            training size; ``None`` keeps them all. The test part is unchanged.

    Returns:
        ``((x_train, y_train), (x_test, y_test), standardizer)``: NumPy arrays with ``x_train`` and ``x_test``
        standardized by the :class:`Standardizer` fitted on ``x_train`` (the third part, to map new inputs).

    Raises:
        TypeError: if ``ds`` is not a :class:`Dataset`, ``n_train`` is not an integer, or ``key`` or
            ``test_fraction`` is of the wrong kind (see :func:`train_test_split`).
        ValueError: if a name in ``features`` is not a column of ``ds``, ``n_train`` is out of range, or the
            split's inputs are invalid (see :func:`train_test_split`).
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"ds must be a jaxml.data.Dataset (e.g. data.load('diabetes')), got {type(ds).__name__}")
    x = ds.x
    if features is not None:
        missing = [f for f in features if f not in ds.feature_names]
        if missing:
            raise ValueError(f"features not in the data set: {missing}")
        x = x[:, [ds.feature_names.index(f) for f in features]]
    (x_tr, y_tr), (x_te, y_te) = train_test_split(x, ds.y, key=key, test_fraction=test_fraction)
    if n_train is not None:
        n_train = _checks.integer(n_train, "n_train", low=1, high=len(x_tr))
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    scaler = fit_standardizer(x_tr)
    return (scaler.transform(x_tr), y_tr), (scaler.transform(x_te), y_te), scaler


# ---------------------------------------------------------------- synthetic sets


def piecewise_linear_target(
    breakpoints_x: Sequence[float] = (-3.0, -1.0, 0.5, 2.0, 3.5),
    breakpoints_y: Sequence[float] = (1.0, -0.5, 1.5, 0.5, 2.0),
) -> tuple[np.ndarray, np.ndarray]:
    """The breakpoints (x, y) of the lecture's red curve: a piecewise-linear target to build from hard sigmoids.

    Args:
        breakpoints_x: the x of the m + 1 breakpoints, 1-D, strictly increasing, m ≥ 1.
        breakpoints_y: the y of the breakpoints, 1-D, the same length.

    Returns:
        ``(xs, ys)``: the breakpoints as two float64 arrays of shape (m + 1,), ready for
        :func:`jaxml.models.piecewise_linear`.

    Raises:
        TypeError: if a breakpoint array is not real and numeric.
        ValueError: if either is not 1-D, is empty or not finite, the lengths differ, there are fewer than 2
            breakpoints, or x is not strictly increasing.

    Example:
        >>> piecewise_linear_target()[0].tolist()
        [-3.0, -1.0, 0.5, 2.0, 3.5]
    """
    _checks.real_array(breakpoints_x, "breakpoints_x", ndim=1)
    _checks.real_array(breakpoints_y, "breakpoints_y", ndim=1)
    xs, ys = np.asarray(breakpoints_x, dtype=float), np.asarray(breakpoints_y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1 or xs.size < 2 or np.any(np.diff(xs) <= 0):
        raise ValueError("breakpoints must be 1-D, equal length ≥ 2, with strictly increasing x")
    return xs, ys


def noisy_regression_1d(
    key: Array | int,
    n: int = 100,
    noise: float = 0.1,
    low: float = -3.0,
    high: float = 3.0,
    fn: Callable[[np.ndarray], Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """x ~ U(low, high), y = fn(x) + noise·ε with ε ~ N(0, 1); ``fn`` defaults to sin(x) + 0.3x.

    x and ε are drawn from two independent streams split from ``key``: ε does not depend on x nor on ``fn``
    (the same key gives the same x and the same ε for every ``fn``). ``fn`` must be finite at every drawn x
    (``ValueError`` naming it and the first x where it is not).

    Args:
        key: a PRNG key or an int seed.
        n: the number of examples N, ≥ 1.
        noise: the standard deviation of the Gaussian noise, ≥ 0 (0 gives y = fn(x) exactly).
        low: the lower end of the input interval, finite.
        high: the upper end of the input interval, finite and > ``low``.
        fn: the noiseless target, a function of a float64 array (N,) returning (N,); ``None`` for sin(x) + 0.3x.

    Returns:
        ``(x, y)``: two float64 arrays of shape (N,).

    Raises:
        TypeError: if ``n`` is not an integer, ``noise``, ``low`` or ``high`` is not a real number, ``fn`` is
            not callable, or ``key`` is neither a PRNG key nor an int seed.
        ValueError: if ``n`` < 1, ``noise`` < 0, ``low`` or ``high`` is not finite, ``high`` ≤ ``low``, or
            ``fn`` returns another shape or a non-finite value.

    Example:
        >>> x, y = noisy_regression_1d(0, n=5, noise=0.0)
        >>> x.shape, bool(np.allclose(y, np.sin(x) + 0.3 * x))
        ((5,), True)
    """
    n = _checks.positive_int(n, "n")
    _checks.real(noise, "noise", low=0.0)
    _checks.real(low, "low")
    _checks.real(high, "high", low=float(low), low_open=True)
    if fn is not None:
        _checks.callable_(fn, "fn", "a function of x (or None)")
    key = _checks.key(key, "key")
    kx, ke = jax.random.split(key)
    x = np.asarray(jax.random.uniform(kx, (n,), minval=low, maxval=high), dtype=np.float64)
    fn = fn or (lambda t: np.sin(t) + 0.3 * t)
    with np.errstate(all="ignore"):  # a domain error is reported below, naming fn and x, not as a warning
        y = np.asarray(fn(x), dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"fn must return one value per x, shape {x.shape}, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y))
        name = getattr(fn, "__name__", repr(fn))
        raise ValueError(
            f"fn ({name}) is not finite at {bad.size} of the {n} x in [{low}, {high}): fn(x) = {y[bad[0]]} at "
            f"x = {x[bad[0]]:.6g}; choose low/high inside fn's domain"
        )
    y = y + noise * np.asarray(jax.random.normal(ke, (n,)), dtype=np.float64)
    return x, y


def xor(key: Array | int, n_per_corner: int = 25, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """XOR: points around (0,0), (1,1) (class 0) and (0,1), (1,0) (class 1), Gaussian noise of std ``noise``.

    No linear classifier separates the two classes: the lecture's case for a hidden layer.

    Args:
        key: a PRNG key or an int seed for the noise.
        n_per_corner: the number of points around each of the four corners, ≥ 1.
        noise: the standard deviation of the Gaussian noise added to each coordinate, ≥ 0.

    Returns:
        ``(x, y)``: ``x`` float64 of shape (4 · ``n_per_corner``, 2), the corners (0,0), (1,1), (0,1), (1,0) in
        blocks of ``n_per_corner`` rows, and ``y`` int32 of shape (4 · ``n_per_corner``,), the class of each row.

    Raises:
        TypeError: if ``n_per_corner`` is not an integer, ``noise`` not a real number, or ``key`` neither a PRNG
            key nor an int seed.
        ValueError: if ``n_per_corner`` < 1, or ``noise`` is negative or not finite.

    Example:
        >>> x, y = xor(0, n_per_corner=2, noise=0.0)
        >>> x[::2].tolist(), y.tolist()
        ([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [0, 0, 0, 0, 1, 1, 1, 1])
    """
    n_per_corner = _checks.positive_int(n_per_corner, "n_per_corner")
    _checks.real(noise, "noise", low=0.0)
    key = _checks.key(key, "key")
    corners = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=np.float64)
    labels = np.array([0, 0, 1, 1], dtype=np.int32)
    x = np.repeat(corners, n_per_corner, axis=0)
    x = x + noise * np.asarray(jax.random.normal(key, x.shape), dtype=np.float64)
    return x, np.repeat(labels, n_per_corner)


def to_device(*arrays: np.ndarray, dtype: Any = None) -> tuple[Array, ...]:
    """NumPy arrays to JAX arrays (floats cast to ``dtype``, default JAX's float).

    Args:
        *arrays: the arrays (or anything ``jnp.asarray`` takes) to move to the default device.
        dtype: the dtype for floating-point arrays; ``None`` for JAX's default float (float32, or float64 with
            ``jax_enable_x64``). Integer and bool arrays keep their dtype.

    Returns:
        A tuple of ``jax.Array``, one per input, in order.

    Example:
        >>> [a.dtype.name for a in to_device(np.zeros(2), np.arange(2, dtype=np.int32))]
        ['float32', 'int32']
    """
    dtype = dtype or jnp.result_type(float)
    return tuple(jnp.asarray(a, dtype if np.issubdtype(np.asarray(a).dtype, np.floating) else None) for a in arrays)
