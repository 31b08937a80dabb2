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

import numbers
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

PyTree = Any

__all__ = [
    "bounded",
    "callable_",
    "examples",
    "finite",
    "functions",
    "integer",
    "is_concrete",
    "key",
    "keys",
    "labels",
    "labels_valid",
    "leading_axis",
    "nan_unless",
    "one_of",
    "parameters",
    "positive_int",
    "positive_ints",
    "probabilities",
    "raw_key",
    "real",
    "real_array",
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


def key(value: Any, name: str = "key") -> jax.Array:
    """A typed PRNG key (``jax.random.key``) from an int seed, a typed key or a raw ``PRNGKey`` (uint32 (2,)).

    The seed s and ``jax.random.PRNGKey(s)`` give the same key, so the same seed gives the same numbers
    whichever form a caller passes.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a PRNG key or an int seed, got bool {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        seed = int(value)
        if not -(2**63) <= seed < 2**63:  # JAX raises a bare OverflowError past int64
            raise ValueError(f"{name} as an int seed must fit in a signed 64-bit integer, got {seed}")
        return jax.random.key(seed)
    if not isinstance(value, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a PRNG key (jax.random.key / PRNGKey) or an int seed, got {_describe(value)}")
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        if value.shape != ():
            raise ValueError(f"{name} must be a single PRNG key, got a batch of shape {value.shape}")
        return value
    if value.shape == () and jnp.issubdtype(value.dtype, jnp.integer):
        return key(int(value), name) if is_concrete(value) else jax.random.key(value)
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
    """A batch of N raw keys (N, 2) uint32 from typed keys (N,), raw keys (N, 2) or N int seeds."""
    if isinstance(value, (list, tuple)):
        value = jnp.stack([raw_key(v, f"{name}[{i}]") for i, v in enumerate(value)]) if value else jnp.zeros((0, 2))
    if not isinstance(value, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a batch of PRNG keys, got {_describe(value)}")
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        value = jax.random.key_data(value)
    elif value.ndim == 1 and jnp.issubdtype(value.dtype, jnp.integer):
        value = jax.vmap(lambda s: jax.random.key_data(jax.random.key(s)))(jnp.asarray(value))
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
    the CPU NumPy reads its buffer in place, and NumPy's sum measured faster than XLA's reduction there
    (``python -m benchmarks.validation``).
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


def real_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None, allow_empty: bool = False) -> Any:
    """``x`` unchanged after checking it is a real (not complex) numeric array of ``ndim`` dimensions (one of
    them, for a tuple), non-empty and, when concrete, finite (:func:`finite`)."""
    finite(x, name, allow_empty=allow_empty)
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {dtype}")
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


def scalar_output(fn: Any, args: tuple, name: str, *, floating: bool = False) -> None:
    """``fn(*args)`` must return a real (with ``floating``, floating-point) scalar; only traced
    (``jax.eval_shape``), so ``args`` may be ``jax.ShapeDtypeStruct`` s and nothing is computed."""
    try:
        out = jax.eval_shape(fn, *args)
    except (TypeError, ValueError) as err:  # e.g. params of another architecture: name what went in
        shapes = jax.tree_util.tree_map(lambda a: f"{jnp.result_type(a)}{list(np.shape(a))}", args)
        raise type(err)(f"{name} failed on arguments shaped {shapes}: {err}") from err
    kinds = (jnp.floating,) if floating else (jnp.floating, jnp.integer, jnp.bool_)
    if not hasattr(out, "shape") or out.shape != () or not any(jnp.issubdtype(out.dtype, k) for k in kinds):
        got = f"dtype {out.dtype} and shape {tuple(out.shape)}" if hasattr(out, "shape") else type(out).__name__
        raise ValueError(f"{name} must return a {'floating-point' if floating else 'real'} scalar, got {got}")
