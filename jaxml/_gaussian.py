"""The numerical kernels of :mod:`jaxml.generative`: the model types, block statistics and block posteriors.

Private: :mod:`jaxml.generative` is the public face and re-exports the model types. Every function here is pure
and works on one row block or on the pooled statistics, with ``xp`` = NumPy (on the host: nothing to compile) or
``jax.numpy`` (inside jitted code) where both are useful.

* fitting — :func:`block_moments` (class counts Nₖ, means μᵏ and scatter of one block, two passes over a block in
  cache), :func:`merge_moments` (Chan, Golub & LeVeque pooling of block statistics), :func:`finish_fit`
  (Σ from the scatter, ``reg`` on the diagonal, priors Nₖ/N);
* prediction — :func:`prepare` (the model-only part of log P(x|Cₖ) + log P(Cₖ), Cholesky once per call),
  :func:`gaussian_block` / :func:`bernoulli_joint` (the joint for a block: matrix products only),
  :func:`from_joint` (log posterior, posterior or class), :func:`posterior_block` (one compiled block).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import logsumexp, xlogy

Array = jax.Array

__all__ = [
    "BernoulliModel",
    "BlockMoments",
    "GaussianModel",
    "Prepared",
    "bernoulli_joint",
    "block_moments",
    "covariance_kind",
    "finish_fit",
    "from_joint",
    "gaussian_block",
    "inverse_cholesky",
    "joint_fn",
    "merge_moments",
    "posterior_block",
    "prepare",
]


class GaussianModel(NamedTuple):
    """Gaussian class-conditional model (a pytree: jit, vmap and tree-map over it).

    Attributes:
        means: (K, D) class means μᵏ.
        covariance: the covariances, its shape says the structure:
            ``"full"`` (K, D, D) one Σᵏ per class; ``"shared"`` (1, D, D) one Σ for all classes;
            ``"diagonal"`` (K, D) the per-class variances σᵏ² (diagonal of Σᵏ).
            ``reg`` is already added to the diagonal.
        priors: (K,) class priors P(Cₖ) = Nₖ/N.
    """

    means: Array
    covariance: Array
    priors: Array


class BernoulliModel(NamedTuple):
    """Bernoulli naive Bayes model (a pytree: jit, vmap and tree-map over it).

    Attributes:
        feature_probs: (K, D) ``feature_probs[k, i]`` = pₖᵢ = P(xᵢ = 1 | Cₖ).
        priors: (K,) class priors ``priors[k]`` = P(Cₖ) = Nₖ/N.
    """

    feature_probs: Array
    priors: Array


def covariance_kind(model: GaussianModel) -> str:
    """``"full"``, ``"shared"`` or ``"diagonal"``, read from the (static) shape of ``model.covariance``.

    Args:
        model: a :class:`GaussianModel`.

    Returns:
        ``"diagonal"`` for a (K, D) covariance, ``"shared"`` for (1, D, D), ``"full"`` for (K, D, D).

    Raises:
        TypeError: if ``model`` is not a :class:`GaussianModel`.
        ValueError: if ``model.covariance`` has none of those shapes.

    Example:
        >>> covariance_kind(GaussianModel(jnp.zeros((3, 2)), jnp.ones((3, 2)), jnp.ones(3) / 3))
        'diagonal'
    """
    if not isinstance(model, GaussianModel):
        raise TypeError(f"model must be a GaussianModel, got {type(model).__name__}")
    cov = model.covariance
    if cov.ndim == 2:
        return "diagonal"
    if cov.ndim == 3 and cov.shape[0] == 1:
        return "shared"
    if cov.ndim == 3:
        return "full"
    raise ValueError(f"model.covariance must have shape (K, D, D), (1, D, D) or (K, D), got {cov.shape}")


class BlockMoments(NamedTuple):
    """Weighted class statistics of row blocks (a leading block axis when stacked): Nₖ, μᵏ and the scatter
    Σₙ vₙ (xⁿ − μᵏ)(xⁿ − μᵏ)ᵀ about the block's own class means, in its kind's shape.

    Attributes:
        counts: (K,) weighted class counts Nₖ.
        means: (K, D) class means μᵏ of the block.
        scatter: the scatter about those means: (D, D) pooled over classes for ``"shared"``, (K, D) per-feature
            for ``"diagonal"``, (K, D, D) for ``"full"``.
    """

    counts: Array
    means: Array
    scatter: Array


def block_moments(
    xb: Array, yb: Array, wb: Array | None, lo: Array | int, hi: Array | int, num_classes: int, covariance: str
) -> BlockMoments:
    """The statistics of rows ``lo ≤ i < hi`` of one block: two passes over a block that is in cache (means,
    then residuals r = x − μ_{y}), so there is no cancellation between second moments and squared means.

    Only matrix products and elementwise arithmetic, no linear algebra: the program compiles quickly.

    Args:
        xb: (B, D) a block of features.
        yb: (B,) its labels 0…K−1.
        wb: (B,) its example weights vₙ, or None for weight 1.
        lo: the first row of the block that counts.
        hi: one past the last row that counts (rows outside [lo, hi) are padding).
        num_classes: K.
        covariance: ``"full"``, ``"shared"`` or ``"diagonal"``: the shape of the scatter.

    Returns:
        The block's :class:`BlockMoments`.
    """
    k, d = num_classes, xb.shape[1]
    dtype = xb.dtype
    rows = jnp.arange(xb.shape[0])
    keep = ((rows >= lo) & (rows < hi)).astype(dtype)
    wb = keep if wb is None else keep * wb.astype(dtype)
    yb = yb.astype(jnp.int32)
    onehot = jax.nn.one_hot(yb, k, dtype=dtype) * wb[:, None]
    ref = xb[0]  # a shift that keeps the sums small when the data sit far from the origin
    c = onehot.sum(0)
    mb = ref + (onehot.T @ (xb - ref)) / jnp.where(c > 0, c, 1)[:, None]
    r = xb - mb[yb]
    if covariance == "shared":
        sb = (r * wb[:, None]).T @ r
    elif covariance == "diagonal":
        sb = onehot.T @ (r * r)
    else:  # full: one weighted Gram matrix per class, as one (K·D, D) product.
        sb = ((onehot[:, :, None] * r[:, None, :]).reshape(-1, k * d).T @ r).reshape(k, d, d)
    return BlockMoments(c, mb, sb)


def merge_moments(blocks: BlockMoments, covariance: str, xp: Any) -> BlockMoments:
    """Pool stacked block statistics (``xp`` is numpy or jax.numpy): Nₖ = Σ_b Nₖᵇ, μᵏ = Σ_b Nₖᵇ μᵏᵇ / Nₖ and
    S = Σ_b Sᵇ + Σ_b Nₖᵇ (μᵏᵇ − μᵏ)(μᵏᵇ − μᵏ)ᵀ (Chan, Golub & LeVeque), with δ = μᵏᵇ − μᵏ small.

    Args:
        blocks: :class:`BlockMoments` stacked along a leading block axis.
        covariance: ``"full"``, ``"shared"`` or ``"diagonal"``, the kind the blocks were computed for.
        xp: the array module, ``numpy`` or ``jax.numpy``.

    Returns:
        The pooled :class:`BlockMoments` of all the rows (no block axis).
    """
    c, mb, sb = blocks
    counts = c.sum(0)
    safe = xp.where(counts > 0, counts, 1)
    means = xp.einsum("bk,bkd->kd", c, mb) / safe[:, None]
    delta = mb - means
    if covariance == "shared":
        between = xp.einsum("bk,bkd,bke->de", c, delta, delta)
    elif covariance == "diagonal":
        between = xp.einsum("bk,bkd->kd", c, delta * delta)
    else:
        between = xp.einsum("bk,bkd,bke->kde", c, delta, delta)
    return BlockMoments(counts, means, sb.sum(0) + between)


def finish_fit(moments: BlockMoments, reg: Any, covariance: str, xp: Any) -> GaussianModel:
    """The fitted model from pooled statistics: Σ = scatter / Nₖ (shared: / N) + ``reg``·I, priors Nₖ/N.

    Args:
        moments: the pooled :class:`BlockMoments` of the whole data set.
        reg: the scalar added to every covariance's diagonal.
        covariance: ``"full"``, ``"shared"`` or ``"diagonal"``.
        xp: the array module, ``numpy`` or ``jax.numpy``.

    Returns:
        The :class:`GaussianModel` (a covariance of its kind's shape).
    """
    counts, means, scatter = moments
    eye = xp.eye(means.shape[1], dtype=means.dtype)
    total = counts.sum()
    if covariance == "shared":
        cov = (scatter / total + reg * eye)[None]
    elif covariance == "diagonal":
        cov = scatter / counts[:, None] + reg
    else:
        cov = scatter / counts[:, None, None] + reg * eye
    return GaussianModel(means=means, covariance=cov, priors=counts / total)


class Prepared(NamedTuple):
    """What :func:`gaussian_block` needs of a model, computed once per call: with xc = x − ref, the joint is
    offset + xc·lin + (xc ⊙ xc)·sq − ½ ‖xc·quad − shift‖² (terms a kind does not use are None).

    Attributes:
        ref: (D,) the centre subtracted from x (the mean of the class means).
        offset: (K,) the constant term per class.
        lin: (D, K) the linear term, or None.
        sq: (D, K) the coefficients of the squared features (diagonal kind), or None.
        quad: the (D, K·D) or (D, D) whitening map (full; shared when the common terms are kept), or None.
        shift: (K, D) or (1, D) what is subtracted after ``quad``, or None.
    """

    ref: Array
    offset: Array
    lin: Array | None = None
    sq: Array | None = None
    quad: Array | None = None
    shift: Array | None = None


def inverse_cholesky(cov: Array, xp: Any) -> tuple[Array, Array]:
    """(L⁻¹, log det Σ) for a stack of covariances Σ = LLᵀ, in NumPy/SciPy or JAX (same LAPACK routines).

    Args:
        cov: (K′, D, D) symmetric positive definite matrices.
        xp: the array module, ``numpy`` or ``jax.numpy``.

    Returns:
        A tuple: the (K′, D, D) inverse Cholesky factors L⁻¹ and the (K′,) log-determinants.

    Raises:
        numpy.linalg.LinAlgError: (NumPy only) if a matrix is not positive definite; JAX returns NaN instead.
    """
    if xp is np:
        chol = np.linalg.cholesky(cov)
        inv = np.linalg.inv(chol)
    else:
        chol = jnp.linalg.cholesky(cov)
        eye = jnp.eye(cov.shape[-1], dtype=cov.dtype)
        inv = jax.vmap(lambda c: solve_triangular(c, eye, lower=True))(chol)
    logdet = 2.0 * xp.sum(xp.log(xp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return inv, logdet


def prepare(model: GaussianModel, drop_common: bool, xp: Any) -> Prepared:
    """The model-only part of log P(x|Cₖ) + log P(Cₖ); ``xp`` is numpy (host, nothing to compile) or jax.numpy.

    With ``drop_common`` terms equal for all classes are omitted (the posterior does not need them).

    Args:
        model: a :class:`GaussianModel` with positive definite covariances.
        drop_common: whether to omit the terms equal for all classes.
        xp: the array module, ``numpy`` or ``jax.numpy``.

    Returns:
        The :class:`Prepared` terms for :func:`gaussian_block`.

    Raises:
        numpy.linalg.LinAlgError: (NumPy only) if a full or shared covariance is not positive definite.
    """
    means, cov, priors = model
    k, d = means.shape
    log_prior = xp.log(priors)
    const = -0.5 * d * math.log(2 * math.pi)
    kind = covariance_kind(model)
    ref = means.mean(0)
    mc = means - ref
    if kind == "diagonal":
        # Σᵢ (xᵢ−μᵢ)²/σᵢ² expanded into two matrix products (no (N, K, D) temporary).
        inv = 1.0 / cov  # (K, D)
        offset = const - 0.5 * (xp.sum(xp.log(cov), axis=1) + xp.sum(mc * mc * inv, axis=1)) + log_prior
        return Prepared(ref, offset, lin=(mc * inv).T, sq=-0.5 * inv.T)
    inv_chol, logdet = inverse_cholesky(cov, xp)  # (K', D, D), K' = 1 for shared
    if kind == "shared":
        # −½(x−μᵏ)ᵀΣ⁻¹(x−μᵏ) = −½xᵀΣ⁻¹x + xᵀΣ⁻¹μᵏ − ½μᵏᵀΣ⁻¹μᵏ: linear in x up to the class-free term.
        z = inv_chol[0] @ mc.T  # (D, K) = L⁻¹(μᵏ − ref)
        lin = inv_chol[0].T @ z  # Σ⁻¹(μᵏ − ref)
        offset = -0.5 * xp.sum(z * z, axis=0) + log_prior
        if drop_common:
            return Prepared(ref, offset, lin=lin)
        return Prepared(ref, offset + const - 0.5 * logdet[0], lin=lin, quad=inv_chol[0].T, shift=xp.zeros((1, d)))
    # full: ‖L⁻¹(x − μᵏ)‖² with L⁻¹ formed once per class, so the work on x is one (D, K·D) matrix product.
    quad = inv_chol.transpose(2, 0, 1).reshape(d, k * d)  # column k·D + e is row e of L_k⁻¹
    shift = xp.einsum("kd,ked->ke", mc, inv_chol)
    return Prepared(ref, const - 0.5 * logdet + log_prior, quad=quad, shift=shift)


def gaussian_block(prep: Prepared, xb: Array) -> Array:
    """log P(x|Cₖ) + log P(Cₖ) (up to what :func:`prepare` dropped) for a row block: matrix products only.

    Args:
        prep: the model's :class:`Prepared` terms.
        xb: (B, D) a block of features.

    Returns:
        The (B, K) joint log-probabilities.
    """
    xc = xb - prep.ref
    out = prep.offset
    if prep.lin is not None:
        out = out + xc @ prep.lin
    if prep.sq is not None:
        out = out + (xc * xc) @ prep.sq
    if prep.quad is not None:
        k = prep.shift.shape[0]
        diff = (xc @ prep.quad).reshape(xb.shape[0], k, -1) - prep.shift
        out = out - 0.5 * jnp.sum(diff * diff, axis=-1)
    return out


def joint_fn(model: GaussianModel | BernoulliModel, output: str, xp: Any = jnp) -> Callable[[Array], Array]:
    """x ↦ the (rows, K) joint log P(x|Cₖ) + log P(Cₖ) of either model; ``output="log_likelihood"``: log P(x|Cₖ).

    Args:
        model: a :class:`GaussianModel` or :class:`BernoulliModel`.
        output: ``"log_likelihood"``, or any of ``"log_proba"``, ``"proba"``, ``"label"`` (the posterior's).
        xp: the array module for the model-only part, ``numpy`` or ``jax.numpy`` (default).

    Returns:
        A function from a (B, D) block to its (B, K) joint log-probabilities.
    """
    if isinstance(model, BernoulliModel):
        return functools.partial(bernoulli_joint, model)
    prep = prepare(model, output != "log_likelihood", xp)
    if output == "log_likelihood":
        prep = prep._replace(offset=prep.offset - xp.log(model.priors))
    return functools.partial(gaussian_block, prep)


def from_joint(joint: Array, output: str) -> Array:
    """What ``output`` asks of a block's joint log-probabilities: the joint itself, or its posterior.

    Args:
        joint: (B, K) joint log-probabilities log P(x|Cₖ) + log P(Cₖ) (or log P(x|Cₖ)).
        output: ``"log_likelihood"`` (``joint`` unchanged), ``"log_proba"``, ``"proba"`` or ``"label"``.

    Returns:
        (B, K) log posteriors or posteriors, or (B,) labels (−1 for a row with a NaN posterior).
    """
    if output == "log_likelihood":
        return joint
    log_post = joint - logsumexp(joint, axis=1, keepdims=True)
    if output == "log_proba":
        return log_post
    if output == "proba":
        return jnp.exp(log_post)
    # argmax would read a NaN row as class 0; −1 is no class.
    return jnp.where(jnp.any(jnp.isnan(log_post), axis=1), -1, jnp.argmax(joint, axis=1))


def bernoulli_joint(model: BernoulliModel, x: Array) -> Array:
    """log P(x|Cₖ) + log P(Cₖ) = Σᵢ [xᵢ log pₖᵢ + (1 − xᵢ) log(1 − pₖᵢ)] + log P(Cₖ) for a block of binary rows.

    Args:
        model: a :class:`BernoulliModel`.
        x: (B, D) binary features.

    Returns:
        The (B, K) joint log-probabilities.
    """
    p = model.feature_probs
    # xlogy keeps 0·log 0 = 0, so α = 0 (probabilities of exactly 0 or 1) stays exact.
    ll = xlogy(x[:, None, :], p[None]) + xlogy(1.0 - x[:, None, :], 1.0 - p[None])
    return ll.sum(-1) + jnp.log(model.priors)


@functools.partial(jax.jit, static_argnames=("output",))
def posterior_block(params: Prepared | BernoulliModel, xb: Array, output: str) -> Array:
    """One row block of the streamed path: one program per (block shape, model shapes, output), whatever N.

    Args:
        params: the :class:`Prepared` terms of a Gaussian model, or a :class:`BernoulliModel`.
        xb: (B, D) a block of features (cast to the model's dtype).
        output: ``"log_likelihood"``, ``"log_proba"``, ``"proba"`` or ``"label"`` (static).

    Returns:
        The block's output, as :func:`from_joint` gives it.
    """
    xb = xb.astype(params.priors.dtype if isinstance(params, BernoulliModel) else params.offset.dtype)
    joint = bernoulli_joint(params, xb) if isinstance(params, BernoulliModel) else gaussian_block(params, xb)
    return from_joint(joint, output)
