"""Curvature of an objective: Hessian-vector products, dense Hessians, matrix-free spectra, critical points.

The lecture's picture: near θ′, L(θ) ≈ L(θ′) + (θ−θ′)ᵀg + ½(θ−θ′)ᵀH(θ−θ′). Where g = 0 the eigenvalues λ of
the Hessian H decide between a local minimum (all λ > 0), a local maximum (all λ < 0) and a saddle point
(both signs), and a saddle is escaped along the eigenvector of a negative λ.

* :mod:`.hessian`: ``hvp`` (H·v, forward-over-reverse), ``hessian`` (dense P×P), batch-averaged
  products.
* :mod:`.lanczos`: the compiled Lanczos iteration with full reorthogonalization.
* :mod:`.spectra`: ``top_eigenvalues`` / ``eigenpairs`` (Lanczos), ``spectral_density`` (stochastic Lanczos
  quadrature), ``hutchinson_trace``; each takes a PRNG key and a tolerance and reports its H·v products.
* :mod:`.critical`: ``classify_critical_point`` (the second-order test and the escape step) and
  ``find_critical_point`` (Levenberg–Marquardt on g = 0).

Example:
    >>> import jax.numpy as jnp
    >>> from jaxml import curvature
    >>> f = lambda w: (1.0 - w[0] * w[1]) ** 2              # y = w₁w₂x, x = 1, ŷ = 1
    >>> curvature.hessian(f, jnp.zeros(2))                   # [[0, -2], [-2, 0]]
    >>> curvature.classify_critical_point(f, jnp.zeros(2)).kind   # 'saddle_point'
    >>> curvature.top_eigenvalues(f, jnp.zeros(2), 1)        # [2.]
"""

from jaxml.curvature.critical import (
    KINDS,
    CriticalPoint,
    CriticalPointSearch,
    classify_critical_point,
    classify_eigenvalues,
    find_critical_point,
    minimum_ratio,
)
from jaxml.curvature.hessian import hessian, hessian_matvec, hvp, hvp_over_batches, num_params, ravel
from jaxml.curvature.lanczos import LanczosResult, lanczos, quadrature, ritz_values, ritz_vectors, tridiagonal
from jaxml.curvature.spectra import (
    Eigenpairs,
    SpectralDensity,
    TraceEstimate,
    bottom_eigenvalues,
    density_on_grid,
    eigenpairs,
    hutchinson_trace,
    plot_spectral_density,
    spectral_density,
    top_eigenvalues,
)

__all__ = [
    "KINDS",
    "CriticalPoint",
    "CriticalPointSearch",
    "Eigenpairs",
    "LanczosResult",
    "SpectralDensity",
    "TraceEstimate",
    "bottom_eigenvalues",
    "classify_critical_point",
    "classify_eigenvalues",
    "density_on_grid",
    "eigenpairs",
    "find_critical_point",
    "hessian",
    "hessian_matvec",
    "hutchinson_trace",
    "hvp",
    "hvp_over_batches",
    "lanczos",
    "minimum_ratio",
    "num_params",
    "plot_spectral_density",
    "quadrature",
    "ravel",
    "ritz_values",
    "ritz_vectors",
    "spectral_density",
    "top_eigenvalues",
    "tridiagonal",
]
