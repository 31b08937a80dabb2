"""Matrix-free spectra of the Hessian: extreme eigenpairs, spectral density, trace.

All three see H only through products H·v (see :mod:`jaxml.curvature.hessian`), so they work for networks whose
P×P Hessian could never be stored. Each takes a PRNG ``key`` (or an int seed) and a tolerance ``tol`` and reports
``num_hvps``, the H·v products it used. The H·v operator is passed into the compiled programs as an argument,
so they compile once per objective and parameter shapes.

* :func:`eigenpairs` / :func:`top_eigenvalues` / :func:`bottom_eigenvalues`: Lanczos with full
  reorthogonalization, thick restarts (bounded memory), locking and a probe (right on repeated eigenvalues);
  the k largest or smallest eigenvalues λ and eigenvectors u of H.
* :func:`spectral_density`: stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019). For random unit
  vectors v, m Lanczos steps give nodes θᵢ and weights τᵢ with Σᵢ τᵢ p(θᵢ) = vᵀp(H)v, and
  E[vᵀp(H)v] = (1/P) Σⱼ p(λⱼ); replacing the Dirac masses by Gaussians of width σ gives the smoothed density
  φ(t) = (1/n_v) Σₗ Σᵢ τᵢˡ 𝒩(t; θᵢˡ, σ²), which integrates to 1. Trace and second moment with standard errors.
* :func:`hutchinson_trace`: tr(H) = E[zᵀHz] for Rademacher z (Hutchinson 1989), sampled in vmapped chunks
  until the standard error falls below ``tol`` times the estimate's magnitude.

With ``data`` the objective is ``f(params, batch)`` and, with ``batch_size``, every product is averaged over
the batches (see :func:`jaxml.curvature.hvp`). Where f, ∇f or H·v is not finite at ``params`` each raises
``ValueError`` naming params: no NaN eigenvalue, density or trace is returned.

Example:
    >>> f = lambda w: 0.5 * jnp.sum(jnp.linspace(-1.0, 4.0, 50) * w**2)     # H = diag(−1 … 4)
    >>> top_eigenvalues(f, jnp.zeros(50), 2, key=0).round(3)
    array([4.   , 3.898], dtype=float32)
    >>> rho = spectral_density(f, jnp.zeros(50), key=1, num_vectors=8, num_steps=20)
    >>> round(rho.trace, 3)                    # tr(H) = 75: zᵀHz is exact for a diagonal H
    75.0
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks
from jaxml.curvature import _core, _lanczos
from jaxml.curvature._core import Data, Objective, Params

__all__ = [
    "Eigenpairs",
    "SpectralDensity",
    "TraceEstimate",
    "bottom_eigenvalues",
    "density_on_grid",
    "eigenpairs",
    "hutchinson_trace",
    "plot_spectral_density",
    "spectral_density",
    "top_eigenvalues",
]


def _default_tol(dtype: Any) -> float:
    # Residual ‖Hy − θy‖ ≤ tol·max|θ| puts θ within that of an eigenvalue, and within its square over the gap of
    # its own.
    return float(max(np.sqrt(np.finfo(dtype).eps), 1e-10))


def _check_tol(tol: Any) -> float | None:
    return None if tol is None else float(_checks.real(tol, "tol", low=0.0, low_open=True, allow_array=False))


# ----------------------------------------------------------------------------------------------------
# Extreme eigenpairs


class Eigenpairs(NamedTuple):
    """The k extreme eigenpairs found by Lanczos (what :func:`eigenpairs` returns).

    Attributes:
        eigenvalues: (k,) descending for ``which="top"``, ascending for ``"bottom"``.
        eigenvectors: a pytree like ``params`` whose leaves have a leading axis k (unit norm in θ-space).
        residuals: (k,) ‖Hu − λu‖ of each pair (exact to rounding, not an estimate): each λ lies within its
            residual of an eigenvalue of H.
        num_hvps: H·v products used.
        converged: every residual ≤ ``tol``·``max|θ|`` (the largest Ritz value in magnitude, at most ‖H‖) *and*
            the k values passed a random probe for missed eigenvalues — a Lanczos run in the complement of the
            k vectors found nothing beyond them — or the basis spanned ℝᴾ (then the values are exact).
            Residuals alone cannot say that: a Krylov space sees one copy of a repeated eigenvalue. The probe
            is a randomized check, reliable when a missed eigenvalue is separated from the rest or well
            represented in its random start, not a guarantee. False (with a ``RuntimeWarning``) when
            ``max_steps`` ran out first or the basis had no room left to probe (raise ``basis_size``).
    """

    eigenvalues: np.ndarray
    eigenvectors: Params
    residuals: np.ndarray
    num_hvps: int
    converged: bool


def _rng(key: Any) -> np.random.Generator:
    """The host generator behind a Lanczos run: NumPy's, seeded by the key's raw bits (``key``: a PRNG key or an
    int seed; None is seed 0). It draws the start vector and every later direction, so the same key gives the
    same numbers."""
    return np.random.default_rng(np.asarray(jax.random.key_data(_core.key(key)), np.uint64).tolist())


def _unflatten_rows(lay: _core.Layout, rows: np.ndarray) -> Params:
    """(k, P) rows to a pytree whose leaves have a leading axis k — split on the host, nothing to compile."""
    cuts = np.cumsum([math.prod(s) for s in lay.shapes])[:-1]
    parts = np.split(rows, cuts, axis=1)
    leaves = [jnp.asarray(a.reshape((rows.shape[0], *s)), d) for a, s, d in zip(parts, lay.shapes, lay.dtypes)]
    return jax.tree_util.tree_unflatten(lay.treedef, leaves)


@contextlib.contextmanager
def _finite_products(op: Any, v: Any) -> Iterator[None]:
    """Turn the host eigensolver's ``LinAlgError`` on a NaN tridiagonal T into the error naming params, when a
    product H·v is indeed not finite (NaN products are what makes T NaN; anything else is re-raised)."""
    try:
        yield
    except np.linalg.LinAlgError:
        _core.check_finite(_core.product(op, v), "the Hessian-vector product H·v")
        raise


def run_eigsh(
    f: Objective,
    params: Params,
    k: int,
    which: str,
    *,
    key: Any,
    tol: float | None,
    max_steps: int,
    basis_size: int | None,
    data: Data,
    batch_size: int | None,
    check_every: int,
) -> tuple[_lanczos.KrylovResult, Any, float]:
    """Validate, build the operator, run Lanczos; returns (result, layout, tol)."""
    k = _checks.positive_int(k, "k")
    max_steps = _checks.positive_int(max_steps, "max_steps")
    check_every = _checks.positive_int(check_every, "check_every")
    tol = _check_tol(tol)
    rng = _rng(key)
    op, theta, lay = _core.operator(f, params, data=data, batch_size=batch_size)
    p = int(theta.shape[0])
    want = k if which != "both" else 2 * k
    if want > p:
        raise ValueError(f"k must be at most the number of parameters P={p} ({which!r} needs {want}), got k={k}")
    if max_steps < want:
        raise ValueError(f"max_steps must be at least the {want} eigenpairs wanted, got {max_steps}")
    if basis_size is None:
        # (2k + 20)·P numbers, and one size for every k ≤ 5 so that another small k compiles nothing new
        basis_size = 2 * max(want, 5) + 19
    basis_size = _checks.positive_int(basis_size, "basis_size")
    if basis_size < min(want + 4, p):
        raise ValueError(
            f"basis_size must be at least the {want} eigenpairs wanted + 4 (room to confirm them), got {basis_size}"
        )
    tol = _default_tol(theta.dtype) if tol is None else tol
    v0 = rng.standard_normal(p).astype(np.dtype(theta.dtype))
    v0 = jax.device_put(v0, theta.sharding)
    with _finite_products(op, v0):
        result = _lanczos.eigsh(
            op, v0, k, which=which, tol=tol, max_hvps=max_steps, basis_size=basis_size, rng=rng,
            check_every=check_every,
        )  # fmt: skip
    _core.check_finite(result.values, "a Ritz value of the Hessian (from H·v products)")
    if not result.converged:
        warnings.warn(
            f"Lanczos did not converge: after {result.num_hvps} H·v products (max_steps={max_steps}, "
            f"basis_size={basis_size}) the {which} eigenpairs have residuals up to {np.max(result.residuals):.3g} "
            f"(tolerance {tol:.3g}·max|λ|) or were not confirmed by a probe; raise max_steps (or basis_size)",
            RuntimeWarning,
            stacklevel=3,
        )
    return result, lay, tol


def eigenpairs(
    f: Objective,
    params: Params,
    k: int,
    *,
    which: str = "top",
    key: Any = None,
    tol: float | None = None,
    max_steps: int = 300,
    basis_size: int | None = None,
    data: Data = None,
    batch_size: int | None = None,
    check_every: int = 5,
) -> Eigenpairs:
    """The k largest (``which="top"``) or smallest (``"bottom"``) eigenpairs (λ, u) of H = ∇²f(θ), matrix-free.

    Lanczos with full reorthogonalization from a random start (``key``: a PRNG key or an int seed), made right
    for *degenerate* spectra, the normal case at a network's critical point: when the Krylov space closes
    (β ≈ 0) it goes on from a fresh random direction, and once every wanted pair has residual
    ‖Hu − λu‖ ≤ ``tol``·ρ (default √eps of the parameters' dtype; ρ ≤ ‖H‖ is the largest Ritz value in
    magnitude, the Ritz values being Lanczos' estimates of H's eigenvalues) the pairs are locked and a random
    probe in their complement must find nothing beyond them. The run stops there (``converged``), after
    ``max_steps`` H·v products, or when the basis has no room left to probe (both with a ``RuntimeWarning``).
    Memory: the basis, (``basis_size`` + 1)·P numbers (default ``basis_size`` = 2·max(k, 5) + 19) whatever the
    number of products, and for a moment twice that when it restarts thick from the Ritz vectors nearest the
    wanted end. A basis that can hold all P directions, with ``max_steps`` ≥ P, skips the probe and runs to P
    products: the answer is then exact. Outlier eigenvalues (the top of a network's Hessian) converge in a few
    tens of products; the bottom sits near the bulk and may need many more.

    Each step (the product and two Gram–Schmidt passes) is one jitted program on the device of θ; the loop and
    the small eigenproblems run on the host, so another ``tol``, ``which``, key or data of the same shapes
    (passed as ``data=``) compiles nothing new, nor another ``k`` ≤ 5 (one basis size) beyond one small product.

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: θ (a pytree of finite float arrays; float64 inside ``jax.enable_x64(True)`` for tight
            tolerances).
        k: how many eigenpairs, a positive integer at most P.
        which: ``"top"`` (largest, algebraic, descending) or ``"bottom"`` (smallest, ascending).
        key: PRNG key or int seed for the start vector (default ``jax.random.key(0)``).
        tol: relative residual tolerance, > 0 (default √eps of θ's dtype).
        max_steps: the most H·v products, a positive integer at least k.
        basis_size: Lanczos vectors kept besides the residual row (memory); at least k + 4 (room for the probe)
            unless P is smaller. Default 2·max(k, 5) + 19.
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f`` as
            ``batch``.
        batch_size: optional batch size (needs ``data``); below N every product is averaged over batches (see
            :func:`jaxml.curvature.hvp`).
        check_every: products between convergence tests (each an eigh of the small T on the host), a positive
            integer.

    Returns:
        An :class:`Eigenpairs`: the k eigenvalues (a NumPy (k,) array in θ's dtype, descending for ``"top"``,
        ascending for ``"bottom"``), the eigenvectors (a pytree like ``params`` with a leading axis k), their
        residuals, ``num_hvps`` and ``converged``. A run that did not converge also emits a ``RuntimeWarning``.

    Raises:
        ValueError: if ``which`` is not ``"top"`` or ``"bottom"``; if ``k``, ``max_steps``, ``check_every`` or
            ``basis_size`` is not a positive integer; if ``tol`` is not a finite number > 0; if k > P, if ``max_steps``
            < k, or if ``basis_size`` < min(k + 4, P); if a Ritz value is not finite; if ``params`` or ``data`` is empty
            or holds NaN or inf; if ``params`` has no array leaves; if the arrays of ``data`` do not share a leading
            axis; if ``batch_size`` is given without ``data`` or is not a positive integer; if ``f`` does not return a
            real scalar; if f, ∇f or H·v is not finite at ``params``.
        TypeError: if ``k``, ``max_steps``, ``check_every``, ``basis_size`` or ``batch_size`` is not an integer, or
            ``tol`` not a real number; if ``f`` is not callable or cannot be called as ``f(params)`` /
            ``f(params, batch)``; if a leaf of ``params`` is not floating-point; if ``data`` is not a non-empty
            tuple or list of arrays; if ``key`` is neither a PRNG key nor an int seed.

    Example:
        >>> f = lambda w: 0.5 * jnp.sum(jnp.arange(1.0, 11.0) * w**2)      # H = diag(1, …, 10)
        >>> top = eigenpairs(f, jnp.zeros(10), 3, key=0)
        >>> top.eigenvalues.round(4), top.converged
        (array([10.,  9.,  8.], dtype=float32), True)
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"which must be 'top' or 'bottom', got {which!r}")
    res, lay, _ = run_eigsh(
        f,
        params,
        k,
        which,
        key=key,
        tol=tol,
        max_steps=max_steps,
        basis_size=basis_size,
        data=data,
        batch_size=batch_size,
        check_every=check_every,
    )
    vectors = _unflatten_rows(lay, np.asarray(res.vectors))
    values = res.values.astype(np.dtype(lay.dtype))
    return Eigenpairs(values, vectors, res.residuals, res.num_hvps, res.converged)


def top_eigenvalues(f: Objective, params: Params, k: int, **kwargs: Any) -> np.ndarray:
    """The k largest (algebraic) eigenvalues of H = ∇²f(θ), descending, matrix-free (Lanczos).

    Takes the keyword arguments of :func:`eigenpairs` (``key``, ``tol``, ``max_steps``, ``basis_size``,
    ``data``, ``batch_size``, ``check_every``); see it for the memory and (``.num_hvps``) the cost.

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        k: how many eigenvalues, a positive integer at most P.
        **kwargs: the keyword arguments of :func:`eigenpairs` other than ``which``.

    Returns:
        The (k,) NumPy array of the k largest eigenvalues, descending, in θ's dtype.

    Raises:
        ValueError: as :func:`eigenpairs` (e.g. k > P, a bad ``tol``, f or H·v not finite at ``params``).
        TypeError: as :func:`eigenpairs`, and for an unknown keyword argument or ``which``.

    Example:
        >>> top_eigenvalues(lambda p: (1 - p[0] * p[1]) ** 2, jnp.zeros(2), 1)
        array([2.], dtype=float32)
    """
    return eigenpairs(f, params, k, which="top", **kwargs).eigenvalues


def bottom_eigenvalues(f: Objective, params: Params, k: int, **kwargs: Any) -> np.ndarray:
    """The k smallest (algebraic) eigenvalues of H, ascending, by Lanczos; the arguments of :func:`eigenpairs`.

    The bottom of a network's Hessian sits near the bulk, so it may need many more H·v products than the top
    (raise ``max_steps``).

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        k: how many eigenvalues, a positive integer at most P.
        **kwargs: the keyword arguments of :func:`eigenpairs` other than ``which``.

    Returns:
        The (k,) NumPy array of the k smallest eigenvalues, ascending, in θ's dtype.

    Raises:
        ValueError: as :func:`eigenpairs` (e.g. k > P, a bad ``tol``, f or H·v not finite at ``params``).
        TypeError: as :func:`eigenpairs`, and for an unknown keyword argument or ``which``.

    Example:
        >>> bottom_eigenvalues(lambda p: (1 - p[0] * p[1]) ** 2, jnp.zeros(2), 1)
        array([-2.], dtype=float32)
    """
    return eigenpairs(f, params, k, which="bottom", **kwargs).eigenvalues


# ----------------------------------------------------------------------------------------------------
# Stochastic Lanczos quadrature


class SpectralDensity(NamedTuple):
    """A smoothed eigenvalue density φ(t) of H from stochastic Lanczos quadrature, with its moment estimates
    (what :func:`spectral_density` returns).

    Attributes:
        grid: (G,) points t.
        density: (G,) φ(t); ∫φ = 1 (trapezoid on the grid) and ∫tφ ≈ tr(H)/P, ∫t²φ ≈ tr(H²)/P + σ².
        nodes: (n_v, m) Ritz values θᵢ of each run (unused steps repeat the last node with weight 0).
        weights: (n_v, m) quadrature weights τᵢ, each row summing to 1.
        sigma: the Gaussian width σ.
        num_hvps: H·v products used (all runs).
        trace: the estimate of tr(H) = P·mean over runs of Σᵢ τᵢθᵢ (each run is Hutchinson's zᵀHz for its
            Rademacher start z, computed exactly by the quadrature).
        trace_stderr: its standard error, std over runs (ddof = 1) / √n_v (inf for a single run).
        moment2: the estimate of tr(H²)/P, the second moment of the eigenvalue distribution.
        moment2_stderr: its standard error.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    num_hvps: int
    trace: float
    trace_stderr: float
    moment2: float
    moment2_stderr: float


def density_on_grid(nodes: Any, weights: Any, grid: Any, sigma: float) -> np.ndarray:
    """φ(t) = (1/n_v) Σₗ Σᵢ τᵢˡ 𝒩(t; θᵢˡ, σ²) on ``grid`` (numpy, float64).

    n_v is the total weight, Σ τ, which is the number of runs when each run's weights sum to 1.

    Args:
        nodes: (n_v, m) quadrature nodes θᵢˡ (any shape: they are flattened), finite reals.
        weights: weights τᵢˡ of the same shape as ``nodes``, finite reals.
        grid: (G,) points t at which to evaluate φ, finite reals.
        sigma: the Gaussian width σ > 0.

    Returns:
        φ on the grid, a (G,) float64 NumPy array.

    Raises:
        ValueError: if ``grid`` is not 1-D; if ``sigma`` is not a finite number > 0; if ``nodes``, ``weights``
            or ``grid`` is empty or holds NaN or inf; if ``nodes`` and ``weights`` differ in shape.
        TypeError: if ``sigma`` is not a real number, or ``nodes``, ``weights`` or ``grid`` is boolean, complex
            or not numeric.

    Example:
        >>> phi = density_on_grid([[0.0, 1.0]], [[0.5, 0.5]], np.linspace(-3, 4, 701), 0.1)
        >>> round(float(np.trapezoid(phi, np.linspace(-3, 4, 701))), 6)
        1.0
    """
    _checks.real(sigma, "sigma", low=0.0, low_open=True)
    for value, name in ((nodes, "nodes"), (weights, "weights"), (grid, "grid")):
        _checks.real_array(value, name, allow_bool=False)  # a NaN would make the density NaN everywhere
    if np.shape(nodes) != np.shape(weights):
        raise ValueError(f"nodes and weights must have the same shape, got {np.shape(nodes)} and {np.shape(weights)}")
    nodes = np.asarray(nodes, np.float64).reshape(-1)
    weights = np.asarray(weights, np.float64).reshape(-1)
    grid = np.asarray(grid, np.float64)
    if grid.ndim != 1:
        raise ValueError(f"grid must be a 1-D array of points, got shape {grid.shape}")
    n_runs = max(np.asarray(weights).sum(), 1e-300)
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (np.exp(-0.5 * z**2) @ weights) / (sigma * math.sqrt(2 * math.pi) * n_runs)


def _mean_stderr(samples: np.ndarray) -> tuple[float, float]:
    n = samples.size
    return float(samples.mean()), float(samples.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")


def _slq(op: Any, p: int, dtype: Any, rng: np.random.Generator, *, num_vectors: int, num_steps: int, tol: float | None):
    """Nodes and weights (num_vectors, num_steps) of one Lanczos quadrature per Rademacher start, and the steps."""
    nodes = np.zeros((num_vectors, num_steps))
    weights = np.zeros((num_vectors, num_steps))
    total = 0
    for i in range(num_vectors):
        # A Rademacher start: vᵀHv with v = z/√P is Hutchinson's zᵀHz / P, the variance-minimal choice for traces.
        z = rng.choice(np.array([-1.0, 1.0], dtype), size=p)
        theta, tau, steps = _lanczos.quadrature(op, z, num_steps, breakdown_tol=tol)
        nodes[i, :steps], nodes[i, steps:] = theta, theta[-1]
        weights[i, :steps] = tau
        total += steps
    return nodes, weights, total


def spectral_density(
    f: Objective,
    params: Params,
    *,
    key: Any = None,
    num_vectors: int = 4,
    num_steps: int = 64,
    tol: float | None = None,
    sigma: float | None = None,
    grid: Any = None,
    num_points: int = 1000,
    data: Data = None,
    batch_size: int | None = None,
) -> SpectralDensity:
    """Stochastic Lanczos quadrature estimate of H's eigenvalue density (Ghorbani, Krishnan & Xiao 2019).

    ``num_vectors`` Rademacher start vectors (from ``key``, a PRNG key or an int seed), ``num_steps`` Lanczos
    steps each (fewer when the Krylov space closes: βⱼ ≤ ``tol``·‖T‖, after which the quadrature is exact).
    Nodes and weights are smoothed by Gaussians of width ``sigma`` (default: 1/200 of the span of the nodes)
    on ``grid`` (default: ``num_points`` points covering the nodes ± 8σ, so the density integrates to 1 on it).
    Each run's quadrature gives an unbiased sample of tr(H)/P and tr(H²)/P (exact for polynomials of degree
    < 2·steps), so ``trace`` and ``moment2`` come with standard errors over the runs: more vectors, not more
    steps, shrink them.

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        key: PRNG key or int seed for the Rademacher start vectors (default ``jax.random.key(0)``).
        num_vectors: n_v, the number of Lanczos runs (start vectors), a positive integer.
        num_steps: m, Lanczos steps per run, a positive integer (capped at P).
        tol: relative breakdown tolerance on βⱼ, > 0 (default 10·eps of θ's dtype).
        sigma: the Gaussian width σ > 0 (default 1/200 of the span of the nodes).
        grid: the (G,) points t at which φ is evaluated (default ``num_points`` points over the nodes ± 8σ).
        num_points: G, the default grid's size, a positive integer.
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f`` as
            ``batch``.
        batch_size: optional batch size (needs ``data``); below N every product is averaged over batches.

    Returns:
        A :class:`SpectralDensity`: the grid and φ on it, the nodes and weights of every run, σ, the H·v products
        used, and the estimates of tr(H) and tr(H²)/P with their standard errors.

    Raises:
        ValueError: if ``num_vectors``, ``num_steps`` or ``num_points`` is not a positive integer; if ``tol`` or
            ``sigma`` is not a finite number > 0; if ``grid`` is not a non-empty finite 1-D array; if a node is not
            finite; if ``params`` or ``data`` is empty or holds NaN or inf; if ``params`` has no array leaves;
            if the arrays of ``data`` do not share a leading axis; if ``batch_size`` is given without ``data``
            or is not a positive integer; if ``f`` does not return a real scalar; if f, ∇f or H·v is not
            finite at ``params``.
        TypeError: if ``num_vectors``, ``num_steps``, ``num_points`` or ``batch_size`` is not an integer, ``tol`` or
            ``sigma`` not a real number, or ``grid`` boolean, complex or not numeric; if ``f`` is not callable or cannot
            be called as ``f(params)`` / ``f(params, batch)``; if a leaf of ``params`` is not floating-point; if
            ``data`` is not a non-empty tuple or list of arrays; if ``key`` is neither a PRNG key nor an int seed.

    Example:
        >>> f = lambda w: 0.5 * jnp.sum(jnp.arange(1.0, 11.0) * w**2)      # eigenvalues 1, …, 10
        >>> rho = spectral_density(f, jnp.zeros(10), key=0, num_vectors=3, num_steps=10)
        >>> round(rho.trace, 3), rho.trace_stderr < 1e-3          # full depth: every run is exact
        (55.0, True)
    """
    num_vectors = _checks.positive_int(num_vectors, "num_vectors")
    num_steps = _checks.positive_int(num_steps, "num_steps")
    num_points = _checks.positive_int(num_points, "num_points")
    tol = _check_tol(tol)
    if sigma is not None:
        _checks.real(sigma, "sigma", low=0.0, low_open=True)
    rng = _rng(key)
    op, theta, _ = _core.operator(f, params, data=data, batch_size=batch_size)
    p = theta.shape[0]
    with _finite_products(op, jnp.ones_like(theta)):
        nodes, weights, steps = _slq(
            op, p, np.dtype(theta.dtype), rng, num_vectors=num_vectors, num_steps=int(min(num_steps, p)), tol=tol
        )
    _core.check_finite(nodes, "a quadrature node of the Hessian (from H·v products)")
    live = weights > 0
    lo, hi = float(nodes[live].min()), float(nodes[live].max())
    span = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
    if sigma is None:
        sigma = span / 200 if hi > lo else max(abs(hi), 1.0) * 1e-3
    if grid is None:
        grid = np.linspace(lo - 8 * sigma, hi + 8 * sigma, num_points)
    _checks.real_array(grid, "grid", ndim=1, allow_bool=False)
    grid = np.asarray(grid, np.float64)
    trace, trace_se = _mean_stderr(p * np.sum(weights * nodes, axis=1))
    m2, m2_se = _mean_stderr(np.sum(weights * nodes**2, axis=1))
    density = density_on_grid(nodes, weights, grid, sigma)
    return SpectralDensity(grid, density, nodes, weights, float(sigma), int(steps), trace, trace_se, m2, m2_se)


def plot_spectral_density(
    path: str | Path,
    densities: Mapping[str, SpectralDensity],
    *,
    title: str = "Hessian eigenvalue density (SLQ)",
    logy: bool = True,
    floor: float = 1e-7,
) -> Path:
    """Plot named densities φ(t) (log scale by default, floored at ``floor`` so the bulk and outliers both
    show) through :func:`jaxml.plot.curves`; returns the PNG path.

    Args:
        path: where to write the PNG.
        densities: label → :class:`SpectralDensity`, one curve each (at least one).
        title: the plot's title.
        logy: whether the density axis is logarithmic.
        floor: the smallest density drawn with ``logy`` (φ below it is raised to it).

    Returns:
        The path of the written PNG, as a ``pathlib.Path``.

    Raises:
        ValueError: if ``densities`` is empty.
    """
    from jaxml import plot

    if not densities:
        raise ValueError("densities must hold at least one SpectralDensity")
    series = {label: (d.grid, np.maximum(d.density, floor) if logy else d.density) for label, d in densities.items()}
    return plot.curves(path, series, title=title, xlabel="eigenvalue λ", ylabel="density φ(λ)", logy=logy)


# ----------------------------------------------------------------------------------------------------
# Hutchinson trace


class TraceEstimate(NamedTuple):
    """Hutchinson's estimate of tr(H) (what :func:`hutchinson_trace` returns).

    Attributes:
        trace: the mean of the samples zᵀHz.
        stderr: its standard error, std(samples)/√n with the sample std (ddof = 1, as the stopping rule).
        samples: (n,) the samples zᵀHz used.
        num_hvps: n, the H·v products used.
    """

    trace: float
    stderr: float
    samples: np.ndarray
    num_hvps: int


@functools.partial(jax.jit, static_argnames=("tol", "max_samples", "chunk_size"))
def _hutchinson(op: Any, theta: jax.Array, key: jax.Array, *, tol: float, max_samples: int, chunk_size: int):
    p = theta.shape[0]
    num_chunks = -(-max_samples // chunk_size)

    def chunk(i: jax.Array) -> jax.Array:
        z = jax.random.rademacher(jax.random.fold_in(key, i), (chunk_size, p), theta.dtype)
        return jnp.sum(z * jax.vmap(lambda v: _core.apply(op, v))(z), axis=1)

    def cond(c: tuple[jax.Array, jax.Array]) -> jax.Array:
        i, samples = c
        n = i * chunk_size
        live = jnp.arange(samples.shape[0]) < n
        mean = jnp.sum(jnp.where(live, samples, 0.0)) / jnp.maximum(n, 1)
        var = jnp.sum(jnp.where(live, (samples - mean) ** 2, 0.0)) / jnp.maximum(n - 1, 1)
        stderr = jnp.sqrt(var / jnp.maximum(n, 1))
        done = (n >= 2 * chunk_size) & (stderr <= tol * jnp.abs(mean))
        return (i < num_chunks) & ~done

    def body(c: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        i, samples = c
        return i + 1, jax.lax.dynamic_update_slice(samples, chunk(i), (i * chunk_size,))

    samples = jnp.zeros((num_chunks * chunk_size,), theta.dtype)
    i, samples = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), samples))
    return samples, i * chunk_size


def hutchinson_trace(
    f: Objective,
    params: Params,
    *,
    key: Any = None,
    tol: float = 1e-2,
    max_samples: int = 200,
    chunk_size: int = 10,
    data: Data = None,
    batch_size: int | None = None,
) -> TraceEstimate:
    """Hutchinson's estimator tr(H) ≈ (1/n) Σ zᵀHz with Rademacher z (entries ±1), matrix-free.

    Unbiased, with Var(zᵀHz) = 2 Σ_{i≠j} H_ij² (the diagonal costs nothing). Samples are drawn
    ``chunk_size`` at a time (vmapped H·v products) until the standard error is ≤ ``tol`` times the estimate's
    magnitude (at least two chunks) or ``max_samples`` is reached.

    Args:
        f: the objective, ``f(params)`` -> real scalar, or ``f(params, batch)`` with ``data``.
        params: the point θ, a pytree of finite floating-point arrays.
        key: PRNG key or int seed for the Rademacher vectors z (default ``jax.random.key(0)``).
        tol: the relative standard error at which sampling stops, > 0.
        max_samples: the most samples zᵀHz, a positive integer (sampling runs in whole chunks, so the count can
            reach ``max_samples`` rounded up to a multiple of ``chunk_size``).
        chunk_size: samples per vmapped chunk, a positive integer (capped at ``max_samples``).
        data: optional tuple of arrays sharing a leading axis N (usually ``(x, y)``), passed to ``f`` as
            ``batch``.
        batch_size: optional batch size (needs ``data``); below N every product is averaged over batches.

    Returns:
        A :class:`TraceEstimate`: the estimate of tr(H), its standard error, the (n,) samples and n, the H·v
        products used.

    Raises:
        ValueError: if ``tol`` is None or not a finite number > 0; if ``max_samples`` or ``chunk_size`` is not a
            positive integer; if a sample is not finite; if ``params`` or ``data`` is empty or holds NaN or inf; if
            ``params`` has no array leaves; if the arrays of ``data`` do not share a leading axis; if ``batch_size`` is
            given without ``data`` or is not a positive integer; if ``f`` does not return a real scalar; if f, ∇f or H·v
            is not finite at ``params``.
        TypeError: if ``max_samples``, ``chunk_size`` or ``batch_size`` is not an integer, or ``tol`` not a
            real number; if ``f`` is not callable or cannot be called as ``f(params)`` / ``f(params, batch)``; if a
            leaf of ``params`` is not floating-point; if ``data`` is not a non-empty tuple or list of arrays;
            if ``key`` is neither a PRNG key nor an int seed.

    Example:
        >>> f = lambda w: 0.5 * w @ jnp.array([[2.0, 1.0], [1.0, 3.0]]) @ w      # tr(H) = 5
        >>> est = hutchinson_trace(f, jnp.zeros(2), key=0, tol=0.05, max_samples=400)
        >>> abs(est.trace - 5.0) < 3 * est.stderr, est.num_hvps <= 400
        (True, True)
    """
    tol = _check_tol(tol)
    if tol is None:
        raise ValueError("tol must be a positive float, got None")
    max_samples = _checks.positive_int(max_samples, "max_samples")
    chunk_size = min(_checks.positive_int(chunk_size, "chunk_size"), max_samples)
    op, theta, _ = _core.operator(f, params, data=data, batch_size=batch_size)
    samples, n = _hutchinson(op, theta, _core.key(key), tol=tol, max_samples=max_samples, chunk_size=chunk_size)
    n = int(n)
    s = np.asarray(samples[:n], np.float64)
    _core.check_finite(s, "a sample zᵀHz (from H·v products)")
    trace, stderr = _mean_stderr(s)
    return TraceEstimate(trace, stderr, s, n)
