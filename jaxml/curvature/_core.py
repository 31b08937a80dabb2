"""The private core of :mod:`jaxml.curvature`: objectives, checks, flat parameters and the Hessian operator.

Every public curvature function takes an objective in one of two shapes,

* ``f(params) -> scalar`` (``data=None``), or
* ``f(params, batch) -> scalar`` with ``data`` a tuple of arrays sharing a leading axis N (usually ``(x, y)``),

and works on θ, the parameters raveled into one vector (``ravel_pytree`` order). This module holds what they all
share: input validation, the hashable layout of θ (so compiled programs are reused across calls with the same
shapes), and :func:`operator`, the map v ↦ H·v as a pytree that crosses ``jax.jit`` boundaries.

The operator. Without batching, H·v is a vector-Jacobian product of the gradient: one reverse pass through
∇f at θ saves its residuals once (``jax.vjp(∇f, θ)``), and every product is then only the second reverse
pass, H·v = (∂∇f/∂θ)ᵀv (H is symmetric), where forward-over-reverse (the JVP of ∇f) redoes the forward pass
each time (``python -m benchmarks.curvature`` prints both times). With
``batch_size`` each product is the example-weighted mean over batches, H·v = Σ_b (n_b/N) H_b·v (a ``lax.scan``
of JVPs), holding one batch's intermediates at a time.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks

__all__ = [
    "Layout",
    "apply",
    "batched",
    "check_data",
    "check_finite",
    "check_inputs",
    "check_objective",
    "check_params",
    "check_point",
    "check_scalar_objective",
    "checked_operator",
    "flat_objective",
    "flatten",
    "key",
    "layout",
    "not_finite",
    "operator",
    "product",
    "split",
    "unflatten",
]

#: A parameter pytree θ (leaves: floating-point arrays).
Params = Any
#: The data an objective takes as ``f(params, batch)`` — a tuple of arrays sharing a leading axis N, or None.
Data = tuple[Any, ...] | None
#: An objective, ``f(params)`` or ``f(params, batch)`` -> real scalar.
Objective = Callable[..., jax.Array]


class Layout(NamedTuple):
    """The hashable shape of a parameter pytree: θ ↔ params without a closure (so jit caches can key on it).

    Attributes:
        treedef: the pytree structure of the parameters.
        shapes: each leaf's shape, in ``ravel_pytree`` order.
        dtypes: each leaf's dtype, in the same order.
    """

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[Any, ...]

    @property
    def size(self) -> int:
        """P, the number of scalar parameters."""
        return int(sum(math.prod(s) for s in self.shapes))

    @property
    def dtype(self) -> Any:
        """The leaves' common dtype, the dtype of θ."""
        return jnp.result_type(*self.dtypes)


def layout(params: Params, name: str = "params") -> Layout:
    """The :class:`Layout` of ``params``; ``ValueError`` for no leaves, ``TypeError`` for non-float leaves.

    Args:
        params: a pytree of floating-point arrays.
        name: the argument's name in error messages.

    Returns:
        Its :class:`Layout`.

    Raises:
        ValueError: if ``params`` has no leaves.
        TypeError: if a leaf is not floating-point.
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    if not leaves:
        raise ValueError(f"{name} must be a pytree with at least one array leaf, got an empty pytree")
    for leaf in leaves:
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(f"{name} must have floating-point leaves, got a leaf of dtype {jnp.result_type(leaf)}")
    return Layout(treedef, tuple(tuple(np.shape(a)) for a in leaves), tuple(jnp.result_type(a) for a in leaves))


def flatten(params: Params) -> jax.Array:
    """θ: the leaves raveled and concatenated in ``ravel_pytree`` order, in their common dtype.

    Args:
        params: a pytree of arrays with at least one leaf.

    Returns:
        The (P,) vector θ.
    """
    leaves = jax.tree_util.tree_leaves(params)
    dtype = jnp.result_type(*leaves)
    return jnp.concatenate([jnp.ravel(jnp.asarray(a, dtype)) for a in leaves])


def unflatten(lay: Layout, theta: jax.Array) -> Params:
    """The pytree of ``lay`` from the vector θ (each leaf cast back to its own dtype).

    Args:
        lay: the :class:`Layout` of the pytree.
        theta: a (P,) vector.

    Returns:
        A pytree like the one ``lay`` was taken from.
    """
    sizes = [math.prod(s) for s in lay.shapes]
    cuts = np.cumsum(sizes)[:-1].tolist()
    parts = jnp.split(theta, cuts) if cuts else [theta]
    leaves = [p.reshape(s).astype(d) for p, s, d in zip(parts, lay.shapes, lay.dtypes)]
    return jax.tree_util.tree_unflatten(lay.treedef, leaves)


def check_objective(f: Any) -> None:
    """``TypeError`` unless ``f`` is callable.

    Args:
        f: the objective.

    Raises:
        TypeError: if ``f`` is not callable.
    """
    _checks.callable_(f, "f", "a callable objective f(params) or f(params, batch)")


def check_params(params: Params) -> Layout:
    """The layout of ``params``, after checking its leaves are finite (when concrete).

    Args:
        params: a pytree of floating-point arrays.

    Returns:
        Its :class:`Layout`.

    Raises:
        ValueError: if ``params`` has no leaves, or a leaf is empty or holds NaN or inf.
        TypeError: if a leaf is not floating-point.
    """
    lay = layout(params)
    for leaf in jax.tree_util.tree_leaves(params):
        _checks.finite(leaf, "params")
    return lay


def check_data(data: Data, batch_size: int | None) -> int | None:
    """Validate ``data``/``batch_size``; return N (or None without data).

    Args:
        data: a tuple of arrays sharing a leading axis, or None.
        batch_size: a positive integer (needs ``data``), or None.

    Returns:
        N, the number of examples, or None without data.

    Raises:
        ValueError: if ``batch_size`` is given without ``data`` or is not a positive integer; if the arrays of
            ``data`` do not share a leading axis, are empty or hold NaN or inf.
        TypeError: if ``data`` is not a non-empty tuple or list of arrays, or ``batch_size`` not an integer.
    """
    if data is None:
        if batch_size is not None:
            raise ValueError("batch_size needs data: pass data=(x, y) together with batch_size")
        return None
    if not isinstance(data, tuple | list) or not data:
        raise TypeError(f"data must be a non-empty tuple of arrays with a shared leading axis, got {type(data)}")
    n = _checks.leading_axis(tuple(data), "data")
    for i, a in enumerate(data):
        _checks.finite(a, f"data[{i}]")
    if batch_size is not None:
        _checks.positive_int(batch_size, "batch_size")
    return n


def check_scalar_objective(f: Objective, params: Params, data: Data) -> None:
    """``f`` must return a real scalar: checked on abstract values (``jax.eval_shape``, nothing is computed).

    A ``TypeError`` from calling ``f`` gets the call's form in front of its message; JAX's own errors (a tracer
    in Python control flow: ``TracerBoolConversionError``, ``ConcretizationTypeError``) are re-raised with their
    type and text, the form added as a note — decided by the exception's type, never by its text.

    Args:
        f: the objective.
        params: the parameter pytree.
        data: the data tuple, or None.

    Raises:
        ValueError: if ``f`` does not return one real (floating-point) scalar.
        TypeError: if ``f`` cannot be called as ``f(params)`` / ``f(params, batch)``.
    """
    batch = None if data is None else tuple(data)
    try:
        out = jax.eval_shape(f, params) if batch is None else jax.eval_shape(f, params, batch)
    except TypeError as err:
        form = "f(params)" if batch is None else "f(params, batch)"
        _checks.reraise_with_context(err, f"f could not be called as {form}")
    shapes = [tuple(o.shape) for o in jax.tree_util.tree_leaves(out)]
    if len(shapes) != 1 or shapes[0] != () or not jnp.issubdtype(jax.tree_util.tree_leaves(out)[0].dtype, jnp.floating):
        raise ValueError(
            f"f must return a real scalar (the objective to differentiate twice), got outputs of shapes {shapes}; "
            "for a vector-valued function take the Hessian of each component"
        )


def not_finite(what: str) -> ValueError:
    """The error for a point where f has no curvature: ``what`` (the loss, the gradient, H·v) is NaN or inf.

    Args:
        what: what is not finite, for the message.

    Returns:
        The ``ValueError`` to raise.
    """
    return ValueError(
        f"{what} is not finite (NaN or inf) at params: f is undefined or not twice differentiable there (e.g. √ or "
        "log of a negative parameter, |θ|^p at 0), so its Hessian has no meaning; choose params inside f's domain"
    )


def check_point(finite: Any) -> None:
    """``ValueError`` naming params unless the flags [f(θ) finite, ∇f(θ) finite] (concrete) both hold.

    Args:
        finite: a (2,) boolean array, [f(θ) finite, ∇f(θ) finite]; a tracer passes unchecked.

    Raises:
        ValueError: if either flag is false.
    """
    if not _checks.is_concrete(finite):
        return
    loss_ok, grad_ok = (bool(b) for b in np.asarray(finite))
    if not loss_ok:
        raise not_finite("the loss f(params)")
    if not grad_ok:
        raise not_finite("the gradient ∇f(params)")


def check_finite(value: Any, what: str) -> None:
    """``ValueError`` naming params when the concrete ``value`` (H·v, the Hessian, Ritz values) has a NaN or inf.

    Args:
        value: an array; a tracer passes unchecked.
        what: what ``value`` is, for the message.

    Raises:
        ValueError: if ``value`` holds NaN or inf.
    """
    if _checks.is_concrete(value) and not bool(np.all(np.isfinite(np.asarray(value)))):
        raise not_finite(what)


def key(key: Any) -> jax.Array:
    """A typed PRNG key from a key, a raw PRNGKey or an int seed; None gives ``jax.random.key(0)``.

    Args:
        key: a typed key, a raw ``PRNGKey``, an int seed or None.

    Returns:
        A typed PRNG key.

    Raises:
        TypeError: if ``key`` is neither a PRNG key nor an int seed.
        ValueError: if ``key`` is a batch of keys, or an int seed outside the signed 64-bit range.
    """
    return _checks.key(0 if key is None else key)


def flat_objective(f: Objective, lay: Layout, batch: Any = None) -> Callable[[jax.Array], jax.Array]:
    """The objective as a function of the flat vector θ.

    Args:
        f: the objective.
        lay: the parameters' :class:`Layout`.
        batch: the data ``f`` takes as its second argument, or None for ``f(params)``.

    Returns:
        θ ↦ f(params) (or f(params, batch)).
    """
    if batch is None:
        return lambda theta: f(unflatten(lay, theta))
    return lambda theta: f(unflatten(lay, theta), batch)


def split(data: tuple[Any, ...], batch_size: int) -> tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """Full batches stacked as (num_batches, batch_size, ...) and the remainder (or None).

    Args:
        data: a tuple of arrays sharing a leading axis N.
        batch_size: the batch size, a positive integer.

    Returns:
        A tuple ``(full, tail)``: the full batches, each array reshaped to (N // batch_size, batch_size, ...)
        (None when N < batch_size), and the last N mod batch_size rows (None when there are none).
    """
    n = int(np.shape(data[0])[0])
    nb, rest = divmod(n, batch_size)
    full = tuple(jnp.reshape(a[: nb * batch_size], (nb, batch_size, *np.shape(a)[1:])) for a in data) if nb else None
    tail = tuple(a[nb * batch_size :] for a in data) if rest else None
    return full, tail


# ------------------------------------------------------------------------------------------------------------
# The Hessian operator v ↦ H·v, as a pytree


def _batched_product(f: Objective, lay: Layout, batch_size: int, n: int, theta, full, tail, v):
    def batch_hvp(batch: Any) -> jax.Array:
        return jax.jvp(jax.grad(flat_objective(f, lay, batch)), (theta,), (v,))[1]

    total = jnp.zeros_like(v)
    if full is not None:
        total = jax.lax.scan(lambda acc, b: (acc + batch_hvp(b), None), total, full)[0] * (batch_size / n)
    if tail is not None:
        total = total + batch_hvp(tail) * (np.shape(tail[0])[0] / n)
    return total


@functools.lru_cache(maxsize=128)
def _batched_fn(f: Objective, lay: Layout, batch_size: int, n: int, has_full: bool, has_tail: bool) -> Callable:
    # One function object per (objective, layout, batching): the operator's treedef, and so every jit cache
    # keyed on it, is the same from call to call.
    def fn(theta, full, tail, v):
        return _batched_product(f, lay, batch_size, n, theta, full if has_full else None, tail if has_tail else None, v)

    return fn


def _vjp_operator(f: Objective, lay: Layout, params: Params, batch: Any) -> tuple[jax.Array, Any, jax.Array]:
    """θ, the pullback of ∇f at θ (the operator), and whether f(θ) and ∇f(θ) are finite — both computed by the
    pass that saves the pullback's residuals anyway, so the check costs one reduction."""
    theta = flatten(params)

    def grad_and_loss(t: jax.Array) -> tuple[jax.Array, jax.Array]:
        loss, grad = jax.value_and_grad(flat_objective(f, lay, batch))(t)
        return grad, loss

    grad, pullback, loss = jax.vjp(grad_and_loss, theta, has_aux=True)
    return theta, pullback, jnp.stack([jnp.isfinite(loss), jnp.all(jnp.isfinite(grad))])


_vjp_operator_jit = jax.jit(_vjp_operator, static_argnames=("f", "lay"))
_flatten_jit = jax.jit(flatten)


def apply(op: Any, v: jax.Array) -> jax.Array:
    """H·v from the operator (a VJP returns a one-element tuple).

    Args:
        op: the operator from :func:`operator`.
        v: a (P,) vector.

    Returns:
        The (P,) vector H·v.
    """
    out = op(v)
    return out[0] if isinstance(out, tuple) else out


product = jax.jit(apply)
"""(op, v) ↦ H·v, compiled once per operator structure and shapes."""


def check_inputs(  # fmt: skip
    f: Any, params: Params, data: Data, batch_size: int | None = None, *, output: bool = True
) -> tuple[Layout, int | None]:
    """What every curvature door checks: a callable ``f`` returning a real scalar, finite float ``params``
    (when concrete), ``data``/``batch_size``. Returns θ's layout and N (None without data).

    ``output=False`` leaves the scalar-output check to the caller: :func:`operator` traces ``f`` anyway and
    runs it only when that trace fails, which spares a first call one trace of ``f``.

    Args:
        f: the objective.
        params: the parameter pytree.
        data: the data tuple, or None.
        batch_size: the batch size (needs ``data``), or None.
        output: whether to check that ``f`` returns a real scalar.

    Returns:
        A tuple ``(layout, n)``: θ's :class:`Layout` and N (None without data).

    Raises:
        ValueError: as :func:`check_params`, :func:`check_data` and :func:`check_scalar_objective`.
        TypeError: if ``f`` is not callable, and as those checks.
    """
    check_objective(f)
    lay = check_params(params)
    n = check_data(data, batch_size)
    if output:
        check_scalar_objective(f, params, data)
    return lay, n


def batched(data: Data, batch_size: int | None, n: int | None) -> bool:
    """Whether products are averaged over batches (a ``batch_size`` smaller than N).

    Args:
        data: the data tuple, or None.
        batch_size: the batch size, or None.
        n: N, the number of examples (None without data).

    Returns:
        True when ``data`` and a ``batch_size`` below N are given.
    """
    return data is not None and batch_size is not None and batch_size < n


def operator(
    f: Objective, params: Params, *, data: Data = None, batch_size: int | None = None
) -> tuple[Callable[[jax.Array], jax.Array], jax.Array, Layout]:
    """(op, θ, layout): ``op`` maps flat v to H·v and is a pytree (``jax.tree_util.Partial`` or a VJP), so it
    can be passed into jitted functions, which then compile once per objective and shapes. Checks its inputs.

    Args:
        f: the objective, ``f(params)`` or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        data: optional tuple of arrays sharing a leading axis N.
        batch_size: optional batch size (needs ``data``).

    Returns:
        A tuple ``(op, theta, layout)``: the operator, the (P,) vector θ and its :class:`Layout`.

    Raises:
        ValueError: as :func:`check_inputs`, and if f or ∇f is not finite at ``params``.
        TypeError: as :func:`check_inputs`.
    """
    lay, n = check_inputs(f, params, data, batch_size, output=False)
    if batched(data, batch_size, n):
        check_scalar_objective(f, params, data)
    return checked_operator(f, params, lay, n, data=data, batch_size=batch_size)


def checked_operator(
    f: Objective, params: Params, lay: Layout, n: int | None, *, data: Data, batch_size: int | None
) -> tuple[Callable[[jax.Array], jax.Array], jax.Array, Layout]:
    """:func:`operator` for inputs :func:`check_inputs` has passed (``lay``, ``n`` are what it returned).

    Args:
        f: the objective.
        params: the point θ.
        lay: θ's :class:`Layout`, from :func:`check_inputs`.
        n: N from :func:`check_inputs` (None without data).
        data: the data tuple, or None.
        batch_size: the batch size, or None.

    Returns:
        A tuple ``(op, theta, layout)`` as :func:`operator` returns it.

    Raises:
        ValueError: if ``f`` does not return a real scalar, or f or ∇f is not finite at ``params``.
        TypeError: if ``f`` cannot be called as ``f(params)`` / ``f(params, batch)``.
    """
    if not batched(data, batch_size, n):
        batch = None if data is None else tuple(data)
        try:
            theta, op, finite = _vjp_operator_jit(f, lay, params, batch)
        except Exception:
            check_scalar_objective(f, params, data)  # the clear error, when a non-scalar f is the cause
            raise
        check_point(finite)
        return op, theta, lay
    theta = _flatten_jit(params)
    full, tail = split(tuple(data), batch_size)
    fn = _batched_fn(f, lay, int(batch_size), int(n), full is not None, tail is not None)
    return jax.tree_util.Partial(fn, theta, full, tail), theta, lay
