"""Thick-restart Lanczos (Wu & Simon 2000): the extreme eigenpairs of H in bounded memory, driven from the host.

The iteration builds an orthonormal basis V = [v₀ … v_{j}] in which H is represented by the symmetric
T = VᵀHV; with full reorthogonalization the relation

    H V = V T + β v_{j+1} eⱼᵀ

holds to rounding, so each Ritz pair (θᵢ, yᵢ = Vsᵢ) of T has residual ‖Hyᵢ − θᵢyᵢ‖ = |β sᵢ[j]|. When the basis
is full (m vectors) and the wanted pairs have not converged, the iteration *restarts thick*: it keeps the l
Ritz vectors nearest the wanted end, V ← V S_keep, T ← diag(θ_keep) bordered by the couplings β s_keep[m−1],
and continues from the residual vector. Memory is the m+1 basis rows whatever the number of products; the
rotation V S_keep runs over column blocks, in place.

Each step is an H·v product plus classical Gram–Schmidt against the rows in use, with a second pass only
when the first one cancelled (the DGKS criterion ‖w′‖ < ‖w‖/√2); the host kernels first subtract the last two
rows, where almost all of Hvⱼ lies, so that their full pass seldom needs repeating. The loop, the convergence
test and the small eigenproblems of T run on the host in NumPy, so a new ``k``, ``tol`` or ``which`` never
recompiles anything.
Where the basis lives depends on the device of θ (two sets of kernels, one algorithm):

* on a CPU the host *is* the device: the basis is a NumPy array, Gram–Schmidt and restarts are BLAS calls in
  place, and the only compiled program is the H·v product itself (a first call pays for compiling that
  product and nothing else). Between two convergence checks each step starts the next product right after
  its local step and runs the full Gram–Schmidt pass while that product computes; the Lanczos relation turns
  the product of that not yet fully orthogonalized vector into the next H·vⱼ₊₁ (:func:`_host_step`);
* on an accelerator the basis stays in device memory and the step (product plus Gram–Schmidt) and the restart
  are each one jitted program, so that only T (a few hundred numbers) crosses to the host.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml.curvature import _core
from jaxml.curvature._core import apply

_SQRT_HALF = 0.7071067811865476


class KrylovResult(NamedTuple):
    """Wanted Ritz values (ordered), their vectors (rows, k × P), residual norms, H·v products, convergence."""

    values: np.ndarray
    vectors: jax.Array
    residuals: np.ndarray
    num_hvps: int
    converged: bool
    restarts: int


def _gram_schmidt(basis: jax.Array, w: jax.Array, count: jax.Array) -> tuple[jax.Array, jax.Array]:
    """w minus its projection on the first ``count`` basis rows; returns (w′, coefficients).

    Unused rows are zero, but they are masked anyway (a restart leaves the old rows' values until they are
    overwritten). Two matrix-vector products over the whole basis: no loop, so the step compiles quickly, and
    the basis of at most 2k + 20 rows is cheap to read next to an H·v product.
    """
    live = jnp.arange(basis.shape[0]) < count
    coef = jnp.where(live, basis @ w, 0.0).astype(w.dtype)
    return w - coef @ basis, coef


def _orthogonalize(basis: jax.Array, w: jax.Array, count: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Classical Gram–Schmidt, repeated once when the first pass cancelled more than half of ‖w‖ (the DGKS
    criterion: "twice is enough"). A loop of one pass, not a conditional copy of it: the step stays small."""

    def again(s: tuple) -> jax.Array:
        _, _, before, after, passes = s
        return (passes < 1) | ((passes < 2) & (after < _SQRT_HALF * before))

    def one_pass(s: tuple) -> tuple:
        w, coef, _, after, passes = s
        w2, c = _gram_schmidt(basis, w, count)
        return w2, coef + c, after, jnp.linalg.norm(w2), passes + 1

    norm = jnp.linalg.norm(w)
    w, coef, *_ = jax.lax.while_loop(again, one_pass, (w, jnp.zeros(basis.shape[0], w.dtype), norm, norm, 0))
    return w, coef


@functools.partial(jax.jit, donate_argnums=(1, 2))
def _step(op: Any, basis: jax.Array, t: jax.Array, j: jax.Array, btol: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One Lanczos step from row j: column j of T and row j+1 of the basis.

    On a breakdown (β ≤ btol·scale: the basis spans an invariant subspace) row j+1 is left zero and T[j+1, j]
    is exactly 0; the host sees it at its next check and restarts from :func:`_fresh`.
    """
    w = apply(op, basis[j]).astype(basis.dtype)
    w, coef = _orthogonalize(basis, w, j + 1)
    beta = jnp.linalg.norm(w)
    broke = (beta <= btol * jnp.maximum(jnp.max(jnp.abs(coef)), beta)) | (j + 1 >= basis.shape[1])
    beta = jnp.where(broke, 0.0, beta)
    v_next = jnp.where(broke, 0.0, w / jnp.where(broke, 1.0, beta))
    live = jnp.arange(t.shape[0]) <= j
    t = t.at[:, j].set(jnp.where(live, coef, t[:, j]).astype(t.dtype))
    t = t.at[j + 1, j].set(beta.astype(t.dtype))
    return basis.at[j + 1].set(v_next), t


@functools.partial(jax.jit, donate_argnums=(0,))
def _fresh(basis: jax.Array, row: jax.Array, seed: jax.Array) -> jax.Array:
    """Row ``row`` ← a unit vector orthogonal to the rows before it (after a breakdown). Any direction outside
    the span will do: a hashed sequence, so no random-number program is compiled."""
    i = jnp.arange(basis.shape[1], dtype=basis.dtype)
    r = jnp.sin(i * 12.9898 + (row + 1).astype(basis.dtype) * 78.233 + seed) * 43758.5453
    r = r - jnp.floor(r) - 0.5
    r, _ = _gram_schmidt(basis, r, row)
    r, _ = _gram_schmidt(basis, r, row)
    return basis.at[row].set(r / jnp.linalg.norm(r))


@functools.partial(jax.jit, donate_argnums=(0,), static_argnames=("keep",))
def _rotate(basis: jax.Array, s: jax.Array, m: int | jax.Array, *, keep: int) -> jax.Array:
    """Rows [0, keep) ← Sᵀ V[:m], row keep ← V[m] (the residual vector), later rows zero; column block by block
    so that only keep × block numbers are ever held besides the basis."""
    rows, p = basis.shape
    width = min(p, 4096)
    nblocks = -(-p // width)
    s = s.astype(basis.dtype)  # (rows, keep), zero past m

    def body(i: jax.Array, v: jax.Array) -> jax.Array:
        start = jnp.minimum(i * width, p - width)
        cols = jax.lax.dynamic_slice_in_dim(v, start, width, axis=1)
        new = s.T @ cols  # (keep, width)
        resid = jax.lax.dynamic_index_in_dim(cols, m, axis=0, keepdims=True)
        block = jnp.concatenate([new, resid, jnp.zeros((rows - keep - 1, width), v.dtype)], axis=0)
        # A clamped last block overlaps columns already rotated: leave those as they are.
        fresh = (start + jnp.arange(width)) >= i * width
        return jax.lax.dynamic_update_slice_in_dim(v, jnp.where(fresh, block, cols), start, axis=1)

    return jax.lax.fori_loop(0, nblocks, body, basis)


@functools.partial(jax.jit, static_argnames=("rows",))
def _init(v0: jax.Array, *, rows: int) -> tuple[jax.Array, jax.Array]:
    """The basis with v₀/‖v₀‖ in row 0 and the (rows × rows) projected matrix, zero."""
    basis = jnp.zeros((rows, v0.shape[0]), v0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    return basis, jnp.zeros((rows, rows), v0.dtype)


@jax.jit
def _ritz_vectors(basis: jax.Array, s: jax.Array) -> jax.Array:
    return s.T.astype(basis.dtype) @ basis[: s.shape[0]]


# ------------------------------------------------------------------------------------------------------------
# The same kernels on the host (CPU): NumPy in place, only the product compiled

_product = _core.product


def _host_init(v0: Any, *, rows: int) -> tuple[np.ndarray, np.ndarray]:
    v0 = np.asarray(v0)
    basis = np.zeros((rows, v0.shape[0]), v0.dtype)
    basis[0] = v0 / np.linalg.norm(v0)
    return basis, np.zeros((rows, rows), v0.dtype)


def _host_local(live: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w minus its components on the last two rows of ``live``, where the three-term recurrence puts nearly all
    of w = Hvⱼ; returns (w₁, their coefficients). Reading two rows for the big cancellation spares the full pass
    after it a second sweep in most steps: it then removes only rounding-sized components."""
    near = live[-2:]
    coef_near = near @ w
    return w - coef_near @ near, coef_near


def _host_full(live: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One classical Gram–Schmidt pass over all rows of ``live``, repeated when it cancelled more than half of
    ‖w‖ (DGKS: "twice is enough"); returns (w′, coefficients)."""
    before = np.linalg.norm(w)
    coef = live @ w
    w = w - coef @ live
    if np.linalg.norm(w) < _SQRT_HALF * before:
        again = live @ w
        w = w - again @ live
        coef = coef + again
    return w, coef


def _symmetric(block: np.ndarray) -> np.ndarray:
    """T from its upper triangle: column j holds the Gram–Schmidt coefficients of step j (vᵢᵀHvⱼ, i ≤ j), the
    part of T the host reads (after a restart only the upper part holds the kept vectors' couplings)."""
    upper = np.triu(block)
    return upper + np.triu(upper, 1).T


class _Ahead(NamedTuple):
    """H·vⱼ₊₁ on its way, as ``scale``·y − Vᵀ``shift``: y = ``product`` (in flight), ``shift`` over rows 0…j+1."""

    product: jax.Array
    scale: Any
    shift: np.ndarray


def _host_step(  # fmt: skip
    op: Any, basis: np.ndarray, t: np.ndarray, j: int, btol: Any, ahead: _Ahead | None = None, early: bool = False
) -> tuple[np.ndarray, np.ndarray, _Ahead | None, int]:
    """:func:`_step` in place on NumPy arrays; with ``early``, the next step's product starts before this
    step's full Gram–Schmidt pass, which then runs while the product computes.

    The product of u/‖u‖ is dispatched, where u is what the local step leaves of y (this step's product). The
    full pass then gives vⱼ₊₁ = (u − Vᵀc)/‖r‖ with r = u − Vᵀc, so that

        H vⱼ₊₁ = (‖u‖·H(u/‖u‖) − Σᵢ cᵢ H vᵢ)/‖r‖,    H vᵢ = V T[:, i] (+ βⱼvⱼ₊₁ for i = j),

    the last from the Lanczos relation, exact to rounding under full reorthogonalization. The next step never
    forms that vector: H vⱼ₊₁ = s·y′ − Vᵀσ has coefficients Vᵀ(H vⱼ₊₁) = s·Vᵀy′ − σ and residual s·(I − VVᵀ)y′,
    so Gram–Schmidt runs on y′ itself and only the small column of T is corrected. The relation's rounding
    (≈ ε‖H‖ a column) enters H vⱼ₊₁ weighted by ‖c‖₁/‖r‖, so the product is kept only where ‖c‖₁ ≤ ‖r‖/2:
    then that rounding cannot build up from step to step (the tests hold the products to the true ones within
    1e-11 in float64 and 2e-5 in float32, relative to their largest entry). Otherwise (c is not
    rounding-sized once the Krylov space nearly closes on a wide spectrum) or on a breakdown it is dropped and
    the next step computes its own. Returns (basis, T, the next product or None, products dispatched).
    """
    if ahead is None:
        # The row goes to the product as a NumPy array: jit's own transfer is one call where a device_put before
        # it is another, and right after a product that device_put took 0.4–0.5 ms (0.05 ms otherwise; measured).
        # Safe even if the transfer aliased the row: the result is waited for before anything writes to the basis.
        y = np.asarray(_product(op, basis[j])).astype(basis.dtype, copy=False)
        made = 1
    else:
        y = np.asarray(ahead.product).astype(basis.dtype, copy=False)
        made = 0
    live = basis[: j + 1]
    u, coef_near = _host_local(live, y)
    norm_u = np.linalg.norm(u)
    pending = None
    if early and norm_u > 0:
        pending = _product(op, u / norm_u)
        made += 1
    r, c = _host_full(live, u)
    coef = c.copy()
    coef[-coef_near.shape[0] :] += coef_near  # Vᵀy
    norm_r = np.linalg.norm(r)
    if ahead is not None:
        coef = ahead.scale * coef - ahead.shift
        beta = ahead.scale * norm_r
    else:
        beta = norm_r
    broke = beta <= btol * max(np.max(np.abs(coef)), beta) or j + 1 >= basis.shape[1]
    t[: j + 1, j] = coef
    t[j + 1, j] = 0.0 if broke else beta
    if broke:
        basis[j + 1] = 0.0
    else:
        np.divide(r, norm_r, out=basis[j + 1])
    if pending is None or broke or np.sum(np.abs(c)) > 0.5 * norm_r:
        return basis, t, None, made
    relation = np.zeros((j + 2, j + 1), t.dtype)  # column i: H vᵢ over rows 0…j+1
    relation[: j + 1] = _symmetric(t[: j + 1, : j + 1])
    relation[j + 1, j] = t[j + 1, j]
    return basis, t, _Ahead(pending, norm_u / norm_r, (relation @ c) / norm_r), made


def _host_fresh(basis: np.ndarray, row: int, seed: Any) -> np.ndarray:
    """:func:`_fresh` in place: the same hashed direction, orthogonalized twice against the rows before."""
    i = np.arange(basis.shape[1], dtype=basis.dtype)
    r = np.sin(i * basis.dtype.type(12.9898) + basis.dtype.type((row + 1) * 78.233 + seed)) * 43758.5453
    r = (r - np.floor(r) - 0.5).astype(basis.dtype)
    for _ in range(2):
        r = r - (basis[:row] @ r) @ basis[:row]
    basis[row] = r / np.linalg.norm(r)
    return basis


def _host_rotate(basis: np.ndarray, s: np.ndarray, m: int, *, keep: int) -> np.ndarray:
    """:func:`_rotate` in place, over column blocks (keep × block numbers held besides the basis)."""
    s = np.asarray(s[:m], basis.dtype)
    for start in range(0, basis.shape[1], 16384):
        cols = basis[:, start : start + 16384]
        new = s.T @ cols[:m]
        cols[keep] = cols[m]
        cols[:keep] = new
        cols[keep + 1 :] = 0.0
    return basis


def _host_ritz(basis: np.ndarray, s: np.ndarray) -> np.ndarray:
    return s.T.astype(basis.dtype) @ basis[: s.shape[0]]


class _Kernels(NamedTuple):
    """The five basis operations, on the device (jitted, the basis a donated jax.Array) or on the host."""

    init: Callable
    step: Callable
    fresh: Callable
    rotate: Callable
    ritz: Callable
    asarray: Callable


_DEVICE = _Kernels(
    init=_init,
    step=lambda op, basis, t, j, btol, ahead=None, early=False: (*_step(op, basis, t, np.int32(j), btol), None, 1),
    fresh=lambda basis, row, seed: _fresh(basis, np.int32(row), seed),
    rotate=lambda basis, s, m, *, keep: _rotate(basis, s, np.int32(m), keep=keep),
    ritz=_ritz_vectors,
    asarray=jnp.asarray,
)
_HOST = _Kernels(_host_init, _host_step, _host_fresh, _host_rotate, _host_ritz, np.asarray)


@functools.cache
def blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries. Building it scans the process's libraries (≈14 ms),
    so a first call builds it while its product compiles (see :func:`jaxml.curvature._core.operator`)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread(on_host: bool) -> Any:
    """Single-threaded BLAS for the host kernels: their products are tiny next to H·v, and BLAS threads left
    spinning after each one take the cores from XLA's next product (≈50% slower products, measured)."""
    return blas_controller().limit(limits=1, user_api="blas") if on_host else contextlib.nullcontext()


def on_cpu(x: Any) -> bool:
    """Whether ``x`` lives in host memory (every device a CPU; for a NumPy array or a number, the default
    device): then the basis is kept in NumPy. False for a tracer."""
    try:
        devices = x.devices() if isinstance(x, jax.Array) else jax.devices()[:1]
    except Exception:  # noqa: BLE001 - a tracer has no devices
        return False
    return all(d.platform == "cpu" for d in devices)


def _wanted(values: np.ndarray, k: int, which: str) -> np.ndarray:
    """Indices (into ascending ``values``) of the wanted Ritz values, in the output order."""
    n = values.size
    if which == "top":
        return np.arange(n - 1, n - 1 - min(k, n), -1)
    if which == "bottom":
        return np.arange(min(k, n))
    kk = min(k, n // 2) if n >= 2 else n
    return np.concatenate([np.arange(kk), np.arange(n - kk, n)])


def _keep(values: np.ndarray, count: int, which: str) -> np.ndarray:
    """The ``count`` Ritz values nearest the wanted end(s), kept through a thick restart."""
    n = values.size
    if which == "top":
        return np.arange(n - count, n)
    if which == "bottom":
        return np.arange(count)
    lo = count // 2
    return np.concatenate([np.arange(lo), np.arange(n - (count - lo), n)])


def eigsh(
    op: Any,
    v0: jax.Array | np.ndarray,
    k: int,
    *,
    which: str,
    tol: float,
    max_hvps: int,
    basis_size: int,
    seed: float,
    check_every: int = 5,
    on_host: bool | None = None,
) -> KrylovResult:
    """The k wanted eigenpairs of the symmetric operator ``op`` (flat v ↦ H·v) by thick-restart Lanczos.

    ``which`` is "top" (largest, descending), "bottom" (smallest, ascending) or "both" (the k smallest and
    the k largest, all ascending). Stops when every wanted pair has residual ≤ ``tol``·max|θ|, after ``max_hvps``
    products, or when the basis spans the whole space (then T's eigenvalues are H's). The basis holds
    ``basis_size`` + 1 rows of P numbers. ``seed`` varies the restart directions used after a breakdown.
    ``on_host`` picks the kernels (default: the host ones when ``v0`` is on a CPU).
    """
    on_host = on_cpu(v0) if on_host is None else on_host
    with _one_blas_thread(on_host):
        return _eigsh(_HOST if on_host else _DEVICE, op, v0, k, which, tol, max_hvps, basis_size, seed, check_every)


def _eigsh(  # fmt: skip
    kern: _Kernels, op: Any, v0: jax.Array | np.ndarray, k: int, which: str, tol: float, max_hvps: int, basis_size: int,
    seed: float, check_every: int,
) -> KrylovResult:
    p = v0.shape[0]
    m = int(min(basis_size, p))
    dtype = v0.dtype
    btol = np.asarray(10 * float(jnp.finfo(dtype).eps), dtype)
    seed = np.asarray(seed, dtype)
    basis, t = kern.init(v0, rows=m + 1)
    j, hvps, restarts = 0, 0, 0
    want_count = k if which != "both" else 2 * k
    since = 0  # the first column computed by a step since the start or the last restart
    ahead = None  # H·vⱼ, when the step before started it early (host kernels)
    calm = 0  # steps left before products start early again, after one was dropped
    while True:
        # After a check the run may end, restart or replace the next row: no product starts early before one, nor
        # where a dropped early product and its replacement would pass max_hvps.
        own = ahead is None
        check = j + 1 == m or hvps + own >= max_hvps or (j + 1) % check_every == 0
        # Right after a restart the Gram–Schmidt coefficients are not rounding-sized (the kept vectors'
        # couplings), so that step's product would be dropped.
        early = not check and hvps + own + 2 <= max_hvps and calm == 0 and (j != since or since == 0)
        basis, t, ahead, made = kern.step(op, basis, t, j, btol, ahead, early)
        # A dropped product means the regime where it cannot be corrected: stay out of it for a basis' worth.
        calm = m if made > own and ahead is None else max(calm - 1, 0)
        j += 1
        hvps += made
        full = j == m
        if not check:
            continue
        th = np.asarray(t, np.float64)
        broken = np.flatnonzero(th[np.arange(since, j) + 1, np.arange(since, j)] == 0.0)
        after = since + int(broken[0]) + 1 if broken.size else m
        if after < min(m, p) and hvps < max_hvps:
            # An invariant subspace: its Ritz values are exact but need not be the wanted ones. Continue from
            # a fresh direction right after it (the steps after the breakdown are redone).
            j = after
            basis = kern.fresh(basis, j, seed + restarts + j)
            continue
        block = th[:j, :j]
        sym = _symmetric(block)
        values, vecs = np.linalg.eigh(sym)
        beta = th[j, j - 1]
        wanted = _wanted(values, k, which)
        residuals = np.abs(beta * vecs[j - 1, wanted])
        spectrum = max(float(np.max(np.abs(values))), np.finfo(np.float64).tiny)
        converged = j >= min(want_count, p) and beta != 0.0 and bool(np.all(residuals <= tol * spectrum))
        exhausted = j >= p
        if converged or exhausted or hvps >= max_hvps:
            # Padded to at least 5 columns (zeros) so that another small k reuses the compiled product.
            coef = np.zeros((vecs.shape[0], max(wanted.size, 5)))
            coef[:, : wanted.size] = vecs[:, wanted]
            vectors = kern.ritz(basis, coef)[: wanted.size]
            return KrylovResult(values[wanted], vectors, residuals, hvps, converged or exhausted, restarts)
        if full:
            keep = max(min(want_count + (m - want_count) // 2, m - 1), 1)
            kept = _keep(values, keep, which)
            s = np.zeros((m + 1, keep))
            s[:m, :] = vecs[:, kept]
            basis = kern.rotate(basis, s, m, keep=keep)
            # T restarts as diag(θ_keep). The couplings β·sᵢ[m−1] of the kept vectors to the residual vector
            # (now row ``keep``) need not be written: the next step's Gram–Schmidt computes them as column
            # ``keep`` of T, vᵢᵀHv_keep, which is where the host reads them (upper triangle).
            t = kern.asarray(np.diag(np.concatenate([values[kept], np.zeros(m + 1 - keep)])).astype(dtype))
            j = since = keep
            restarts += 1
            if beta == 0.0:  # the basis closed on an invariant subspace: go on from a fresh direction
                basis = kern.fresh(basis, keep, seed + restarts + keep)
