"""The Lanczos iteration of :mod:`jaxml.curvature`: one driver for extreme eigenpairs and for quadrature.

From a unit vector v₀, Lanczos builds an orthonormal basis V = [v₀ … v_{j−1}] of the Krylov space
span{v₀, Hv₀, …} in which H is represented by the symmetric T = VᵀHV. With full reorthogonalization

    H V = V T + β v_j e_{j−1}ᵀ

holds to rounding, so a Ritz pair (θ, y = Vs) of T has residual ‖Hy − θy‖ = ``|β s[j−1]|``, and ``|θ − λ|`` ≤ that
residual for some eigenvalue λ of H.

**Extreme eigenpairs** (:func:`eigsh`). Three things keep a single start vector honest when the spectrum is
*degenerate* (repeated eigenvalues: the normal case at a network's critical point):


* *Breakdown.* A Krylov space holds one direction of each eigenspace, so it closes (β ≤ 10·eps·max|T|: an
  invariant subspace) after as many steps as H has distinct eigenvalues seen from v₀. The iteration then goes on
  from a random unit vector orthogonal to V, which lets later steps find further copies of repeated eigenvalues.
* *Thick restart* (Wu & Simon 2000). When the basis is full, it keeps the Ritz vectors nearest the wanted end
  and goes on from the residual vector v_j: T becomes diag(θ_keep), and the next step's Gram–Schmidt
  coefficients vᵢᵀHv_j give back its border β s[j−1]; the relation above still holds, and the basis stays at
  ``basis_size`` + 1 rows of P numbers (a restart computes the new rows as one product, so a second basis is
  held for a moment).
* *Locking and a probe.* Residuals say each θ is near *an* eigenvalue, not that no eigenvalue was missed: a
  Krylov space never sees a second copy of λ before it closes, and in floating point (float32 networks) it
  seldom closes exactly. So the first time every wanted pair converges, those pairs are locked (their values,
  vectors and residuals frozen; their couplings vᵢᵀHv to later rows enter later residuals exactly, which are
  then √((β s[−1])² + ‖T[locked, active] s‖²)) and the iteration goes on from a random vector orthogonal to
  them. The answer stands when the probe's extreme Ritz value θ* plus its residual r* does not reach past the
  k-th wanted value (θ* + r* ≤ λ_k + tol·max|θ| for the top; mirrored for the bottom): there is an
  eigenvalue within r* of θ*, and while the probe has not yet found an eigenvalue beyond the wanted ones its
  extreme Ritz vector is a mixture with a large r*. A pair the probe finds beyond them is locked in turn and
  probed again. This is a randomized check, reliable when a missed eigenvalue is separated from the rest or
  well represented in the probe's start, not a guarantee. A run that can span ℝᴾ (in rows and in products)
  skips the probe and runs to P rows: T's eigenvalues are then H's.

Every step is one jitted program: the product Hvⱼ and two passes of classical Gram–Schmidt against every row
in use ("twice is enough"), on the device of the start vector. The loop, the small eigenproblems of T and the
decisions run on the host in NumPy, so another ``tol`` or ``which`` compiles nothing, nor does another ``k``
of the same basis size (the final vectors' product is padded to 4 columns).

**Quadrature** (:func:`quadrature`): ``num_steps`` plain steps from v₀ (stopping at a breakdown, where the
Krylov space is exact); the eigenpairs (θᵢ, sᵢ) of T give nodes θᵢ and weights τᵢ = (e₁ᵀsᵢ)² with
Σᵢ τᵢ p(θᵢ) = v₀ᵀp(H)v₀ for every polynomial p of degree < 2·steps.

Example:
    λ = 3 three times above a bulk of 60; a basis of 20 rows, so the probe runs:

    >>> import jax, numpy as np
    >>> from jaxml.curvature._lanczos import eigsh
    >>> d = np.concatenate([[3.0, 3.0, 3.0], np.linspace(0.0, 1.0, 60)]).astype(np.float32)
    >>> op = jax.tree_util.Partial(lambda d, v: d * v, jax.numpy.asarray(d))
    >>> res = eigsh(op, np.ones(63, np.float32), 3, which="top", tol=1e-5, max_hvps=200, basis_size=20,
    ...             rng=np.random.default_rng(0))
    >>> res.values.round(4).tolist(), res.converged
    ([3.0, 3.0, 3.0], True)
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml.curvature._core import apply

__all__ = ["KrylovResult", "eigsh", "quadrature"]

_WHICH = ("top", "bottom", "both")


class KrylovResult(NamedTuple):
    """Wanted Ritz values (ordered), their vectors (rows, k × P), residual bounds, products, convergence.

    Attributes:
        values: the wanted Ritz values, in output order (top: descending; bottom and both: ascending).
        vectors: (k, P) their unit Ritz vectors, one per row (2k rows for ``"both"``).
        residuals: ‖Hy − θy‖ of each pair.
        num_hvps: the H·v products used.
        converged: whether every residual met the tolerance and the probe (or a basis spanning ℝᴾ) confirmed
            the values.
    """

    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    num_hvps: int
    converged: bool


# ------------------------------------------------------------------------------------------------------------
# The compiled kernels: the step, a new direction, and combinations of basis rows


@functools.partial(jax.jit, donate_argnums=(1,))
def _step(
    op: Any, basis: jax.Array, j: jax.Array, dst: jax.Array, r: jax.Array, fresh: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Row ``dst`` of the basis from w = Hvⱼ (or w = r where ``fresh``), orthogonalized against the rows before
    ``dst``; returns the basis, the coefficients Vᵀw (column j of T for a step) and β = ‖w′‖.

    Two classical Gram–Schmidt passes against every row in use: one leaves O(ε‖H‖κ) of the rows in w, the second
    removes it. A step writes row j+1; a new direction (after a breakdown, or a probe) writes row j. One program
    for both, so that a first call compiles one. The host decides whether β is a breakdown.
    """
    w = jax.lax.cond(fresh, lambda: r.astype(basis.dtype), lambda: apply(op, basis[j]).astype(basis.dtype))
    live = (jnp.arange(basis.shape[0]) < dst).astype(basis.dtype)
    c1 = live * (basis @ w)
    w = w - c1 @ basis
    c2 = live * (basis @ w)
    w = w - c2 @ basis
    beta = jnp.linalg.norm(w)
    basis = basis.at[dst].set(w / jnp.where(beta > 0, beta, 1))
    return basis, c1 + c2, beta


@jax.jit
def _combine(basis: jax.Array, s: jax.Array) -> jax.Array:
    """Sᵀ V: rows that combine the basis rows — the Ritz vectors y = Vs, or a whole new basis at a restart."""
    return s.T.astype(basis.dtype) @ basis


def _padded(s: np.ndarray, rows: int) -> np.ndarray:
    """S as (rows, c′) with c′ a multiple of 4 (zero columns, at most ``rows``), so that another count compiles
    nothing new."""
    cols = min(-(-max(s.shape[1], 1) // 4) * 4, rows)
    out = np.zeros((rows, cols))
    out[: s.shape[0], : s.shape[1]] = s
    return out


# ------------------------------------------------------------------------------------------------------------
# The host side: T, the decisions


def _wanted(values: np.ndarray, count: int, which: str) -> np.ndarray:
    """Indices (into ascending ``values``) of the ``count`` wanted Ritz values per wanted end, in output order
    (top: descending; bottom and both: ascending)."""
    n = values.size
    if which == "top":
        return np.arange(n - 1, n - 1 - min(count, n), -1)
    if which == "bottom":
        return np.arange(min(count, n))
    if 2 * count >= n:
        return np.arange(n)
    return np.concatenate([np.arange(count), np.arange(n - count, n)])


class _Lanczos:
    """The basis (on the device), T (host, over physical rows) and the locked pairs.

    Rows [0, ``locked``) hold locked eigenvectors (their values and residuals frozen when they were locked), rows
    [``locked``, j) the active Krylov space (expanded), row j the next to expand. T holds every Gram–Schmidt
    coefficient vᵢᵀHvₗ computed, filled symmetrically; its block over the active rows is what Ritz pairs come
    from, and its block between locked and active rows enters their residuals exactly.
    """

    def __init__(self, op: Any, v0: Any, rows: int) -> None:
        self.op = op
        # the basis lives on the device of v₀ (the caller puts it beside θ); a NumPy v₀: the default device
        device = next(iter(v0.devices())) if isinstance(v0, jax.Array) and len(v0.devices()) == 1 else None
        v0 = np.asarray(v0)
        basis = np.zeros((rows, v0.shape[0]), v0.dtype)
        basis[0] = v0 / np.linalg.norm(v0)
        self.basis = jax.device_put(basis, device)
        self.zero = jax.device_put(np.zeros(v0.shape[0], v0.dtype), device)  # r of a step, not a new direction
        self.rows = rows
        self.t = np.zeros((rows, rows))
        self.j = 0
        self.locked = 0
        self.locked_values = np.zeros(0)
        self.locked_residuals = np.zeros(0)
        self.hvps = 0
        self.scale = 0.0
        self.eps = float(jnp.finfo(self.basis.dtype).eps)

    def step(self, breakdown_tol: float | None = None) -> bool:
        """Expand row j; returns whether the Krylov space broke down (β ≤ ``breakdown_tol``·‖T‖, default 10·eps:
        row j+1 is then not coupled)."""
        j = self.j
        self.basis, coef, beta = _step(self.op, self.basis, np.int32(j), np.int32(j + 1), self.zero, False)
        coef = np.asarray(coef, np.float64)[: j + 1]
        beta = float(beta)
        self.hvps += 1
        self.t[: j + 1, j] = coef
        self.t[j, : j + 1] = coef
        self.scale = max(self.scale, float(np.max(np.abs(coef[self.locked :]))), beta)
        broke = beta <= (10 * self.eps if breakdown_tol is None else breakdown_tol) * self.scale
        self.t[j + 1, j] = self.t[j, j + 1] = 0.0 if broke else beta
        self.j = j + 1
        return broke

    def fresh(self, rng: np.random.Generator) -> None:
        """Row j ← a random unit vector orthogonal to rows 0…j−1 (not coupled to them)."""
        r = rng.standard_normal(self.basis.shape[1]).astype(self.basis.dtype)
        self.basis, _, _ = _step(self.op, self.basis, np.int32(self.j), np.int32(self.j), r, True)
        self.t[self.j, :] = self.t[:, self.j] = 0.0

    def ritz(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The active Ritz values (ascending), their coefficients S over the active rows and their residuals
        ‖Hy − θy‖ = √((β s[−1])² + ‖T[locked, active] s‖²)."""
        a, j = self.locked, self.j
        values, s = np.linalg.eigh(self.t[a:j, a:j])
        residuals = np.hypot(self.t[j, j - 1] * s[-1], np.linalg.norm(self.t[:a, a:j] @ s, axis=0))
        return values, s, residuals

    def restart(self, values: np.ndarray, s: np.ndarray, keep: np.ndarray) -> None:
        """Thick restart: the active rows become the Ritz vectors ``keep`` (T: diag(θ), their couplings to the
        locked rows rotated along), then the residual vector; later rows zero, locked rows as they were. One
        product V ← MᵀV with M (rows × rows) built here."""
        a, c, j = self.locked, keep.size, self.j
        m = np.zeros((self.rows, self.rows))
        m[np.arange(a), np.arange(a)] = 1.0
        m[a:j, a : a + c] = s[:, keep]
        m[j, a + c] = 1.0
        self.basis = _combine(self.basis, m)
        couplings = self.t[:a, a:j] @ s[:, keep]
        self.t[a:, :] = 0.0
        self.t[:, a:] = 0.0
        self.t[a + np.arange(c), a + np.arange(c)] = values[keep]
        self.t[:a, a : a + c] = couplings
        self.t[a : a + c, :a] = couplings.T
        self.j = a + c

    def lock(self, values: np.ndarray, s: np.ndarray, residuals: np.ndarray, keep: np.ndarray) -> None:
        """Freeze the Ritz pairs ``keep`` (their couplings to the residual vector, their residuals, are dropped);
        the active space is left empty for :meth:`fresh`."""
        self.restart(values, s, keep)
        self.locked = self.j
        self.locked_values = np.concatenate([self.locked_values, values[keep]])
        self.locked_residuals = np.concatenate([self.locked_residuals, residuals[keep]])

    def vectors(self, coef: np.ndarray) -> np.ndarray:
        """Rows Cᵀ V for C (rows × c), on the host."""
        return np.asarray(_combine(self.basis, _padded(coef, self.rows)))[: coef.shape[1]]


def eigsh(
    op: Any,
    v0: Any,
    k: int,
    *,
    which: str,
    tol: float,
    max_hvps: int,
    basis_size: int,
    rng: np.random.Generator,
    check_every: int = 5,
) -> KrylovResult:
    """The k wanted eigenpairs of the symmetric operator ``op`` (flat v ↦ H·v, a pytree) by Lanczos.

    ``which``: "top" (the k largest, descending), "bottom" (the k smallest, ascending) or "both" (the k smallest
    and the k largest, ascending). The answer is ``converged`` when every wanted residual is ≤ ``tol``·max|θ|
    and the probe found nothing beyond the wanted values (see the module's docstring) or the basis spans ℝᴾ;
    else the run stopped at ``max_hvps`` products or ran out of basis rows to probe with. ``basis_size`` + 1 rows of P
    numbers are held; ``rng`` draws the directions after a breakdown and the probes; the wanted pairs are tested
    every ``check_every`` steps.

    Args:
        op: the operator v ↦ H·v on flat (P,) vectors, a pytree (e.g. ``jax.tree_util.Partial``).
        v0: the (P,) start vector (nonzero; normalized here), on the device where the basis should live.
        k: the wanted pairs per end.
        which: ``"top"``, ``"bottom"`` or ``"both"``.
        tol: the relative residual tolerance (residual ≤ ``tol``·``max|θ|``).
        max_hvps: the most H·v products.
        basis_size: the rows kept besides the residual row (capped at P).
        rng: the NumPy generator for new directions and probes.
        check_every: steps between tests of the wanted pairs.

    Returns:
        A :class:`KrylovResult` with k pairs (2k for ``"both"``).

    Raises:
        ValueError: if ``which`` is not one of ``"top"``, ``"bottom"``, ``"both"``, or k (per wanted end)
            exceeds P.
    """
    if which not in _WHICH:
        raise ValueError(f"which must be one of {_WHICH}, got {which!r}")
    p = int(np.shape(v0)[0])
    ends = 2 if which == "both" else 1
    if k * ends > p:
        raise ValueError(f"k must be at most P={p} per wanted end ({which!r}), got k={k}")
    m = int(min(basis_size, p))
    lz = _Lanczos(op, v0, m + 1)
    probed = False  # whether the active space is a probe: the wanted pairs found so far locked, a random start after
    spans = m >= p and max_hvps >= p  # the run can reach all of ℝᴾ: no probe needed, the answer will be exact
    while True:
        broke = lz.step()
        j = lz.j
        closed = j >= p  # locked and active rows span ℝᴾ: the Ritz values are H's eigenvalues
        if broke and j < m and not closed:
            lz.fresh(rng)  # an invariant subspace: go on from a new direction
        if not (broke or closed or j == m or lz.hvps >= max_hvps or (j - lz.locked) % check_every == 0):
            continue
        values, s, residuals = lz.ritz()
        n_locked = lz.locked_values.size
        cand = np.concatenate([lz.locked_values, values])  # locked pairs, then the active Ritz pairs
        cand_res = np.concatenate([lz.locked_residuals, residuals])
        order = np.argsort(cand, kind="stable")
        scale = max(float(np.max(np.abs(cand))), np.finfo(np.float64).tiny)
        wanted = order[_wanted(cand[order], k, which)]
        ok = wanted.size == ends * k and bool(np.all(cand_res[wanted] <= tol * scale))
        active = np.sort(wanted[wanted >= n_locked]) - n_locked
        # Ties count as found: a probe that finds another copy of the k-th value changes no wanted value.
        cleared = ok and probed and _cleared(values, residuals, cand[wanted], k, which, tol * scale)
        if cleared or closed or lz.hvps >= max_hvps or (ok and m - lz.locked - active.size < 4 and not spans):
            coef = np.zeros((m + 1, wanted.size))
            for col, i in enumerate(wanted):
                if i < n_locked:
                    coef[i, col] = 1.0  # locked pair i sits in row i
                else:
                    coef[lz.locked : j, col] = s[:, i - n_locked]
            converged = bool(ok and (cleared or closed))
            return KrylovResult(cand[wanted], lz.vectors(coef), cand_res[wanted], lz.hvps, converged)
        if ok and not spans and (active.size or not probed):
            # Every wanted pair converged: lock the active ones and probe the rest of the space from a random
            # direction. (A run that can span ℝᴾ goes on until it does instead: at most P products, and the answer
            # is then exact.)
            lz.lock(values, s, residuals, active)
            lz.fresh(rng)
            probed = True
        elif j == m:
            # Thick restart: keep the active Ritz pairs nearest the wanted end(s), half of the active space.
            cap = m - lz.locked
            per_end = max(min(ends * k + (cap - ends * k) // 2, cap - 1) // ends, 1)
            lz.restart(values, s, np.sort(_wanted(values, per_end, which)))
            if broke:
                lz.fresh(rng)


def _cleared(values: np.ndarray, residuals: np.ndarray, found: np.ndarray, k: int, which: str, atol: float) -> bool:
    """Whether the probe's extreme Ritz pair (θ*, r*) at each wanted end stays inside the wanted values ``found``
    (in output order): θ* + r* ≤ the k-th largest (top), θ* − r* ≥ the k-th smallest (bottom), up to ``atol``.

    There is an eigenvalue within r* of θ*. While the probe's Krylov space has not yet found an eigenvalue beyond
    the wanted ones, its extreme Ritz vector mixes directions across the spectrum and r* is large, which keeps
    this False until that eigenvalue is found (Lanczos finds the extremes of a random start's spectrum first;
    this is the probabilistic part of the certificate)."""
    top = found[k:] if which == "both" else found
    bottom = found[:k] if which == "both" else found
    hi = values[-1] + residuals[-1] <= np.min(top) + atol
    lo = values[0] - residuals[0] >= np.max(bottom) - atol
    return {"top": hi, "bottom": lo, "both": hi and lo}[which]


def quadrature(
    op: Any, v0: Any, num_steps: int, *, breakdown_tol: float | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Gauss quadrature of the spectral measure seen from v₀/‖v₀‖: nodes θᵢ, weights τᵢ (summing to 1) and the
    steps taken (H·v products; fewer than ``num_steps`` when the Krylov space closes, where it is exact).

    Args:
        op: the operator v ↦ H·v on flat (P,) vectors, a pytree.
        v0: the (P,) nonzero start vector.
        num_steps: the most Lanczos steps (capped at P).
        breakdown_tol: β ≤ ``breakdown_tol``·‖T‖ ends the run (default 10·eps of the basis dtype).

    Returns:
        A tuple ``(nodes, weights, steps)``: the (steps,) nodes θᵢ ascending, their (steps,) weights τᵢ and the
        number of steps taken.
    """
    p = int(np.shape(v0)[0])
    lz = _Lanczos(op, v0, min(num_steps, p) + 1)
    while lz.j < min(num_steps, p):
        if lz.step(breakdown_tol):
            break
    values, s = np.linalg.eigh(lz.t[: lz.j, : lz.j])
    return values, s[0] ** 2, lz.hvps
