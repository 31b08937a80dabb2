"""Second derivatives of an objective: Hessian-vector products and the dense Hessian.

Near θ′ the loss is L(θ) ≈ L(θ′) + (θ−θ′)ᵀg + ½(θ−θ′)ᵀH(θ−θ′) with g = ∇L(θ′) and H = ∇²L(θ′). Everything in
:mod:`jaxml.curvature` needs H only through products H·v, which cost about as much as a gradient
(forward-over-reverse: the JVP of ``jax.grad``) and never form the P×P matrix.

Objectives come in two shapes:

* ``f(params) -> scalar`` (``data=None``), or
* ``f(params, batch) -> scalar`` with ``data`` a tuple of arrays sharing a leading axis N (usually
  ``(x, y)``), the shape :func:`jaxml.train.supervised` returns. With ``batch_size`` the data are cut into
  batches and the product is the example-weighted mean of the batch products, H·v = Σ_b (n_b/N) H_b·v, which equals
  the full-data product when ``f`` is a mean over its batch, while memory holds one batch at a time.

Inputs are checked (finite parameters and data, a scalar objective), and so is the point: where f, ∇f or H·v is
not finite (√θ at θ < 0) they raise ``ValueError`` naming ``params`` instead of returning NaN. Inside
``jax.jit`` these functions are not meant to be called (they compile their own programs and read values to
check them).

Example:
    >>> import jax.numpy as jnp
    >>> from jaxml.curvature import hessian, hvp
    >>> f = lambda p: (1.0 - p["w1"] * p["w2"]) ** 2          # the lecture's y = w₁w₂x, x = 1, ŷ = 1
    >>> p = {"w1": jnp.array(0.0), "w2": jnp.array(0.0)}
    >>> hessian(f, p)
    Array([[ 0., -2.],
           [-2.,  0.]], dtype=float32)
    >>> hvp(f, p, {"w1": jnp.array(1.0), "w2": jnp.array(1.0)})
    {'w1': Array(-2., dtype=float32), 'w2': Array(-2., dtype=float32)}
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks
from jaxml.curvature import _core
from jaxml.curvature._core import Data, Objective, Params

__all__ = ["hessian", "hvp", "num_params", "ravel"]


def ravel(params: Params) -> tuple[jax.Array, Any]:
    """θ as one flat vector (``ravel_pytree`` order) and the map back to the pytree.

    Args:
        params: the parameters θ, a pytree of floating-point arrays.

    Returns:
        A tuple ``(theta, unravel)``: ``theta`` is the (P,) vector of every leaf raveled and concatenated in
        ``ravel_pytree`` order, in the leaves' common dtype; ``unravel`` maps a (P,) vector back to a pytree like
        ``params`` (each leaf cast back to its own dtype).

    Raises:
        ValueError: if ``params`` has no array leaves.
        TypeError: if a leaf of ``params`` is not floating-point.

    Example:
        >>> theta, unravel = ravel({"w": jnp.ones(2), "b": jnp.zeros(())})
        >>> theta
        Array([0., 1., 1.], dtype=float32)
    """
    lay = _core.layout(params)
    return _core.flatten(params), lambda theta: _core.unflatten(lay, theta)


def num_params(params: Params) -> int:
    """P, the number of scalar parameters in the pytree.

    Args:
        params: a pytree of arrays (or scalars).

    Returns:
        P, the total number of entries over all leaves, as a Python ``int`` (0 for an empty pytree).

    Example:
        >>> num_params({"w": jnp.ones((3, 2)), "b": jnp.zeros(2)})
        8
    """
    return int(sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(params)))


def _hvp_once(f: Objective, lay: _core.Layout, params: Params, batch: Any, v: jax.Array) -> tuple[jax.Array, jax.Array]:
    # One product: forward-over-reverse in one program and one pass. The VJP operator of _core would first
    # compile and run a pass that saves the pullback's residuals, which pays off only over many products.
    # The primal pass computes f(θ) and ∇f(θ) anyway: their finiteness comes with the product.
    value_and_grad = jax.value_and_grad(_core.flat_objective(f, lay, batch))
    (loss, grad), (_, hv) = jax.jvp(value_and_grad, (_core.flatten(params),), (v,))
    return hv, jnp.stack([jnp.isfinite(loss), jnp.all(jnp.isfinite(grad))])


_hvp_once_jit = jax.jit(_hvp_once, static_argnames=("f", "lay"))


def hvp(f: Objective, params: Params, v: Params, *, data: Data = None, batch_size: int | None = None) -> Params:
    """H·v as a pytree like ``params``, exactly (no finite difference) at about the cost of a gradient.

    H·v = ∂/∂ε ∇f(θ + εv) at ε = 0. With ``data`` the objective is ``f(params, batch)``; with ``batch_size`` the
    product is the example-weighted mean of the batch products Σ_b (n_b/N) H_b·v, which equals the full-data
    product when ``f`` is a mean over its batch, holding one batch in memory at a time.

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        v: the direction v, a pytree with the structure and leaf shapes of ``params`` (finite).
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f`` as
            ``batch``.
        batch_size: optional batch size (needs ``data``); below N the product is averaged over batches.

    Returns:
        H·v, a pytree like ``params`` (each leaf in the dtype of its ``params`` leaf).

    Raises:
        ValueError: if ``v`` does not match the structure or shapes of ``params``; if ``v``, ``params`` or
            ``data`` is empty or holds NaN or inf; if ``params`` has no array leaves; if the arrays of ``data``
            do not share a leading axis; if ``batch_size`` is given without ``data`` or is not a positive
            integer; if ``f`` does not return a real scalar; if f, ∇f or H·v is not finite at ``params``.
        TypeError: if ``f`` is not callable or cannot be called as ``f(params)`` / ``f(params, batch)``; if a
            leaf of ``params`` is not floating-point; if ``data`` is not a non-empty tuple or list of arrays;
            if ``batch_size`` is not an integer.

    Example:
        >>> f = lambda p: jnp.sum(p["a"] ** 3)
        >>> hvp(f, {"a": jnp.array([1.0, 2.0])}, {"a": jnp.array([1.0, 0.0])})
        {'a': Array([6., 0.], dtype=float32)}
    """
    if jax.tree_util.tree_structure(v) != jax.tree_util.tree_structure(params):
        raise ValueError("v must be a pytree with the same structure as params")
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(v)):
        if np.shape(a) != np.shape(b):
            raise ValueError(f"v must have the shapes of params: got a leaf {np.shape(b)} for {np.shape(a)}")
        _checks.finite(b, "v")
    flat_v = _core.flatten(v)
    lay, n = _core.check_inputs(f, params, data, batch_size)
    if _core.batched(data, batch_size, n):
        op, theta, _ = _core.checked_operator(f, params, lay, n, data=data, batch_size=batch_size)
        hv = _core.product(op, flat_v.astype(theta.dtype))
    else:
        batch = None if data is None else tuple(data)
        hv, finite = _hvp_once_jit(f, lay, params, batch, flat_v.astype(lay.dtype))
        _core.check_point(finite)
    _core.check_finite(hv, "the Hessian-vector product H·v")
    return _core.unflatten(lay, hv)


def _dense(op: Any, p: int, dtype: Any, chunk: int) -> jax.Array:
    eye_chunks = -(-p // chunk)

    def columns(i: jax.Array) -> jax.Array:
        idx = i * chunk + jnp.arange(chunk)
        basis = (idx[:, None] == jnp.arange(p)[None, :]).astype(dtype)  # rows past P are all zero
        return jax.vmap(lambda e: _core.apply(op, e))(basis)

    h = jax.lax.map(columns, jnp.arange(eye_chunks)).reshape(eye_chunks * chunk, p)[:p]
    # H·eᵢ are the rows of H (H is symmetric); averaging with the transpose removes round-off asymmetry and is
    # exactly symmetric, since floating-point addition commutes.
    return (h + h.T) / 2


_dense_jit = jax.jit(_dense, static_argnames=("p", "dtype", "chunk"))


def hessian(
    f: Objective,
    params: Params,
    *,
    chunk_size: int | None = None,
    data: Data = None,
    batch_size: int | None = None,
) -> jax.Array:
    """The dense (P, P) Hessian H = ∇²f(θ), rows and columns in ``ravel_pytree`` order, exactly symmetric.

    Built from Hessian-vector products with the unit vectors, ``chunk_size`` columns at a time (``jax.vmap``
    over a chunk, ``lax.map`` over chunks; default min(P, 256)): each chunk is one batched second-order pass,
    and the working memory is about ``chunk_size`` tangent copies of the model's intermediates. With
    ``data``/``batch_size`` the products are averaged over batches (see :func:`hvp`). The result is
    symmetrized, ½(H + Hᵀ). ``f`` must return a real scalar (``ValueError`` otherwise), and f, its gradient
    and H must be finite at ``params`` (``ValueError`` naming params: no NaN matrix is returned).

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        chunk_size: columns per vmapped chunk, a positive integer (default min(P, 256); capped at P).
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f`` as
            ``batch``.
        batch_size: optional batch size (needs ``data``); below N the products are averaged over batches.

    Returns:
        H, a (P, P) ``jax.Array`` in the dtype of θ, rows and columns in ``ravel_pytree`` order, exactly
        symmetric.

    Raises:
        ValueError: if ``params`` or ``data`` is empty or holds NaN or inf; if ``params`` has no array leaves;
            if the arrays of ``data`` do not share a leading axis; if ``batch_size`` is given without ``data``;
            if ``chunk_size`` or ``batch_size`` is not a positive integer; if ``f`` does not return a real
            scalar; if f, ∇f or H is not finite at ``params``.
        TypeError: if ``f`` is not callable or cannot be called as ``f(params)`` / ``f(params, batch)``; if a
            leaf of ``params`` is not floating-point; if ``data`` is not a non-empty tuple or list of arrays;
            if ``chunk_size`` or ``batch_size`` is not an integer.

    Example:
        >>> hessian(lambda p: (1 - p[0] * p[1]) ** 2, jnp.zeros(2))
        Array([[ 0., -2.],
               [-2.,  0.]], dtype=float32)
    """
    op, theta, _ = _core.operator(f, params, data=data, batch_size=batch_size)
    p = int(theta.shape[0])
    chunk = min(p, 256) if chunk_size is None else min(_checks.positive_int(chunk_size, "chunk_size"), p)
    h = _dense_jit(op, p=p, dtype=theta.dtype, chunk=chunk)
    _core.check_finite(h, "the Hessian ∇²f(params)")
    return h
