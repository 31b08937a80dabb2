"""The Lanczos iteration with full reorthogonalization, compiled as one ``lax.while_loop``.

From a unit vector v₀, Lanczos builds an orthonormal basis V = [v₀ … v_{m−1}] of the Krylov space
span{v₀, Hv₀, …, H^{m−1}v₀} in which H is tridiagonal, T = VᵀHV with diagonal αⱼ = vⱼᵀHvⱼ and off-diagonal βⱼ:

    βⱼ vⱼ₊₁ = Hvⱼ − αⱼvⱼ − βⱼ₋₁vⱼ₋₁.

The eigenvalues θᵢ of the small T (Ritz values) approximate H's extreme eigenvalues first; y = Vsᵢ are the
Ritz vectors and ‖Hy − θᵢy‖ = βₘ₋₁|sᵢ[m−1]|, the residual that decides convergence. Round-off destroys the
orthogonality of V in the plain three-term recurrence (ghost copies of converged eigenvalues), so every new
vector is orthogonalized again against all of V, twice ("twice is enough", classical Gram–Schmidt). One step
costs one H·v product; the loop runs inside XLA with no Python per product, checks convergence every
``check_every`` steps, and stops early once the wanted Ritz pairs' residuals fall below ``tol``·‖T‖.

Memory: the basis, (m+1)·P numbers.

Example:
    >>> A = jnp.diag(jnp.arange(1.0, 101.0))
    >>> res = lanczos(lambda v: A @ v, jax.random.normal(jax.random.key(0), (100,)), 30,
    ...               tol=1e-8, k=3, which="top")
    >>> [round(float(v)) for v in ritz_values(res, 3, "top")[0]]
    [100, 99, 98]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LanczosResult", "lanczos", "quadrature", "ritz_values", "ritz_vectors", "tridiagonal"]

_WHICH = ("top", "bottom", "both")


class LanczosResult(NamedTuple):
    """The output of :func:`lanczos`.

    Attributes:
        basis: (≥ m+1, P) rows v₀, v₁, …; rows past ``num_steps`` are zero (or the next, unused vector).
        alpha: (m,) the diagonal αⱼ of T (entries from ``num_steps`` on are zero).
        beta: (m,) βⱼ = T[j, j+1]; zero where a breakdown (an invariant subspace) restarted the recurrence.
        num_steps: () int, the steps taken, which is the number of H·v products used.
    """

    basis: jax.Array
    alpha: jax.Array
    beta: jax.Array
    num_steps: jax.Array


_BLOCK = 8


def _orthogonalize(w: jax.Array, basis: jax.Array, rows: jax.Array | None = None) -> jax.Array:
    """w minus its projection on the basis rows (the first ``rows`` of them), block Gram–Schmidt, twice.

    One pass leaves O(eps·κ) overlap, the second removes it ("twice is enough"). Only the blocks holding the
    first ``rows`` rows are touched, so step j costs O(j·P) instead of O(m·P).
    """
    nblocks = basis.shape[0] // _BLOCK
    count = nblocks if rows is None else (rows + _BLOCK - 1) // _BLOCK

    def one_pass(w: jax.Array) -> jax.Array:
        def body(i: jax.Array, w: jax.Array) -> jax.Array:
            blk = jax.lax.dynamic_slice_in_dim(basis, i * _BLOCK, _BLOCK)
            return w - blk.T @ (blk @ w)

        return jax.lax.fori_loop(0, count, body, w)

    return one_pass(one_pass(w))


def tridiagonal(result: LanczosResult, pad: jax.Array | float = 0.0) -> jax.Array:
    """T as an (m, m) matrix; rows/columns from ``num_steps`` on hold ``pad`` on the diagonal, decoupled."""
    m = result.alpha.shape[0]
    idx = jnp.arange(m)
    live = idx < result.num_steps
    diag = jnp.where(live, result.alpha, pad)
    off = jnp.where(idx[:-1] < result.num_steps - 1, result.beta[:-1], 0.0)
    return jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1)


def _gershgorin(result: LanczosResult) -> tuple[jax.Array, jax.Array]:
    m = result.alpha.shape[0]
    idx = jnp.arange(m)
    live = idx < result.num_steps
    b = jnp.abs(jnp.where(idx < result.num_steps - 1, result.beta, 0.0))
    b_prev = jnp.concatenate([jnp.zeros((1,), b.dtype), b[:-1]])
    lo = jnp.min(jnp.where(live, result.alpha - b - b_prev, jnp.inf))
    hi = jnp.max(jnp.where(live, result.alpha + b + b_prev, -jnp.inf))
    return lo, hi


def _eigh_padded(result: LanczosResult, which: str) -> tuple[jax.Array, jax.Array, jax.Array]:
    """eigh of T with the unused block moved below (``top``) or above (``bottom``) every Ritz value.

    Returns the ascending eigenvalues, eigenvectors and the index of the first real (non-pad) one for ``top``
    or of the last real one for ``bottom``.
    """
    lo, hi = _gershgorin(result)
    width = jnp.abs(hi - lo) + 1.0
    pad = lo - width if which == "top" else hi + width
    vals, vecs = jnp.linalg.eigh(tridiagonal(result, pad))
    m = result.alpha.shape[0]
    edge = m - result.num_steps if which == "top" else result.num_steps - 1
    return vals, vecs, edge


def ritz_values(result: LanczosResult, k: int, which: str = "top") -> tuple[jax.Array, jax.Array, jax.Array]:
    """The k wanted Ritz pairs of T: values, coefficient vectors (m, k), residual norms ‖Hy − θy‖.

    ``which="top"`` gives the k largest in descending order, ``"bottom"`` the k smallest ascending. Needs
    ``num_steps ≥ k``; traceable.
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"which must be 'top' or 'bottom', got {which!r}")
    vals, vecs, _ = _eigh_padded(result, which)
    if which == "top":
        vals, vecs = vals[::-1][:k], vecs[:, ::-1][:, :k]
    else:
        vals, vecs = vals[:k], vecs[:, :k]
    last = jnp.maximum(result.num_steps - 1, 0)
    residuals = jnp.abs(result.beta[last] * vecs[last])
    return vals, vecs, residuals


def ritz_vectors(result: LanczosResult, coefficients: jax.Array) -> jax.Array:
    """Ritz vectors y = V s as rows, (k, P), from the (m, k) coefficients of :func:`ritz_values`."""
    m = coefficients.shape[0]
    return coefficients.T @ result.basis[:m]


def quadrature(result: LanczosResult) -> tuple[jax.Array, jax.Array]:
    """Gauss quadrature of the spectral measure seen from v₀: nodes θᵢ and weights τᵢ = (e₁ᵀsᵢ)².

    Σᵢ τᵢ p(θᵢ) = v₀ᵀp(H)v₀ for every polynomial p of degree < 2·num_steps. Unused rows get weight 0.
    """
    vals, vecs, _ = _eigh_padded(result, "bottom")
    weights = vecs[0] ** 2
    live = jnp.arange(vals.shape[0]) < result.num_steps
    return jnp.where(live, vals, vals[jnp.maximum(result.num_steps - 1, 0)]), jnp.where(live, weights, 0.0)


class _State(NamedTuple):
    j: jax.Array
    basis: jax.Array
    alpha: jax.Array
    beta: jax.Array
    scale: jax.Array
    stopped: jax.Array


def lanczos(
    matvec: Callable[[jax.Array], jax.Array],
    v0: jax.Array,
    max_steps: int,
    *,
    key: jax.Array | None = None,
    tol: float | None = None,
    k: int = 1,
    which: str = "top",
    check_every: int = 5,
    on_breakdown: str = "restart",
    breakdown_tol: float | None = None,
) -> LanczosResult:
    """Run up to ``max_steps`` Lanczos steps on the symmetric map ``matvec`` from ``v0``; traceable.

    Args:
        matvec: v ↦ H·v on flat vectors of v0's shape (P,) and dtype.
        v0: the start vector (normalized here).
        max_steps: m, the most steps (H·v products); capped at P, where T's eigenvalues are all of H's.
        key: PRNG key for restart vectors after a breakdown (βⱼ ≈ 0: an invariant subspace); default key(0).
        tol: stop once the k wanted Ritz pairs (``which``: "top", "bottom" or "both") have residual
            ‖Hy − θy‖ ≤ tol·max|θ|; None runs all ``max_steps``.
        k: how many Ritz pairs the stopping test watches.
        check_every: steps between convergence tests (each an eigh of the m×m T).
        on_breakdown: "restart" continues with a random vector orthogonal to V (finds repeated eigenvalues
            and, at m = P, the whole spectrum); "stop" ends the recurrence (T is then exact for the Krylov
            space, as stochastic Lanczos quadrature wants).
        breakdown_tol: βⱼ ≤ breakdown_tol·max(|α|, β) counts as a breakdown (default 10·eps of the dtype).

    Returns:
        A :class:`LanczosResult`; ``num_steps`` is the number of H·v products used.
    """
    if v0.ndim != 1:
        raise ValueError(f"v0 must be a flat vector (P,), got shape {v0.shape}")
    if which not in _WHICH:
        raise ValueError(f"which must be one of {_WHICH}, got {which!r}")
    if on_breakdown not in ("restart", "stop"):
        raise ValueError(f"on_breakdown must be 'restart' or 'stop', got {on_breakdown!r}")
    if not isinstance(max_steps, int | np.integer) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if check_every < 1:
        raise ValueError(f"check_every must be a positive int, got {check_every!r}")
    p = v0.shape[0]
    m = int(min(max_steps, p))
    k = int(min(k, m))
    dtype = v0.dtype
    key = jax.random.key(0) if key is None else key
    btol = 10 * float(jnp.finfo(dtype).eps) if breakdown_tol is None else float(breakdown_tol)

    v0 = v0 / jnp.linalg.norm(v0)
    state = _State(
        j=jnp.zeros((), jnp.int32),
        # rows rounded up to whole blocks for the blocked reorthogonalization; the extra rows stay zero
        basis=jnp.zeros((-(-(m + 1) // _BLOCK) * _BLOCK, p), dtype).at[0].set(v0),
        alpha=jnp.zeros((m,), dtype),
        beta=jnp.zeros((m,), dtype),
        scale=jnp.zeros((), dtype),
        stopped=jnp.zeros((), bool),
    )

    def step(s: _State) -> _State:
        j = s.j
        v = s.basis[j]
        w = matvec(v)
        a = jnp.vdot(v, w)
        w = w - a * v - jnp.where(j > 0, s.beta[jnp.maximum(j - 1, 0)], 0.0) * s.basis[jnp.maximum(j - 1, 0)]
        w = _orthogonalize(w, s.basis, j + 1)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(s.scale, jnp.maximum(jnp.abs(a), b))
        broke = b <= btol * scale
        last = j + 1 >= p

        def regular(_: None) -> jax.Array:
            return w / jnp.where(broke, 1.0, b).astype(dtype)

        def restart(_: None) -> jax.Array:
            r = _orthogonalize(jax.random.normal(jax.random.fold_in(key, j), (p,), dtype), s.basis, j + 1)
            nr = jnp.linalg.norm(r)
            return jnp.where(nr > 0, r / jnp.where(nr > 0, nr, 1.0), 0.0)

        if on_breakdown == "restart":
            v_next = jax.lax.cond(broke & ~last, restart, regular, None)
            stopped = s.stopped
        else:
            v_next = jnp.where(broke, 0.0, regular(None))
            stopped = s.stopped | broke
        v_next = jnp.where(last, 0.0, v_next)
        return _State(
            j=j + 1,
            basis=s.basis.at[j + 1].set(v_next),
            alpha=s.alpha.at[j].set(a),
            beta=s.beta.at[j].set(jnp.where(broke, 0.0, b)),
            scale=scale,
            stopped=stopped,
        )

    def guarded(_: int, s: _State) -> _State:
        return jax.lax.cond((s.j < m) & ~s.stopped, step, lambda t: t, s)

    def converged(s: _State) -> jax.Array:
        res = LanczosResult(s.basis, s.alpha, s.beta, s.j)
        ok = s.j >= m
        if tol is None:
            return ok
        parts = ("top", "bottom") if which == "both" else (which,)
        good = s.j >= k
        for part in parts:
            vals, vecs, edge = _eigh_padded(res, part)
            lo_real = vals[edge] if part == "top" else vals[0]
            hi_real = vals[-1] if part == "top" else vals[edge]
            spec = jnp.maximum(jnp.abs(lo_real), jnp.abs(hi_real))
            _, _, r = ritz_values(res, k, part)
            good = good & jnp.all(r <= tol * spec)
        return ok | good

    def cond(c: tuple[_State, jax.Array]) -> jax.Array:
        s, done = c
        return ~done & ~s.stopped & (s.j < m)

    def body(c: tuple[_State, jax.Array]) -> tuple[_State, jax.Array]:
        s, _ = c
        s = jax.lax.fori_loop(0, check_every, guarded, s)
        return s, converged(s)

    state, _ = jax.lax.while_loop(cond, body, (state, jnp.zeros((), bool)))
    return LanczosResult(state.basis, state.alpha, state.beta, state.j)
