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
    """``values`` as a finite, non-empty 2-D float64 array, or a ``ValueError`` naming the problem."""
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
    """scikit-learn's bundled ``digits``, ``diabetes`` or ``breast_cancer`` (no download)."""
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


DATASETS = ("covid", "digits", "diabetes", "breast_cancer", "pokemon")


def load(name: str) -> Dataset:
    """Load a data set by name: ``covid``, ``digits``, ``diabetes``, ``breast_cancer`` or ``pokemon``."""
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
    """x ↦ (x − mean) / std with mean and std fitted on the training part only."""

    mean: np.ndarray
    std: np.ndarray

    def transform(self, x: Any) -> np.ndarray:
        """(x − mean) / std; x must be finite with the fitted number of columns."""
        _checks.real_array(x, "x")
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != self.mean.shape:
            raise ValueError(f"x must have {self.mean.shape[0]} columns, got shape {x.shape}")
        return (x - self.mean) / self.std

    def inverse(self, z: Any) -> np.ndarray:
        """z · std + mean, the inverse of :meth:`transform`."""
        _checks.real_array(z, "z")
        z = np.asarray(z)
        if z.shape[-1:] != self.mean.shape:
            raise ValueError(f"z must have {self.mean.shape[0]} columns, got shape {z.shape}")
        return z * self.std + self.mean


def fit_standardizer(x: Any) -> Standardizer:
    """Per-column mean and std of ``x`` (columns of zero spread get std 1, so they map to 0, not NaN).

    Each column is divided by the power of two within a factor 2 of its largest |value| before the moments are taken and
    the moments multiplied back: exact scalings (the same bits as NumPy's mean and std wherever those do not
    overflow), but the squares of values like 1e200 no longer overflow to an infinite std that would map
    the column to zeros.

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
    and standardize with statistics of the training part only. Returns (train, test, standardizer)."""
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

    Example:
        >>> [a.dtype.name for a in to_device(np.zeros(2), np.arange(2, dtype=np.int32))]
        ['float32', 'int32']
    """
    dtype = dtype or jnp.result_type(float)
    return tuple(jnp.asarray(a, dtype if np.issubdtype(np.asarray(a).dtype, np.floating) else None) for a in arrays)
