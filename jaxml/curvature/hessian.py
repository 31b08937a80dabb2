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

Example:
    >>> import jax.numpy as jnp
    >>> from jaxml.curvature import hessian, hvp
    >>> f = lambda p: (1.0 - p["w1"] * p["w2"]) ** 2          # the lecture's y = w₁w₂x, x = 1, ŷ = 1
    >>> p = {"w1": jnp.array(0.0), "w2": jnp.array(0.0)}
    >>> hessian(f, p)                                          # [[0, -2], [-2, 0]]
    >>> hvp(f, p, {"w1": jnp.array(1.0), "w2": jnp.array(1.0)})   # H·[1, 1] = [-2, -2]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

Params = Any
Data = tuple[Any, ...] | None
Objective = Callable[..., jax.Array]
Matvec = Callable[[jax.Array], jax.Array]

__all__ = ["hessian", "hessian_matvec", "hvp", "hvp_over_batches", "num_params", "ravel"]


def _check_objective(f: Any) -> None:
    if not callable(f):
        raise TypeError(f"f must be a callable objective f(params) or f(params, batch), got {type(f).__name__}")


def ravel(params: Params) -> tuple[jax.Array, Callable[[jax.Array], Params]]:
    """θ as one flat vector (``ravel_pytree`` order) and the map back to the pytree.

    Raises ``ValueError`` for a pytree without array leaves and ``TypeError`` for non-float leaves.
    """
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError("params must be a pytree with at least one array leaf, got an empty pytree")
    for leaf in leaves:
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(f"params must have floating-point leaves, got a leaf of dtype {jnp.result_type(leaf)}")
    return ravel_pytree(params)


def num_params(params: Params) -> int:
    """P, the number of scalar parameters in the pytree."""
    return int(sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(params)))


def _check_data(data: Data, batch_size: int | None) -> int | None:
    """Validate ``data``/``batch_size``; return N (or None without data)."""
    if data is None:
        if batch_size is not None:
            raise ValueError("batch_size needs data: pass data=(x, y) together with batch_size")
        return None
    if not isinstance(data, tuple | list) or not data:
        raise TypeError(f"data must be a non-empty tuple of arrays with a shared leading axis, got {type(data)}")
    sizes = {int(np.shape(a)[0]) if np.ndim(a) else -1 for a in data}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(f"data arrays must share a leading axis, got shapes {[np.shape(a) for a in data]}")
    n = sizes.pop()
    if n == 0:
        raise ValueError("data must hold at least one example")
    if batch_size is not None and (not isinstance(batch_size, int | np.integer) or batch_size <= 0):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    return n


def _split(data: tuple[Any, ...], batch_size: int) -> tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """Full batches stacked as (num_batches, batch_size, ...) and the remainder (or None)."""
    n = int(np.shape(data[0])[0])
    nb, rest = divmod(n, batch_size)
    full = tuple(jnp.reshape(a[: nb * batch_size], (nb, batch_size, *np.shape(a)[1:])) for a in data) if nb else None
    tail = tuple(a[nb * batch_size :] for a in data) if rest else None
    return full, tail


def _flat_objective(f: Objective, unravel: Callable[[jax.Array], Params], batch: Any = None) -> Callable:
    if batch is None:
        return lambda theta: f(unravel(theta))
    return lambda theta: f(unravel(theta), batch)


def hessian_matvec(
    f: Objective,
    params: Params,
    *,
    data: Data = None,
    batch_size: int | None = None,
    linearize: bool = True,
) -> tuple[Matvec, jax.Array, Callable[[jax.Array], Params]]:
    """The map v ↦ H·v on flat vectors, with θ flat and the unravel map.

    Meant to be called inside traced (jitted) code. Without batching the gradient is linearized once
    (``jax.linearize`` of ∇f), so each later product costs only the tangent half of forward-over-reverse;
    with ``batch_size`` each product loops (``lax.scan``) over the batches, holding one batch's intermediates.

    Args:
        f: ``f(params)`` or, with ``data``, ``f(params, batch)``; a scalar.
        params: the point θ (a pytree).
        data: optional tuple of arrays with a shared leading axis.
        batch_size: optional batch size for the product over ``data``.
        linearize: reuse the linearization of ∇f across products (more memory, faster); else JVP each time.
    """
    _check_objective(f)
    n = _check_data(data, batch_size)
    theta, unravel = ravel(params)
    if data is None or batch_size is None or batch_size >= n:
        grad = jax.grad(_flat_objective(f, unravel, None if data is None else tuple(data)))
        if linearize:
            _, lin = jax.linearize(grad, theta)
            return lin, theta, unravel
        return (lambda v: jax.jvp(grad, (theta,), (v,))[1]), theta, unravel

    full, tail = _split(tuple(data), batch_size)

    def batch_hvp(batch: Any, v: jax.Array) -> jax.Array:
        return jax.jvp(jax.grad(_flat_objective(f, unravel, batch)), (theta,), (v,))[1]

    def matvec(v: jax.Array) -> jax.Array:
        total = jnp.zeros_like(v)
        if full is not None:

            def body(acc: jax.Array, batch: Any) -> tuple[jax.Array, None]:
                return acc + batch_hvp(batch, v), None

            acc, _ = jax.lax.scan(body, total, full)
            total = acc * (batch_size / n)
        if tail is not None:
            total = total + batch_hvp(tail, v) * (np.shape(tail[0])[0] / n)
        return total

    return matvec, theta, unravel


def hvp(f: Objective, params: Params, v: Params, *, data: Data = None, batch_size: int | None = None) -> Params:
    """H·v as a pytree like ``params``: forward-over-reverse, the JVP of ∇f at θ along v.

    H·v = d/dε ∇f(θ + εv) at ε = 0, computed exactly (no finite difference) at about the cost of a gradient.

    Example:
        >>> f = lambda p: jnp.sum(p["a"] ** 3)
        >>> hvp(f, {"a": jnp.array([1.0, 2.0])}, {"a": jnp.array([1.0, 0.0])})   # {"a": [6., 0.]}
    """
    _check_objective(f)
    if jax.tree_util.tree_structure(v) != jax.tree_util.tree_structure(params):
        raise ValueError("v must be a pytree with the same structure as params")
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(v)):
        if np.shape(a) != np.shape(b):
            raise ValueError(f"v must have the shapes of params: got a leaf {np.shape(b)} for {np.shape(a)}")
    if data is not None:
        return hvp_over_batches(f, params, v, data, batch_size=batch_size)
    return jax.jvp(jax.grad(f), (params,), (v,))[1]


def hvp_over_batches(
    f: Objective, params: Params, v: Params, data: tuple[Any, ...], *, batch_size: int | None = None
) -> Params:
    """H·v of the data-mean objective L(θ) = (1/N) Σₙ ℓₙ(θ), given ``f(params, batch)`` = mean over ``batch``.

    The product is accumulated batch by batch: H·v = Σ_b (n_b/N) H_b·v (a ``lax.scan`` over equal batches and
    one call for the remainder), so memory holds one batch's intermediates.

    Example:
        >>> f = jaxml.train.supervised(model.apply, jaxml.losses.mse)
        >>> hv = hvp_over_batches(f, params, v, (x, y), batch_size=256)
    """
    _check_data(data, batch_size)
    _, unravel_v = ravel(v)
    vflat, _ = ravel_pytree(v)
    hv = _hvp_over_batches_jit(f, params, vflat, tuple(data), batch_size)
    return unravel_v(hv)


def _hvp_over_batches_impl(f: Objective, params: Params, vflat: jax.Array, data: tuple, batch_size: int | None):
    matvec, theta, _ = hessian_matvec(f, params, data=data, batch_size=batch_size, linearize=False)
    return matvec(vflat.astype(theta.dtype))


_hvp_over_batches_jit = jax.jit(_hvp_over_batches_impl, static_argnames=("f", "batch_size"))


def _dense_impl(f: Objective, params: Params, data: Data, batch_size: int | None, chunk_size: int | None):
    if chunk_size is None and (data is None or batch_size is None):
        theta, unravel = ravel(params)
        g = _flat_objective(f, unravel, None if data is None else tuple(data))
        h = jax.hessian(g)(theta)
    else:
        matvec, theta, _ = hessian_matvec(f, params, data=data, batch_size=batch_size, linearize=batch_size is None)
        p = theta.shape[0]

        def column(i: jax.Array) -> jax.Array:
            return matvec(jnp.zeros((p,), theta.dtype).at[i].set(1))

        h = jax.lax.map(column, jnp.arange(p), batch_size=chunk_size or 0)
    return 0.5 * (h + h.T)


_dense_jit = jax.jit(_dense_impl, static_argnames=("f", "batch_size", "chunk_size"))


def hessian(
    f: Objective,
    params: Params,
    *,
    chunk_size: int | None = None,
    data: Data = None,
    batch_size: int | None = None,
) -> jax.Array:
    """The dense (P, P) Hessian H = ∇²f(θ), rows and columns in ``ravel_pytree`` order.

    By default ``jax.hessian`` (forward-over-reverse) on the raveled θ. With ``chunk_size`` the columns H·eᵢ
    are built from Hessian-vector products ``chunk_size`` at a time (``lax.map`` over vmapped chunks),
    bounding the working memory to about ``chunk_size`` tangent copies of the forward pass instead of P of
    them; with ``data``/``batch_size`` the products are averaged over batches (see :func:`hessian_matvec`).
    The result is symmetrized, ½(H + Hᵀ), to remove round-off asymmetry.

    Args:
        f: ``f(params)`` -> scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ (a pytree of float arrays).
        chunk_size: build H from HVPs, this many columns per vmapped chunk (None: ``jax.hessian``).
        data: optional tuple of arrays with a shared leading axis.
        batch_size: optional data batch size for the HVPs.

    Example:
        >>> H = hessian(lambda p: (1 - p[0] * p[1]) ** 2, jnp.zeros(2))      # [[0, -2], [-2, 0]]
        >>> np.linalg.eigh(np.asarray(H))[0]                                 # [-2, 2]
    """
    _check_objective(f)
    ravel(params)
    _check_data(data, batch_size)
    if chunk_size is not None and (not isinstance(chunk_size, int | np.integer) or chunk_size <= 0):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    return _dense_jit(f, params, None if data is None else tuple(data), batch_size, chunk_size)
