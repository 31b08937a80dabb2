"""Curvature of an objective: Hessian-vector products, dense Hessians, matrix-free spectra, critical points.

The lecture's picture: near θ′, L(θ) ≈ L(θ′) + (θ−θ′)ᵀg + ½(θ−θ′)ᵀH(θ−θ′). Where g = 0 the eigenvalues λ of
the Hessian H decide between a local minimum (all λ > 0), a local maximum (all λ < 0) and a saddle point
(both signs), and a saddle is escaped along the eigenvector of a negative λ.

* :mod:`.hessian`: ``hvp`` (H·v) and ``hessian`` (dense P×P, from vmapped products), ``ravel``, ``num_params``.
* :mod:`.spectra`: ``eigenpairs`` / ``top_eigenvalues`` / ``bottom_eigenvalues`` (Lanczos in bounded memory,
  right on repeated eigenvalues), ``spectral_density`` (stochastic Lanczos quadrature), ``hutchinson_trace``;
  each takes a PRNG key (or an int seed) and a tolerance and reports its H·v products.
* :mod:`.critical`: ``classify_critical_point`` (the second-order test and the escape step) and
  ``find_critical_point`` (Levenberg–Marquardt on g = 0).

The private ``_core`` module holds what they share: input checks, the layout of θ and the H·v operator.

Example:
    >>> import jax.numpy as jnp
    >>> from jaxml import curvature
    >>> f = lambda w: (1.0 - w[0] * w[1]) ** 2              # y = w₁w₂x, x = 1, ŷ = 1
    >>> curvature.hessian(f, jnp.zeros(2))
    Array([[ 0., -2.],
           [-2.,  0.]], dtype=float32)
    >>> curvature.classify_critical_point(f, jnp.zeros(2)).kind
    'saddle_point'
    >>> curvature.top_eigenvalues(f, jnp.zeros(2), 1)
    array([2.], dtype=float32)
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
from jaxml.curvature.hessian import hessian, hvp, num_params, ravel
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
    "SpectralDensity",
    "TraceEstimate",
    "bottom_eigenvalues",
    "classify_critical_point",
    "classify_eigenvalues",
    "density_on_grid",
    "eigenpairs",
    "find_critical_point",
    "hessian",
    "hutchinson_trace",
    "hvp",
    "minimum_ratio",
    "num_params",
    "plot_spectral_density",
    "ravel",
    "spectral_density",
    "top_eigenvalues",
]
