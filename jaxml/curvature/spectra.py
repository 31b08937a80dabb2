"""Matrix-free spectra of the Hessian: extreme eigenpairs, spectral density, trace.

All three see H only through products H·v (:func:`jaxml.curvature.hessian_matvec`), so they work for networks
whose P×P Hessian could never be stored. Each takes a PRNG ``key`` and a tolerance ``tol`` and reports
``num_hvps``, the H·v products it used; each runs as one compiled XLA program (no Python loop per product).

* :func:`eigenpairs` / :func:`top_eigenvalues`: Lanczos with full reorthogonalization (:mod:`.lanczos`); the
  k largest or smallest eigenvalues λ and eigenvectors u of H.
* :func:`spectral_density`: stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019). For random unit
  vectors v, m Lanczos steps give nodes θᵢ and weights τᵢ with Σᵢ τᵢ p(θᵢ) = vᵀp(H)v, and
  E[vᵀp(H)v] = (1/P) Σⱼ p(λⱼ); replacing the Dirac masses by Gaussians of width σ gives the smoothed density
  φ(t) = (1/n_v) Σₗ Σᵢ τᵢˡ 𝒩(t; θᵢˡ, σ²), which integrates to 1.
* :func:`hutchinson_trace`: tr(H) = E[zᵀHz] for Rademacher z (Hutchinson 1989), sampled in vmapped chunks
  until the standard error falls below ``tol``·|estimate|.

With ``data`` the objective is ``f(params, batch)`` and, with ``batch_size``, every product is averaged over
the batches (see :func:`jaxml.curvature.hessian_matvec`).

Example:
    >>> lam = top_eigenvalues(loss, params, 5, key=jax.random.key(0))              # descending
    >>> rho = spectral_density(loss, params, key=jax.random.key(1), num_vectors=4, num_steps=60)
    >>> plot_spectral_density("spectrum.png", {"trained": rho}, title="Hessian spectrum")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml.curvature.hessian import (
    Data,
    Objective,
    Params,
    _check_data,
    _check_objective,
    hessian_matvec,
    ravel,
)
from jaxml.curvature.lanczos import LanczosResult, lanczos, quadrature, ritz_values, ritz_vectors

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
    # Residual ‖Hy − θy‖ ≤ tol·‖H‖ puts θ within tol·‖H‖ of an eigenvalue, and within (tol·‖H‖)²/gap of
    # its own.
    return float(max(np.sqrt(np.finfo(dtype).eps), 1e-10))


def _key(key: jax.Array | None) -> jax.Array:
    if key is None:
        return jax.random.key(0)
    if not isinstance(key, jax.Array):
        raise TypeError(f"key must be a jax PRNG key (jax.random.key(seed)), got {type(key).__name__}")
    return key


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_tol(tol: Any) -> None:
    if tol is not None and (not isinstance(tol, int | float | np.floating) or not tol > 0):
        raise ValueError(f"tol must be a positive float or None, got {tol!r}")


# ----------------------------------------------------------------------------------------------------
# Extreme eigenpairs


class Eigenpairs(NamedTuple):
    """The k extreme eigenpairs found by Lanczos.

    Attributes:
        eigenvalues: (k,) descending for ``which="top"``, ascending for ``"bottom"``.
        eigenvectors: a pytree like ``params`` whose leaves have a leading axis k (unit norm in θ-space).
        residuals: (k,) ‖Hu − λu‖ of each pair, the certificate of its accuracy.
        num_hvps: H·v products used.
        converged: whether every residual met ``tol``·‖H‖ before ``max_steps``.
    """

    eigenvalues: jax.Array
    eigenvectors: Params
    residuals: jax.Array
    num_hvps: int
    converged: bool


def _lanczos_run(
    f: Objective,
    params: Params,
    data: Data,
    key: jax.Array,
    *,
    batch_size: int | None,
    max_steps: int,
    tol: float | None,
    k: int,
    which: str,
    check_every: int,
) -> LanczosResult:
    matvec, theta, _ = hessian_matvec(f, params, data=data, batch_size=batch_size)
    k0, k1 = jax.random.split(key)
    v0 = jax.random.normal(k0, theta.shape, theta.dtype)
    return lanczos(matvec, v0, max_steps, key=k1, tol=tol, k=k, which=which, check_every=check_every)


def _eigenpairs_impl(f, params, data, key, *, batch_size, max_steps, tol, k, which, check_every):
    res = _lanczos_run(
        f,
        params,
        data,
        key,
        batch_size=batch_size,
        max_steps=max_steps,
        tol=tol,
        k=k,
        which=which,
        check_every=check_every,
    )
    out = []
    for part in ("top", "bottom") if which == "both" else (which,):
        vals, coeffs, resid = ritz_values(res, k, part)
        out.append((vals, ritz_vectors(res, coeffs), resid))
    return out, res.num_steps


_eigenpairs_jit = jax.jit(
    _eigenpairs_impl, static_argnames=("f", "batch_size", "max_steps", "tol", "k", "which", "check_every")
)


def _run_eigenpairs(
    f: Objective,
    params: Params,
    k: int,
    which: str,
    key: jax.Array | None,
    tol: float | None,
    max_steps: int,
    data: Data,
    batch_size: int | None,
    check_every: int,
) -> tuple[list[tuple[jax.Array, jax.Array, jax.Array]], int, Any, float]:
    _check_objective(f)
    theta, unravel = ravel(params)
    _check_data(data, batch_size)
    k = _check_positive_int("k", k)
    max_steps = _check_positive_int("max_steps", max_steps)
    _check_tol(tol)
    p = theta.shape[0]
    if k > p:
        raise ValueError(f"k must be at most the number of parameters P={p}, got k={k}")
    if max_steps < k:
        raise ValueError(f"max_steps must be at least k={k}, got {max_steps}")
    tol = _default_tol(theta.dtype) if tol is None else float(tol)
    out, steps = _eigenpairs_jit(
        f,
        params,
        None if data is None else tuple(data),
        _key(key),
        batch_size=batch_size,
        max_steps=int(min(max_steps, p)),
        tol=tol,
        k=k,
        which=which,
        check_every=int(check_every),
    )
    return out, int(steps), unravel, tol


def eigenpairs(
    f: Objective,
    params: Params,
    k: int,
    *,
    which: str = "top",
    key: jax.Array | None = None,
    tol: float | None = None,
    max_steps: int = 100,
    data: Data = None,
    batch_size: int | None = None,
    check_every: int = 5,
) -> Eigenpairs:
    """The k largest (``which="top"``) or smallest (``"bottom"``) eigenpairs (λ, u) of H = ∇²f(θ).

    Lanczos with full reorthogonalization from a random start (``key``), stopping once every wanted pair has
    residual ‖Hu − λu‖ ≤ ``tol``·‖H‖ (default √eps of the parameters' dtype) or after ``max_steps`` H·v
    products. Memory: (``max_steps``+1)·P numbers for the Lanczos basis. With ``max_steps`` ≥ P the answer is
    exact (the whole space is spanned). Outlier eigenvalues (the top of a network's Hessian) converge in a few
    tens of steps; the bottom sits in the bulk near 0 and may need many more.

    Args:
        f: ``f(params)`` or ``f(params, batch)`` with ``data``; a scalar.
        params: θ (a pytree of float arrays; float64 inside ``jax.enable_x64(True)`` for tight tolerances).
        k: how many eigenpairs.
        which: "top" (largest, algebraic, descending) or "bottom" (smallest, ascending).
        key: PRNG key for the start vector (default ``jax.random.key(0)``).
        tol: relative residual tolerance.
        max_steps: the most Lanczos steps (H·v products).
        data, batch_size: an objective over data, averaged over batches (see module docstring).
        check_every: steps between convergence tests.

    Example:
        >>> top = eigenpairs(loss, params, 3, which="top", key=jax.random.key(0))
        >>> top.eigenvalues, top.num_hvps
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"which must be 'top' or 'bottom', got {which!r}")
    out, steps, unravel, tol = _run_eigenpairs(f, params, k, which, key, tol, max_steps, data, batch_size, check_every)
    vals, vecs, resid = out[0]
    scale = float(jnp.max(jnp.abs(vals))) if vals.size else 0.0
    converged = bool(jnp.all(resid <= tol * max(scale, 1e-300)))
    return Eigenpairs(vals, jax.vmap(unravel)(vecs), resid, steps, converged)


def top_eigenvalues(
    f: Objective,
    params: Params,
    k: int,
    *,
    key: jax.Array | None = None,
    tol: float | None = None,
    max_steps: int = 100,
    data: Data = None,
    batch_size: int | None = None,
) -> jax.Array:
    """The k largest (algebraic) eigenvalues of H = ∇²f(θ), descending, matrix-free (Lanczos).

    See :func:`eigenpairs` for the arguments and :func:`eigenpairs` (``.num_hvps``) for the cost.

    Example:
        >>> top_eigenvalues(lambda p: (1 - p[0] * p[1]) ** 2, jnp.zeros(2), 1)    # [2.]
    """
    return eigenpairs(
        f, params, k, which="top", key=key, tol=tol, max_steps=max_steps, data=data, batch_size=batch_size
    ).eigenvalues


def bottom_eigenvalues(
    f: Objective,
    params: Params,
    k: int,
    *,
    key: jax.Array | None = None,
    tol: float | None = None,
    max_steps: int = 100,
    data: Data = None,
    batch_size: int | None = None,
) -> jax.Array:
    """The k smallest (algebraic) eigenvalues of H, ascending, by Lanczos; see :func:`eigenpairs`."""
    return eigenpairs(
        f, params, k, which="bottom", key=key, tol=tol, max_steps=max_steps, data=data, batch_size=batch_size
    ).eigenvalues


# ----------------------------------------------------------------------------------------------------
# Stochastic Lanczos quadrature


class SpectralDensity(NamedTuple):
    """A smoothed eigenvalue density φ(t) of H from stochastic Lanczos quadrature.

    Attributes:
        grid: (G,) points t.
        density: (G,) φ(t); ∫φ = 1 (trapezoid on the grid) and ∫tφ ≈ tr(H)/P, ∫t²φ ≈ tr(H²)/P + σ².
        nodes: (n_v, m) Ritz values θᵢ of each run (unused steps repeat the last node with weight 0).
        weights: (n_v, m) quadrature weights τᵢ, each row summing to 1.
        sigma: the Gaussian width σ.
        num_hvps: H·v products used (all runs).
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    num_hvps: int


def density_on_grid(nodes: Any, weights: Any, grid: Any, sigma: float) -> np.ndarray:
    """φ(t) = (1/n_v) Σₗ Σᵢ τᵢˡ 𝒩(t; θᵢˡ, σ²) on ``grid`` (numpy, float64)."""
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    nodes = np.asarray(nodes, np.float64).reshape(-1)
    weights = np.asarray(weights, np.float64).reshape(-1)
    grid = np.asarray(grid, np.float64)
    n_runs = max(np.asarray(weights).sum(), 1e-300)
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (np.exp(-0.5 * z**2) @ weights) / (sigma * math.sqrt(2 * math.pi) * n_runs)


def _slq_impl(f, params, data, key, *, batch_size, num_vectors, num_steps, tol):
    matvec, theta, _ = hessian_matvec(f, params, data=data, batch_size=batch_size)
    p = theta.shape[0]

    def one(k: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        # Rademacher start: vᵀHv/P-normalized has E = tr(H)/P, the variance-minimal choice for traces.
        v0 = jax.random.rademacher(k, (p,), theta.dtype)
        res = lanczos(matvec, v0, num_steps, key=k, on_breakdown="stop", breakdown_tol=tol)
        nodes, weights = quadrature(res)
        return nodes, weights, res.num_steps

    nodes, weights, steps = jax.lax.map(one, jax.random.split(key, num_vectors))
    return nodes, weights, jnp.sum(steps)


_slq_jit = jax.jit(_slq_impl, static_argnames=("f", "batch_size", "num_vectors", "num_steps", "tol"))


def spectral_density(
    f: Objective,
    params: Params,
    *,
    key: jax.Array | None = None,
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

    ``num_vectors`` Rademacher start vectors (from ``key``), ``num_steps`` Lanczos steps each (fewer when
    the Krylov space closes: βⱼ ≤ ``tol``·‖T‖, after which the quadrature is exact). Nodes and weights are
    smoothed by Gaussians of width ``sigma`` (default: 1/200 of the span of the nodes) on ``grid`` (default:
    ``num_points`` points covering the nodes ± 8σ, so the density integrates to 1 on it).

    Example:
        >>> rho = spectral_density(loss, params, key=jax.random.key(0), num_vectors=4, num_steps=80)
        >>> np.trapezoid(rho.density, rho.grid)     # ≈ 1
    """
    _check_objective(f)
    theta, _ = ravel(params)
    _check_data(data, batch_size)
    num_vectors = _check_positive_int("num_vectors", num_vectors)
    num_steps = _check_positive_int("num_steps", num_steps)
    num_points = _check_positive_int("num_points", num_points)
    _check_tol(tol)
    if sigma is not None and not sigma > 0:
        raise ValueError(f"sigma must be a positive float or None, got {sigma!r}")
    p = theta.shape[0]
    nodes, weights, steps = _slq_jit(
        f,
        params,
        None if data is None else tuple(data),
        _key(key),
        batch_size=batch_size,
        num_vectors=num_vectors,
        num_steps=int(min(num_steps, p)),
        tol=None if tol is None else float(tol),
    )
    nodes, weights = np.asarray(nodes, np.float64), np.asarray(weights, np.float64)
    live = weights > 0
    lo, hi = float(nodes[live].min()), float(nodes[live].max())
    span = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
    if sigma is None:
        sigma = span / 200 if hi > lo else max(abs(hi), 1.0) * 1e-3
    if grid is None:
        grid = np.linspace(lo - 8 * sigma, hi + 8 * sigma, num_points)
    grid = np.asarray(grid, np.float64)
    return SpectralDensity(grid, density_on_grid(nodes, weights, grid, sigma), nodes, weights, float(sigma), int(steps))


def plot_spectral_density(
    path: str | Path,
    densities: Mapping[str, SpectralDensity],
    *,
    title: str = "Hessian eigenvalue density (SLQ)",
    logy: bool = True,
    floor: float = 1e-7,
) -> Path:
    """Plot named densities φ(t) (log scale by default, floored at ``floor`` so the bulk and outliers both
    show) through :func:`jaxml.plot.curves`; returns the PNG path."""
    from jaxml import plot

    if not densities:
        raise ValueError("densities must hold at least one SpectralDensity")
    series = {label: (d.grid, np.maximum(d.density, floor) if logy else d.density) for label, d in densities.items()}
    return plot.curves(path, series, title=title, xlabel="eigenvalue λ", ylabel="density φ(λ)", logy=logy)


# ----------------------------------------------------------------------------------------------------
# Hutchinson trace


class TraceEstimate(NamedTuple):
    """Hutchinson's estimate of tr(H).

    Attributes:
        trace: the mean of the samples zᵀHz.
        stderr: its standard error, std(samples)/√n.
        samples: (n,) the samples zᵀHz used.
        num_hvps: n, the H·v products used.
    """

    trace: float
    stderr: float
    samples: np.ndarray
    num_hvps: int


def _hutchinson_impl(f, params, data, key, *, batch_size, tol, max_samples, chunk_size):
    matvec, theta, _ = hessian_matvec(f, params, data=data, batch_size=batch_size)
    p = theta.shape[0]
    num_chunks = -(-max_samples // chunk_size)

    def chunk(i: jax.Array) -> jax.Array:
        z = jax.random.rademacher(jax.random.fold_in(key, i), (chunk_size, p), theta.dtype)
        return jnp.sum(z * jax.vmap(matvec)(z), axis=1)

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


_hutchinson_jit = jax.jit(_hutchinson_impl, static_argnames=("f", "batch_size", "tol", "max_samples", "chunk_size"))


def hutchinson_trace(
    f: Objective,
    params: Params,
    *,
    key: jax.Array | None = None,
    tol: float = 1e-2,
    max_samples: int = 200,
    chunk_size: int = 10,
    data: Data = None,
    batch_size: int | None = None,
) -> TraceEstimate:
    """Hutchinson's estimator tr(H) ≈ (1/n) Σ zᵀHz with Rademacher z (entries ±1), matrix-free.

    Unbiased, with Var(zᵀHz) = 2 Σ_{i≠j} H_ij² (the diagonal costs nothing). Samples are drawn
    ``chunk_size`` at a time (vmapped H·v products) until the standard error is ≤ ``tol``·|estimate| (at
    least two chunks) or ``max_samples`` is reached.

    Example:
        >>> est = hutchinson_trace(loss, params, key=jax.random.key(0), tol=1e-2)
        >>> est.trace, est.stderr, est.num_hvps
    """
    _check_objective(f)
    ravel(params)
    _check_data(data, batch_size)
    _check_tol(tol)
    max_samples = _check_positive_int("max_samples", max_samples)
    chunk_size = _check_positive_int("chunk_size", chunk_size)
    chunk_size = min(chunk_size, max_samples)
    samples, n = _hutchinson_jit(
        f,
        params,
        None if data is None else tuple(data),
        _key(key),
        batch_size=batch_size,
        tol=float(tol),
        max_samples=max_samples,
        chunk_size=chunk_size,
    )
    n = int(n)
    s = np.asarray(samples[:n], np.float64)
    stderr = float(s.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return TraceEstimate(float(s.mean()), stderr, s, n)
