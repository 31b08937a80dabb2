"""The one validation layer: every public entry point of jaxml checks its inputs through these functions.

Each check either returns the value in the form the caller needs (an ``int``, a PRNG key, an array) or raises
``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, wrong value) whose message names the argument,
says what was expected and shows what was got. Nothing here is public API: modules import it as
``from jaxml import _checks``.

Under ``jax.jit`` values are abstract tracers and cannot be inspected: value checks (finiteness, label range,
domains) then pass silently and only shapes and dtypes are checked. :func:`is_concrete` tells the two apart;
the public functions document what they cannot check under ``jit``.

Example:
    >>> from jaxml import _checks
    >>> _checks.positive_int(3, "epochs")
    3
    >>> _checks.positive_int(0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a positive integer, got 0
    >>> _checks.key(0).dtype
    key<fry>
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

PyTree = Any

__all__ = [
    "SingularCovarianceError",
    "all_concrete",
    "bounded",
    "callable_",
    "check_hyperparameter",
    "class_labels",
    "class_model",
    "examples",
    "features_and_labels",
    "finite",
    "fitted_gaussian",
    "functions",
    "integer",
    "is_concrete",
    "key",
    "keys",
    "labels",
    "labels_valid",
    "leading_axis",
    "model_and_features",
    "model_features",
    "nan_unless",
    "nonnegative_scalar",
    "one_of",
    "parameters",
    "positive_definite_covariance",
    "positive_int",
    "positive_ints",
    "probabilities",
    "raw_key",
    "real",
    "real_array",
    "real_dtype",
    "reraise_with_context",
    "same_shape",
    "scalar_output",
    "tree_shapes",
]


def is_concrete(x: Any) -> bool:
    """Whether ``x`` holds values Python can read (not a tracer under ``jit``/``vmap``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def _describe(value: Any) -> str:
    if isinstance(value, (jax.Array, np.ndarray)):
        return f"an array of dtype {value.dtype} and shape {tuple(value.shape)}"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


# ----------------------------------------------------------------------------------------------------------
# Integers and reals


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python ``int`` in ``[low, high]`` (either bound optional); ``bool`` is refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (np.ndarray, jax.Array)) and value.ndim == 0 and jnp.issubdtype(value.dtype, jnp.integer):
            if not is_concrete(value):
                raise TypeError(f"{name} must be a concrete integer (it sets a shape or a loop count), got a tracer")
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"<= {high}" if low is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {bounds}, got {value}")
    return value


def positive_int(value: Any, name: str) -> int:
    """``value`` as an ``int`` ≥ 1."""
    try:
        return integer(value, name, low=1)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None


def real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_array: bool = True,
) -> Any:
    """A finite real number in the given interval; returned unchanged.

    Python and NumPy numbers, and concrete 0-d arrays, are checked: finite, and ``low ≤ value ≤ high`` (strict
    where ``low_open``/``high_open``). A JAX array that is a tracer (under ``jit``, ``vmap``,
    ``optax.inject_hyperparams``) cannot be read and passes unchecked; a concrete array (``allow_array``) is
    checked element-wise.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got bool {value!r}")
    if isinstance(value, numbers.Real):
        arr = np.asarray(float(value))
    elif isinstance(value, (np.ndarray, jax.Array, np.generic)) and allow_array:
        if not jnp.issubdtype(value.dtype, jnp.number) or jnp.issubdtype(value.dtype, jnp.complexfloating):
            raise TypeError(f"{name} must be a real number, got {_describe(value)}")
        if not is_concrete(value):
            return value
        arr = np.asarray(value, dtype=np.float64)
    else:
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_bad = low is not None and np.any(arr <= low if low_open else arr < low)
    hi_bad = high is not None and np.any(arr >= high if high_open else arr > high)
    if lo_bad or hi_bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        domain = f"{left}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{right}"
        shown = float(arr) if arr.ndim == 0 else value
        raise ValueError(f"{name} must lie in {domain}, got {shown!r}")
    return value


def callable_(value: Any, name: str, expected: str = "a callable") -> Any:
    """``value`` if callable, else ``TypeError`` naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    return value


# ----------------------------------------------------------------------------------------------------------
# PRNG keys: an int seed and a key are accepted alike everywhere


def _threefry() -> bool:
    """Whether the default PRNG is threefry, whose key data (uint32 (2,)) this module builds from a seed."""
    return str(jax.config.jax_default_prng_impl) == "threefry2x32"


def _seed_data(seed: int) -> np.ndarray:
    """Threefry key data [high, low] 32-bit halves of the int64 seed (two's complement).

    This is what ``jax.random.PRNGKey(seed)`` gives with x64 on, for every int64 seed; with x64 off JAX
    truncates the seed to its low 32 bits, so 2**32 would seed like 0. Building the halves here gives one key
    per seed in the whole int64 range whatever the x64 flag, and [0, s] (PRNGKey(s) either way) for
    0 ≤ s < 2**32.
    """
    bits = seed & (2**64 - 1)
    return np.array([bits >> 32, bits & 0xFFFFFFFF], np.uint32)


def _traced_seed_data(seed: jax.Array) -> jax.Array:
    """:func:`_seed_data` for a traced integer seed (rows of a 1-D batch alike): the same halves in jnp."""
    seed = jnp.asarray(seed)
    if seed.dtype.itemsize == 8:
        low = (seed & 0xFFFFFFFF).astype(jnp.uint32)
        high = (seed >> 32).astype(jnp.uint32)  # arithmetic shift: a negative seed's high half is its sign bits
    else:
        low = seed.astype(jnp.uint32)  # wraps modulo 2**32, the two's complement low half
        signed = jnp.issubdtype(seed.dtype, jnp.signedinteger)
        high = jnp.where(seed < 0, jnp.uint32(0xFFFFFFFF), jnp.uint32(0)) if signed else jnp.zeros_like(low)
    return jnp.stack([high, low], axis=-1)


def _check_seed(seed: int, name: str) -> int:
    if not -(2**63) <= seed < 2**63:  # JAX raises a bare OverflowError past int64
        raise ValueError(f"{name} as an int seed must fit in a signed 64-bit integer, got {seed}")
    return seed


def key(value: Any, name: str = "key") -> jax.Array:
    """A typed PRNG key (``jax.random.key``) from an int seed, a typed key or a raw ``PRNGKey`` (uint32 (2,)).

    An int seed s in the signed 64-bit range gives the key ``jax.random.PRNGKey(s)`` gives with x64 on — its
    two 32-bit halves — with x64 on or off (JAX with x64 off would drop the high half, so s and s + 2**32
    would give the same numbers). For 0 ≤ s < 2**32 that is ``PRNGKey(s)`` in either mode, so the same seed
    gives the same numbers whichever form a caller passes.

    Example:
        >>> import numpy as np
        >>> np.asarray(jax.random.key_data(key(2**32 + 5))).tolist()   # [high, low] halves of the seed
        [1, 5]
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a PRNG key or an int seed, got bool {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        seed = _check_seed(int(value), name)
        if not _threefry():
            return jax.random.key(seed)
        return jax.random.wrap_key_data(_seed_data(seed))
    if not isinstance(value, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a PRNG key (jax.random.key / PRNGKey) or an int seed, got {_describe(value)}")
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        if value.shape != ():
            raise ValueError(f"{name} must be a single PRNG key, got a batch of shape {value.shape}")
        return value
    if value.shape == () and jnp.issubdtype(value.dtype, jnp.integer):
        if is_concrete(value):
            return key(int(value), name)
        return jax.random.wrap_key_data(_traced_seed_data(value)) if _threefry() else jax.random.key(value)
    if value.dtype != np.uint32 or value.shape != (2,):
        raise TypeError(
            f"{name} must be a PRNG key (jax.random.key or PRNGKey, uint32 of shape (2,)) or an int seed, "
            f"got {_describe(value)}"
        )
    return jax.random.wrap_key_data(jnp.asarray(value))


def raw_key(value: Any, name: str = "key") -> jax.Array:
    """Like :func:`key` but as raw uint32 key data of shape (2,) (what ``jax.random.PRNGKey`` returns)."""
    return jax.random.key_data(key(value, name))


def keys(value: Any, name: str = "keys", count: int | None = None) -> jax.Array:
    """A batch of N raw keys (N, 2) uint32 from typed keys (N,), raw keys (N, 2) or N int seeds (each seed as
    :func:`key` makes it: its two 32-bit halves, whatever the x64 flag)."""
    if isinstance(value, (list, tuple)):
        value = jnp.stack([raw_key(v, f"{name}[{i}]") for i, v in enumerate(value)]) if value else jnp.zeros((0, 2))
    if not isinstance(value, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a batch of PRNG keys, got {_describe(value)}")
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        value = jax.random.key_data(value)
    elif value.ndim == 1 and jnp.issubdtype(value.dtype, jnp.integer):
        if not is_concrete(value):
            value = _traced_seed_data(value)
        elif value.size:
            seeds = np.asarray(value)
            if seeds.dtype == np.uint64 and int(seeds.max()) >= 2**63:
                _check_seed(int(seeds.max()), f"{name}[{int(np.argmax(seeds))}]")
            value = np.stack([_seed_data(s) for s in seeds.astype(np.int64).tolist()])
    if value.ndim != 2 or value.shape[1] != 2 or value.dtype != np.uint32 or value.shape[0] == 0:
        raise TypeError(
            f"{name} must be a non-empty batch of PRNG keys of shape (N, 2) (e.g. jax.random.split(key, N)), "
            f"got {_describe(value)}"
        )
    if count is not None and value.shape[0] != count:
        raise ValueError(f"{name} must hold {count} keys, got {value.shape[0]}")
    return jnp.asarray(value)


# ----------------------------------------------------------------------------------------------------------
# Arrays


def finite(x: Any, name: str, *, allow_empty: bool = False) -> Any:
    """``x`` unchanged after checking it is numeric, non-empty and (for floats, when concrete) finite.

    Under ``jit`` the values are not readable: only the dtype and size are checked then.
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        try:
            arr = np.asarray(x)
        except ValueError as err:
            raise ValueError(f"{name} is ragged or not numeric: {err}") from None
        dtype = arr.dtype
    else:
        arr = x
    if not (jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)):
        raise TypeError(f"{name} must be a numeric array, got dtype {dtype}")
    if not allow_empty and np.size(arr) == 0:
        raise ValueError(f"{name} must not be empty, got shape {np.shape(arr)}")
    if jnp.issubdtype(dtype, jnp.inexact) and is_concrete(arr) and not _all_finite(arr):
        bad = np.argwhere(~np.isfinite(np.asarray(arr)))[0]
        where = f" (first at index {tuple(int(i) for i in bad)}: {np.asarray(arr)[tuple(bad)]})" if bad.size else ""
        raise ValueError(f"{name} contains NaN or infinite values{where}")
    return x


@jax.jit
def _device_all_finite(x: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(x))


def _all_finite(arr: Any) -> bool:
    """Whether every entry is finite, in one pass that allocates nothing.

    A sum is finite only if every term is (NaN and ±inf propagate), so a finite sum proves the array finite;
    only a non-finite sum (a NaN, an inf, or finite values overflowing) needs the element-wise test. A JAX
    array on an accelerator is reduced where it lives (one fused XLA reduction, no transfer to the host); on
    the CPU NumPy reads its buffer in place and sums it with no XLA dispatch, the cheaper path there
    (``python -m benchmarks.validation`` compares the two).
    """
    if isinstance(arr, jax.Array) and (
        not arr.is_fully_addressable or not all(dev.platform == "cpu" for dev in arr.devices())
    ):
        return bool(_device_all_finite(arr))
    arr = np.asarray(arr)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.all(np.isfinite(arr)))


def leading_axis(tree: PyTree, name: str) -> int:
    """N, the leading (example) axis that every array leaf of ``tree`` shares; ``ValueError`` otherwise."""
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError(f"{name} must hold at least one array, got {_describe(tree)}")
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if None in sizes or len(sizes) != 1:
        shapes = [tuple(np.shape(leaf)) for leaf in leaves]
        if len(leaves) > 1 and any(isinstance(leaf, (numbers.Number, np.generic)) for leaf in leaves):
            # A Python list of numbers is a pytree of scalars to JAX, not an array of examples.
            raise TypeError(
                f"{name} holds {len(leaves)} Python numbers (a list of numbers is a pytree of scalars, not an array "
                f"of examples): convert each part with np.asarray, e.g. data=(np.asarray(x), np.asarray(y)); "
                f"got shapes {shapes[:4]}{' …' if len(shapes) > 4 else ''}"
            )
        raise ValueError(f"every array in {name} must share a leading example axis, got shapes {shapes}")
    (n,) = sizes
    if n == 0:
        raise ValueError(f"{name} is empty (0 examples)")
    return int(n)


def labels(y: Any, num_classes: int | None, name: str = "labels") -> Any:
    """Integer class labels in 0 … K−1 (K = ``num_classes``; None checks only ≥ 0); returned unchanged.

    Under ``jit`` the range cannot be read: callers must make an out-of-range label produce NaN, never a
    plausible finite number.
    """
    dtype = getattr(y, "dtype", None) or np.asarray(y).dtype
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(f"{name} must be integer class indices, got dtype {dtype}")
    if is_concrete(y) and np.size(y):
        values = np.asarray(y)
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or (num_classes is not None and hi >= num_classes):
            expected = f"0 … {num_classes - 1}" if num_classes is not None else ">= 0"
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} must lie in {expected}, got {bad}")
    return y


def probabilities(p: Any, name: str = "probs", *, atol: float | None = None) -> Any:
    """Rows of probabilities: entries in [0, 1] and each row summing to 1, within ``atol`` (when concrete).

    ``atol`` defaults to max(1e-5, 100·eps of the dtype), room for the rounding of a softmax.
    """
    finite(p, name)
    dtype = np.dtype(getattr(p, "dtype", None) or np.asarray(p).dtype)
    if not np.issubdtype(dtype, np.floating) and dtype != jnp.bfloat16:
        raise TypeError(f"{name} must be floating-point probabilities, got dtype {dtype}")
    if is_concrete(p):
        atol = max(1e-5, 100 * float(jnp.finfo(dtype).eps)) if atol is None else atol
        arr = np.asarray(p, np.float64)
        if arr.min() < -atol or arr.max() > 1 + atol:
            raise ValueError(f"{name} must lie in [0, 1], got values in [{arr.min():.4g}, {arr.max():.4g}]")
        sums = arr.sum(axis=-1)
        worst = np.argmax(np.abs(sums - 1))
        if abs(sums.flat[worst] - 1) > atol:
            raise ValueError(f"{name} rows must sum to 1, got a row summing to {float(sums.flat[worst]):.6g}")
    return p


# ----------------------------------------------------------------------------------------------------------
# Choices, sequences, shapes and ranges of arrays; what to do under jit


def one_of(value: Any, name: str, choices: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``choices``, else ``ValueError`` listing them."""
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {choices}, got {_describe(value)}")
    return value


def positive_ints(value: Any, name: str) -> tuple[int, ...]:
    """A sequence of positive integers (layer widths) as a tuple; a bare int or a string is a ``TypeError``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, range, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of positive integers (e.g. [16, 16]), got {_describe(value)}")
    return tuple(positive_int(v, f"{name}[{i}]") for i, v in enumerate(value))


def real_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    allow_bool: bool = True,
) -> Any:
    """``x`` unchanged after checking it is a real (not complex) numeric array of ``ndim`` dimensions (one of
    them, for a tuple), non-empty and, when concrete, finite (:func:`finite`). ``allow_bool=False`` refuses
    booleans (``TypeError``): predictions and regression targets are numbers, and JAX's arithmetic on bools
    fails with a message that names no argument."""
    finite(x, name, allow_empty=allow_empty)
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {dtype}")
    if not allow_bool and jnp.issubdtype(dtype, jnp.bool_):
        raise TypeError(f"{name} must hold numbers (integer or floating), got dtype bool; cast it, e.g. .astype(float)")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if np.ndim(x) not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must be a {want}-D array, got shape {tuple(np.shape(x))}")
    return x


def same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """``ValueError`` naming both shapes unless ``a`` and ``b`` have the same shape (no silent broadcasting)."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a} {tuple(np.shape(a))} "
            f"and {name_b} {tuple(np.shape(b))}"
        )


def bounded(x: Any, name: str, low: float, high: float) -> Any:
    """``x`` unchanged after checking (when concrete) that every entry lies in [low, high]."""
    if is_concrete(x) and np.size(x):
        arr = np.asarray(x)
        lo, hi = arr.min(), arr.max()
        if lo < low or hi > high:
            bad = lo if lo < low else hi
            raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {bad}")
    return x


def labels_valid(y: Any, num_classes: int) -> jax.Array:
    """0 ≤ y < K element-wise: the mask a jittable function uses to turn invalid labels into NaN."""
    y = jnp.asarray(y)
    return (y >= 0) & (y < num_classes)


def nan_unless(value: Any, valid: Any) -> jax.Array:
    """``value`` where ``valid`` holds and NaN elsewhere (broadcast): the jit-side answer to bad values.

    Under ``jit`` a label or probability cannot be inspected; this makes an invalid one poison the result
    instead of giving a plausible finite number. For valid inputs the value (and its gradient) is unchanged.
    """
    value = jnp.asarray(value)
    dtype = value.dtype if jnp.issubdtype(value.dtype, jnp.inexact) else jnp.result_type(float)
    return jnp.where(valid, value, jnp.asarray(jnp.nan, dtype))


def tree_shapes(tree: PyTree, template: PyTree, name: str) -> PyTree:
    """``tree`` unchanged after checking it has the leaves of ``template`` (same paths and shapes).

    Shapes are static, so this costs nothing under ``jit``. Lists and tuples count alike; dtypes are not
    compared (parameters may be cast). ``template`` may hold arrays or ``jax.ShapeDtypeStruct`` (``eval_shape``).
    """
    got = jax.tree_util.tree_flatten_with_path(tree)[0]
    want = jax.tree_util.tree_flatten_with_path(template)[0]
    got_shapes = {jax.tree_util.keystr(p): tuple(np.shape(v)) for p, v in got}
    want_shapes = {jax.tree_util.keystr(p): tuple(np.shape(v)) for p, v in want}
    if got_shapes.keys() != want_shapes.keys():
        missing = sorted(want_shapes.keys() - got_shapes.keys())
        extra = sorted(got_shapes.keys() - want_shapes.keys())
        parts = [f"missing {missing[:6]}" if missing else "", f"unexpected {extra[:6]}" if extra else ""]
        raise ValueError(
            f"{name} does not have this model's structure: {', '.join(p for p in parts if p)} "
            f"(expected the leaves {list(want_shapes)[:8]}, got {_describe(tree)})"
        )
    for path, shape in want_shapes.items():
        if got_shapes[path] != shape:
            raise ValueError(
                f"{name}{path} must have shape {shape} for this model, got {got_shapes[path]} "
                "(parameters of another architecture?)"
            )
    return tree


# ----------------------------------------------------------------------------------------------------------
# Class-conditional models (jaxml.generative): features and labels, fitted and given models


class SingularCovarianceError(ValueError):
    """A class covariance is singular (a constant feature, or features that are linear combinations)."""


SingularCovarianceError.__module__ = "jaxml.generative"  # raised and documented there (generative re-exports it)


def all_concrete(*arrays: Any) -> bool:
    """Whether every argument holds readable values (:func:`is_concrete`)."""
    return all(is_concrete(a) for a in arrays)


def real_dtype(x: Any, name: str) -> None:
    """Real numbers (or bools) in ``x``, judged by the dtype alone: no pass over the values."""
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    if not (jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)):
        raise TypeError(f"{name} must be a numeric array, got dtype {dtype}")
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {dtype}")


def features_and_labels(x: Any, y: Any, x_name: str = "x", y_name: str = "y") -> None:
    """Shapes of a labelled set: ``x`` (N, D) with N ≥ 1 and ``y`` (N,) numeric or bool."""
    if not jnp.issubdtype(y.dtype, jnp.number) and y.dtype != bool:
        raise TypeError(f"{y_name} must hold integer class labels 0…K−1, got dtype {y.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{x_name} must be a 2-D array (N examples, D features), got shape {x.shape}")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{y_name} must be a 1-D array of {x.shape[0]} labels (one per row of {x_name}), got shape {y.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{x_name} must contain at least one example")


def class_labels(
    y: Any, num_classes: int | None, min_count: int, what: str, weight: Any = None, name: str = "y"
) -> int:
    """Concrete labels 0…K−1 (integers, or floats with integer values, or bools) with at least ``min_count``
    examples (of weight > 0) per class; returns K (``num_classes``, or max(y) + 1)."""
    values = np.asarray(y)
    if values.dtype == bool:
        values = values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.integer):
        if not np.issubdtype(values.dtype, np.floating) or not np.all(values == np.round(values)):
            raise ValueError(f"{name} must hold integer class labels 0…K−1, got dtype {values.dtype}")
        values = values.astype(np.int64)
    if num_classes is None:
        num_classes = max(int(values.max()), 0) + 1
        hint = "pass num_classes"
    else:
        num_classes = positive_int(num_classes, "num_classes")
        hint = f"num_classes is {num_classes}"
    try:
        labels(values, num_classes, name)
    except ValueError as err:
        raise ValueError(
            f"{err}; map your classes to 0…K−1 first (e.g. np.unique(y, return_inverse=True)) or {hint}"
        ) from None
    counts = np.bincount(values if weight is None else values[np.asarray(weight) > 0], minlength=num_classes)
    few = np.flatnonzero(counts < min_count)
    if few.size:
        k = int(few[0])
        if counts[k] == 0:
            seen = np.flatnonzero(counts).tolist()
            raise ValueError(
                f"{name} must hold class labels 0…K−1 with every class present (K={num_classes}); class {k} has no "
                f"examples (labels present: {seen[:20]}{'…' if len(seen) > 20 else ''})"
            )
        raise ValueError(f"class {k} has only {int(counts[k])} example(s); {what} needs at least {min_count} per class")
    return int(num_classes)


def nonnegative_scalar(value: Any, name: str) -> None:
    """A finite scalar ≥ 0 (a regularizer, a smoothing count); a traced one passes (the caller makes it NaN)."""
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    real(value, name, low=0.0)


def _dense_covariances(model: Any) -> np.ndarray | None:
    """The K' (D, D) covariance matrices of a full or shared model on the host (None for a diagonal one)."""
    cov = np.asarray(model.covariance, np.float64)
    return None if cov.ndim == 2 else cov


def positive_definite_covariance(model: Any, name: str = "model") -> None:
    """``ValueError`` naming the class whose (concrete) covariance is not positive definite; else nothing.

    A Gaussian density needs Σᵏ ≻ 0 (its Cholesky factor and log-determinant): a variance ≤ 0 or a matrix
    with a non-positive eigenvalue has none, and the posteriors would be NaN.
    """
    if not is_concrete(model.covariance):
        return
    hint = (
        "a covariance from jaxml.generative.fit is positive definite (pass reg > 0 if it was singular, or "
        "covariance='shared' to pool the classes)"
    )
    dense = _dense_covariances(model)
    if dense is None:
        variances = np.asarray(model.covariance, np.float64)
        if np.any(variances <= 0):
            k, i = (int(v) for v in np.argwhere(variances <= 0)[0])
            raise ValueError(
                f"{name}.covariance must hold positive variances: class {k}, feature {i} has "
                f"{float(variances[k, i]):.4g}; {hint}"
            )
        return
    for k, sigma in enumerate(dense):
        which = "the shared covariance" if dense.shape[0] == 1 else f"the covariance of class {k}"
        if not np.allclose(sigma, sigma.T, rtol=1e-5, atol=1e-8 * max(float(np.max(np.abs(sigma))), 1e-300)):
            raise ValueError(f"{name}.covariance: {which} is not symmetric; {hint}")
        try:
            np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            lam = float(np.linalg.eigvalsh(sigma)[0])
            raise ValueError(
                f"{name}.covariance: {which} is not positive definite (smallest eigenvalue {lam:.4g}); {hint}"
            ) from None


def class_model(model: Any, name: str = "model") -> None:
    """A GaussianModel or BernoulliModel with consistent shapes and, when concrete, finite entries, priors that
    are probabilities (≥ 0, summing to 1) and Bernoulli feature probabilities in [0, 1]."""
    from jaxml._gaussian import BernoulliModel, GaussianModel  # here: _checks imports no jaxml module at load

    if not isinstance(model, (GaussianModel, BernoulliModel)):
        raise TypeError(f"{name} must be a GaussianModel or BernoulliModel, got {type(model).__name__}")
    if isinstance(model, GaussianModel):
        k, d = np.shape(model.means) if np.ndim(model.means) == 2 else (None, None)
        shapes = {(k, d, d), (1, d, d), (k, d)}
        if k is None or np.shape(model.priors) != (k,) or np.shape(model.covariance) not in shapes:
            raise ValueError(
                f"{name} has inconsistent shapes: means {np.shape(model.means)} (K, D), covariance "
                f"{np.shape(model.covariance)} ((K, D, D), (1, D, D) or (K, D)), priors {np.shape(model.priors)} (K,)"
            )
        for field in ("means", "covariance", "priors"):
            finite(getattr(model, field), f"{name}.{field}")
        if np.ndim(model.covariance) == 2:  # diagonal: positive variances, a K×D comparison (dense: lazily)
            positive_definite_covariance(model, name)
    else:
        if np.ndim(model.feature_probs) != 2 or np.shape(model.priors) != np.shape(model.feature_probs)[:1]:
            raise ValueError(
                f"{name} has inconsistent shapes: feature_probs {np.shape(model.feature_probs)} (K, D), "
                f"priors {np.shape(model.priors)} (K,)"
            )
        for field in ("feature_probs", "priors"):
            finite(getattr(model, field), f"{name}.{field}")
        bounded(model.feature_probs, f"{name}.feature_probs", 0.0, 1.0)
    # P(Cₖ) enters as log P(Cₖ): a negative prior would make every posterior NaN.
    probabilities(model.priors, f"{name}.priors")


def fitted_gaussian(model: Any, x: Any, x_name: str = "x") -> None:
    """Concrete-only checks of a fit: finite estimates and no singular covariance (a scale-free test).

    A NaN or inf anywhere in x reaches its class's mean, so finite estimates prove x finite without a pass
    over x; only when they are not is x itself inspected, to say where.
    """
    from jaxml._gaussian import covariance_kind

    means = np.asarray(model.means, dtype=np.float64)
    cov = np.asarray(model.covariance, dtype=np.float64)
    priors = np.asarray(model.priors, dtype=np.float64)
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(cov))):
        finite(x, x_name)
        raise ValueError(
            f"{x_name} is finite but its fitted means/covariances overflow (values too large for the dtype); "
            f"rescale {x_name}"
        )
    kind = covariance_kind(model)
    dense = np.broadcast_to(cov, (len(priors), *cov.shape[1:])) if kind != "diagonal" else None
    variances = cov if kind == "diagonal" else np.diagonal(dense, axis1=1, axis2=2)
    # Overall per-feature variance (law of total variance), the scale against which "singular" is judged.
    grand = priors @ means
    total_var = priors @ variances + priors @ (means - grand) ** 2
    d = means.shape[1]
    eps = float(np.finfo(model.covariance.dtype).eps)
    tol = 10.0 * d * eps
    hint = (
        f"pass reg > 0 to fit (it adds reg·I to Σ; e.g. reg={max(1e-6 * float(np.max(total_var)), 1e-12):.3g}, "
        "1e-6 of the largest feature variance), or drop constant / linearly dependent features"
    )
    if np.any(total_var <= 0):
        bad = np.flatnonzero(total_var <= 0).tolist()
        raise SingularCovarianceError(f"feature(s) {bad} are constant: every covariance is singular; {hint}")
    scale = np.sqrt(total_var)
    where = "the shared covariance" if kind == "shared" else "the covariance of class {k}"
    if kind == "diagonal":
        rel = variances / total_var
        if np.any(rel <= tol):
            k, i = (int(v) for v in np.argwhere(rel <= tol)[0])
            raise SingularCovarianceError(
                f"{where.format(k=k)} is singular: feature {i} has zero variance within the class; {hint}"
            )
        return
    for k, sigma in enumerate(dense):
        corr = sigma / np.outer(scale, scale)
        eig = np.linalg.eigvalsh(corr)
        if eig[0] <= tol * max(eig[-1], 1.0):
            cond = eig[-1] / eig[0] if eig[0] > 0 else math.inf
            raise SingularCovarianceError(
                f"{where.format(k=k)} is singular (rank < {d}, condition number {cond:.3g}: a constant feature "
                f"or features that are linear combinations of others, or fewer examples than features); {hint}"
            )


def model_features(model: Any, x: Any, name: str = "x") -> jax.Array:
    """``x`` as an (N, D) array in the model's float type, D the model's feature count (shapes only: works
    under ``jit``)."""
    from jaxml._gaussian import BernoulliModel, GaussianModel

    if not isinstance(model, (GaussianModel, BernoulliModel)):
        raise TypeError(f"model must be a GaussianModel or BernoulliModel, got {type(model).__name__}")
    x = jnp.asarray(x)
    d = model.means.shape[-1] if isinstance(model, GaussianModel) else model.feature_probs.shape[-1]
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"{name} must have shape (N, {d}) to match the model, got {x.shape}")
    return x.astype(model.priors.dtype)


def model_and_features(model: Any, x: Any, name: str = "x") -> Any:
    """:func:`class_model` on ``model``, then ``x`` 2-D and (when concrete: one pass) finite; ``x`` unchanged."""
    class_model(model)
    real_array(x, name, ndim=2)
    return x


# Trees: parameters, example sets, named functions, scalar outputs


def parameters(tree: PyTree, name: str = "params", *, lead: int | None = None) -> PyTree:
    """A parameter pytree to differentiate: at least one leaf, each floating-point and (when concrete) finite,
    each with a leading run axis of size ``lead`` when given; returned unchanged. Leaves are named by path."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    if not leaves:
        raise ValueError(f"{name} must hold at least one array (the parameters to train), got {_describe(tree)}")
    for path, leaf in leaves:
        where = f"{name}{jax.tree_util.keystr(path)}"
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            raise TypeError(f"{where} must be a floating-point array (it is differentiated), got {_describe(leaf)}")
        if lead is not None and (np.ndim(leaf) == 0 or np.shape(leaf)[0] != lead):
            raise ValueError(f"{where} must have a leading axis of {lead} runs, got shape {np.shape(leaf)}")
        finite(leaf, where)
    return tree


def examples(tree: PyTree, name: str) -> int:
    """N for a data set: a pytree of non-empty arrays sharing a leading example axis, finite where floating."""
    n = leading_axis(tree, name)
    for leaf in jax.tree_util.tree_leaves(tree):
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            # Spread over several processes (jaxml.distributed): reduce where it lives, read the replicated bit.
            floating = jnp.issubdtype(leaf.dtype, jnp.inexact)
            if floating and not bool(jax.jit(lambda a: jnp.all(jnp.isfinite(a)))(leaf)):
                raise ValueError(f"{name} contains NaN or infinite values")
            continue
        finite(leaf, name)
    return n


def functions(value: Any, name: str, expected: str) -> dict[str, Any]:
    """A mapping ``{str: callable}`` (None → ``{}``) as a dict; ``TypeError`` naming ``name`` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping name -> {expected}, got {_describe(value)}")
    for key_, fn in value.items():
        if not isinstance(key_, str):
            raise TypeError(f"{name} keys must be names (str), got {_describe(key_)}")
        callable_(fn, f"{name}[{key_!r}]", expected)
    return dict(value)


def reraise_with_context(err: BaseException, context: str) -> None:
    """Raise ``err`` again with ``context`` (which argument, which call) in front of its message.

    A plain ``TypeError``/``ValueError`` is rebuilt as ``type(err)(f"{context}: {err}")`` (chained). Any other
    type is re-raised as it is, the context added as a note (Python ≥ 3.11) — its type is kept because callers
    catch it, and because a subclass need not take one message string: JAX's tracer errors
    (``TracerBoolConversionError``, ``ConcretizationTypeError``) take a tracer, and rebuilding them from a
    string gives an exception that cannot even print itself.
    """
    if type(err) in (TypeError, ValueError):
        raise type(err)(f"{context}: {err}") from err
    if hasattr(err, "add_note"):
        err.add_note(context)
    raise err


def scalar_output(fn: Any, args: tuple, name: str, *, floating: bool = False) -> None:
    """``fn(*args)`` must return a real (with ``floating``, floating-point) scalar; only traced
    (``jax.eval_shape``), so ``args`` may be ``jax.ShapeDtypeStruct`` s and nothing is computed."""
    try:
        out = jax.eval_shape(fn, *args)
    except (TypeError, ValueError) as err:  # e.g. params of another architecture: name what went in
        shapes = jax.tree_util.tree_map(lambda a: f"{jnp.result_type(a)}{list(np.shape(a))}", args)
        context = f"{name} failed on arguments shaped {shapes}"
        reraise_with_context(err, context)
    kinds = (jnp.floating,) if floating else (jnp.floating, jnp.integer, jnp.bool_)
    if not hasattr(out, "shape") or out.shape != () or not any(jnp.issubdtype(out.dtype, k) for k in kinds):
        got = f"dtype {out.dtype} and shape {tuple(out.shape)}" if hasattr(out, "shape") else type(out).__name__
        raise ValueError(f"{name} must return a {'floating-point' if floating else 'real'} scalar, got {got}")


# ---- optimizer hyper-parameters ------------------------------------------------------------------------------
# The domain checks of jaxml.optim (its blocks, aliases and schedules); public as jaxml.optim.check_hyperparameter,
# whose (name, value) argument order it keeps.


def check_hyperparameter(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float | None = None,
    schedule_ok: bool = False,
) -> Any:
    """Check an optimizer hyper-parameter: a finite real ``low ≤ value`` (and ``value < high`` when ``high`` is
    given); returns ``value`` unchanged.

    Python and NumPy numbers and concrete arrays are checked (arrays element-wise, see :func:`real`); a tracer
    (under ``vmap``, ``jit`` or ``optax.inject_hyperparams``) cannot be read and passes. With ``schedule_ok`` a
    callable is accepted as an ``optax.Schedule`` t ↦ value and probed once at t = 0 (an int32 scalar, as the
    first update calls it); only that first value can be checked. An exception the schedule itself raises is the
    user's and propagates unchanged; a wrong *result* is jaxml's ``TypeError``/``ValueError``.

    Args:
        name: the hyper-parameter's name as the caller knows it (``"learning_rate"``, ``"b1"``), used in the
            error messages.
        value: the hyper-parameter: a Python or NumPy real number, a JAX or NumPy array (checked element-wise
            when concrete), or, with ``schedule_ok``, an ``optax.Schedule``.
        low: the inclusive lower bound of the domain: ``value`` ≥ ``low``.
        high: the exclusive upper bound, ``value`` < ``high``; ``None`` for no upper bound.
        schedule_ok: whether a callable t ↦ value (an ``optax.Schedule``) is accepted in place of a number.

    Returns:
        ``value`` unchanged (a schedule as the same callable).

    Raises:
        TypeError: not a real number (nor, with ``schedule_ok``, a callable of one argument t), or a schedule
            whose value at t = 0 is not a real scalar.
        ValueError: a number (or a schedule's value at t = 0) that is infinite, NaN or outside its domain.

    Example:
        >>> check_hyperparameter("beta", 0.9, high=1.0)
        0.9
        >>> check_hyperparameter("beta", 1.0, high=1.0)
        Traceback (most recent call last):
        ...
        ValueError: beta must lie in [0, 1), got 1.0
        >>> check_hyperparameter("learning_rate", lambda t: "fast", schedule_ok=True)
        Traceback (most recent call last):
        ...
        TypeError: learning_rate must be a schedule returning a real scalar, got str 'fast' at t = 0
    """
    if schedule_ok and callable(value):
        _schedule_at_zero(name, value, low=low, high=high)
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray, np.generic, jax.Array)):
        expected = "a real number or an optax.Schedule" if schedule_ok else "a real number"
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    return real(value, name, low=low, high=high, high_open=high is not None)


def _schedule_at_zero(name: str, schedule: Any, *, low: float, high: float | None) -> None:
    """Call ``schedule`` at t = 0 as the first update will and check what it returns (not what it raises)."""
    import inspect  # only here: the one check that inspects a signature

    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # some builtins and C callables have none: let the call decide
        signature = None
    if signature is not None:
        try:
            signature.bind(0)
        except TypeError:
            raise TypeError(
                f"{name} must be a number or an optax.Schedule (a function of the step count t), got a callable "
                f"with signature {signature}"
            ) from None
    result = schedule(jnp.zeros([], jnp.int32))  # the user's own exceptions propagate as they are
    kinds = (jnp.floating, jnp.integer)
    dtype = getattr(result, "dtype", None)
    number = isinstance(result, (numbers.Real, np.ndarray, np.generic, jax.Array))
    bad_array = dtype is not None and (np.shape(result) != () or not any(jnp.issubdtype(dtype, k) for k in kinds))
    if isinstance(result, (bool, np.bool_)) or not number or bad_array:
        raise TypeError(f"{name} must be a schedule returning a real scalar, got {_describe(result)} at t = 0")
    if is_concrete(result):
        real(result, f"{name} (the schedule at t = 0)", low=low, high=high, high_open=high is not None)
