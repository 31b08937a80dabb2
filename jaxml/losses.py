"""Losses of the regression and classification lectures, as pure functions of (prediction, target).

Every loss returns the **mean over examples** as a scalar, so that batch size and learning rate stay
independent. ``pred`` and ``target`` must have the same shape (except the integer-label forms, which take
logits (N, K) and labels (N,)); a mismatch raises ``ValueError`` naming both shapes, because silent
broadcasting of (N, 1) against (N,) into (N, N) is the classic way to train on garbage.

With residual r = ŷ − y:

* MAE (L1):   L = mean |r|
* MSE (L2):   L = mean r²
* Huber:      L = mean ½r² for |r| ≤ δ, δ(|r| − ½δ) otherwise
* Cross-entropy on probabilities: L = −mean Σᵢ yᵢ log ŷᵢ
* Binary cross-entropy on logits z: L = mean [max(z, 0) − z·y + log(1 + e^{−|z|})]
* Softmax cross-entropy on logits z: L = mean [logsumexp(z) − z_y]
* 0-1 loss:   L = mean δ(argmax ŷ ≠ y)
* L2 penalty: λ Σ θ² over the weights (biases excluded by default)

Example:
    >>> import jax.numpy as jnp
    >>> from jaxml import losses
    >>> float(losses.mse(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
    2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array
PyTree = Any

_BIAS_NAMES = frozenset({"b", "bias", "biases"})


def _check_same_shape(pred: Array, target: Array, pred_name: str = "pred", target_name: str = "target") -> None:
    if jnp.shape(pred) != jnp.shape(target):
        raise ValueError(
            f"{pred_name} and {target_name} must have the same shape, got {pred_name} {jnp.shape(pred)} "
            f"and {target_name} {jnp.shape(target)}"
        )


def mae(pred: Array, target: Array) -> Array:
    """Mean absolute error (L1): mean |ŷ − y| over all entries."""
    _check_same_shape(pred, target)
    return jnp.mean(jnp.abs(pred - target))


def mse(pred: Array, target: Array) -> Array:
    """Mean squared error (L2): mean (ŷ − y)² over all entries (no ½, as in the lecture)."""
    _check_same_shape(pred, target)
    return jnp.mean(jnp.square(pred - target))


def huber(pred: Array, target: Array, delta: float = 1.0) -> Array:
    """Huber loss, the continuous form: ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond, averaged.

    The lecture notes write it as |r| − ½ for |r| > 1 and r² otherwise, which jumps from 1 to ½ at |r| = 1;
    this is the standard continuous (and continuously differentiable) form, equal to ``optax.huber_loss``.
    """
    if isinstance(delta, (int, float)) and not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    _check_same_shape(pred, target)
    abs_r = jnp.abs(pred - target)
    quadratic = jnp.minimum(abs_r, delta)
    # ½q² + δ(|r| − q) equals both branches without a where, so the gradient is defined everywhere.
    return jnp.mean(0.5 * quadratic**2 + delta * (abs_r - quadratic))


def cross_entropy(probs: Array, labels: Array, eps: float = 1e-12) -> Array:
    """Cross-entropy −Σᵢ yᵢ log ŷᵢ between target distributions ``labels`` and predicted ``probs`` (N, K).

    ``labels`` may also be integer class indices of shape (N,). Probabilities are clipped at ``eps`` so a
    zero never gives −∞; prefer :func:`softmax_cross_entropy` on logits when you have them.
    """
    probs = jnp.asarray(probs)
    labels = _as_one_hot(labels, probs, "probs")
    return -jnp.mean(jnp.sum(labels * jnp.log(jnp.clip(probs, eps, 1.0)), axis=-1))


def binary_cross_entropy(logits: Array, labels: Array) -> Array:
    """Cross-entropy between Bernoulli distributions, from logits z and labels y ∈ {0, 1} (or soft labels).

    −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^{−|z|}): finite, with finite
    gradients, for any finite z (1e4 included), unlike taking log σ(z) directly.
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels, dtype=logits.dtype)
    _check_same_shape(logits, labels, "logits", "labels")
    return jnp.mean(jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits))))


def _as_one_hot(labels: Array, logits: Array, logits_name: str) -> Array:
    labels = jnp.asarray(labels)
    logits_shape = jnp.shape(logits)
    if len(logits_shape) < 1:
        raise ValueError(f"{logits_name} must have a class axis, got shape {logits_shape}")
    if labels.shape == logits_shape:
        return labels.astype(logits.dtype)
    if jnp.issubdtype(labels.dtype, jnp.integer) and labels.shape == logits_shape[:-1]:
        return jax.nn.one_hot(labels, logits_shape[-1], dtype=logits.dtype)
    raise ValueError(
        f"labels must be integer classes of shape {logits_shape[:-1]} or one-hot of shape {logits_shape}, "
        f"got labels {labels.shape} ({labels.dtype}) and {logits_name} {logits_shape}"
    )


def softmax_cross_entropy(logits: Array, labels: Array) -> Array:
    """Softmax cross-entropy from logits z (N, K): mean [logsumexp(z) − Σᵢ yᵢzᵢ].

    ``labels`` are integer classes (N,) or one-hot / soft targets (N, K). The log-sum-exp form never
    exponentiates a large logit, so it stays finite where softmax-then-log overflows.
    """
    logits = jnp.asarray(logits)
    one_hot = _as_one_hot(labels, logits, "logits")
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - jnp.sum(one_hot * logits, axis=-1))


def zero_one(scores: Array, labels: Array) -> Array:
    """The ideal classification loss, the error rate: mean δ(f(x) ≠ ŷ). Not differentiable (zero gradient).

    ``scores`` (N, K) are compared by argmax with integer labels (N,); scores of shape (N,) are binary logits
    (class 1 when > 0) compared with labels in {0, 1}.
    """
    scores = jnp.asarray(scores)
    labels = jnp.asarray(labels)
    if scores.ndim == labels.ndim + 1:
        if scores.shape[:-1] != labels.shape:
            raise ValueError(f"scores {scores.shape} and labels {labels.shape} disagree on the number of examples")
        predicted = jnp.argmax(scores, axis=-1)
    else:
        _check_same_shape(scores, labels, "scores", "labels")
        predicted = (scores > 0).astype(labels.dtype)
    return jnp.mean((predicted != labels).astype(jnp.result_type(float)))


def accuracy(scores: Array, labels: Array) -> Array:
    """1 − :func:`zero_one`: the fraction of examples classified correctly."""
    return 1.0 - zero_one(scores, labels)


def default_l2_mask(params: PyTree) -> PyTree:
    """True for weights, False for leaves stored under a bias name (``b``, ``bias``)."""

    def is_weight(path: tuple, _: Array) -> bool:
        last = path[-1] if path else None
        name = getattr(last, "key", getattr(last, "name", None))
        return name not in _BIAS_NAMES

    return jax.tree_util.tree_map_with_path(is_weight, params)


def l2_penalty(params: PyTree, mask: PyTree | Callable[[PyTree], PyTree] | None = None) -> Array:
    """Σ θ² over the masked leaves of a parameter pytree (multiply by λ yourself: L + λ·l2_penalty(θ)).

    ``mask`` is a pytree of booleans like ``params`` (or a function of params returning one); by default every
    leaf except biases (keys ``b``/``bias``), as in the lecture: biases do not change smoothness.
    """
    if mask is None:
        mask = default_l2_mask(params)
    elif callable(mask):
        mask = mask(params)
    leaves = jax.tree_util.tree_leaves(params)
    flags = jax.tree_util.tree_leaves(mask)
    if len(leaves) != len(flags):
        raise ValueError(f"mask must have one boolean per parameter leaf: {len(flags)} flags for {len(leaves)} leaves")
    terms = [jnp.sum(jnp.square(p)) for p, keep in zip(leaves, flags) if keep]
    return sum(terms, jnp.zeros((), dtype=jnp.result_type(float)))
