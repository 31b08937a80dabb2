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

Validation: inputs must be finite numbers, non-empty; integer labels lie in 0…K−1 (binary labels in [0, 1]),
probabilities in [0, 1] with rows summing to 1, hyper-parameters (δ, eps) in their domain. Concrete inputs that
break these raise ``ValueError``/``TypeError`` naming the argument (one pass over each array on the host, or a
fused reduction on the device). Under ``jax.jit``/``vmap``/``grad`` the values are tracers and cannot be
inspected: shapes and dtypes are still checked, and an invalid label, probability row or δ makes the loss
**NaN** (never a plausible finite number), so the trainer's divergence guard stops at the first step.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from jaxml import losses
    >>> float(losses.mse(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
    2.0
    >>> round(float(losses.softmax_cross_entropy(jnp.array([[2.0, 0.0, -1.0]]), jnp.array([0]))), 4)
    0.1698
    >>> losses.softmax_cross_entropy(jnp.array([[2.0, 0.0, -1.0]]), jnp.array([5]))
    Traceback (most recent call last):
    ...
    ValueError: labels must lie in 0 … 2, got 5
    >>> float(jax.jit(losses.softmax_cross_entropy)(jnp.array([[2.0, 0.0, -1.0]]), jnp.array([5])))
    nan
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks

Array = jax.Array
PyTree = Any

__all__ = [
    "accuracy",
    "binary_cross_entropy",
    "cross_entropy",
    "default_l2_mask",
    "huber",
    "l2_penalty",
    "mae",
    "mse",
    "softmax_cross_entropy",
    "zero_one",
]

_BIAS_NAMES = frozenset({"b", "bias", "biases"})


def _pair(pred: Any, target: Any, pred_name: str = "pred", target_name: str = "target") -> None:
    _checks.real_array(pred, pred_name)
    _checks.real_array(target, target_name)
    _checks.same_shape(pred, target, pred_name, target_name)


def mae(pred: Array, target: Array) -> Array:
    """Mean absolute error (L1): mean |ŷ − y| over all entries.

    Example:
        >>> float(mae(jnp.array([1.0, 2.0]), jnp.array([0.0, 4.0])))
        1.5
    """
    _pair(pred, target)
    return jnp.mean(jnp.abs(jnp.asarray(pred) - jnp.asarray(target)))


def mse(pred: Array, target: Array) -> Array:
    """Mean squared error (L2): mean (ŷ − y)² over all entries (no ½, as in the lecture).

    Example:
        >>> float(mse(jnp.array([1.0, 2.0]), jnp.array([0.0, 4.0])))
        2.5
    """
    _pair(pred, target)
    return jnp.mean(jnp.square(jnp.asarray(pred) - jnp.asarray(target)))


def huber(pred: Array, target: Array, delta: float | Array = 1.0) -> Array:
    """Huber loss, the continuous form: ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond, averaged.

    The lecture notes write it as |r| − ½ for |r| > 1 and r² otherwise, which jumps from 1 to ½ at |r| = 1;
    this is the standard continuous (and continuously differentiable) form, equal to ``optax.huber_loss``.
    δ must be a finite scalar > 0 (``ValueError``); a traced δ ≤ 0 under ``jit`` gives NaN.

    Example:
        >>> float(huber(jnp.array([0.5, 3.0]), jnp.zeros(2)))
        1.3125
    """
    _checks.real(delta, "delta", low=0.0, low_open=True)
    if np.ndim(delta) != 0:
        raise ValueError(f"delta must be a scalar, got shape {np.shape(delta)}")
    _pair(pred, target)
    abs_r = jnp.abs(jnp.asarray(pred) - jnp.asarray(target))
    quadratic = jnp.minimum(abs_r, delta)
    # ½q² + δ(|r| − q) equals both branches without a where, so the gradient is defined everywhere.
    value = jnp.mean(0.5 * quadratic**2 + delta * (abs_r - quadratic))
    return value if _checks.is_concrete(delta) else _checks.nan_unless(value, jnp.asarray(delta) > 0)


def _distribution_rows_valid(p: Array) -> Array:
    """Rows in [0, 1] summing to 1 within rounding (the tolerance of :func:`jaxml._checks.probabilities`)."""
    atol = max(1e-5, 100 * float(jnp.finfo(p.dtype).eps))
    in_range = jnp.all((p >= -atol) & (p <= 1 + atol), axis=-1)
    return in_range & (jnp.abs(jnp.sum(p, axis=-1) - 1) <= atol)


def _targets(labels: Any, scores: Array, scores_name: str) -> tuple[Array, Array]:
    """Targets as rows of a distribution (N, K) and a (N,) validity mask (False: NaN under ``jit``).

    Integer labels (N,) must lie in 0…K−1; targets of the scores' shape must be distributions (one-hot or
    soft). Concrete inputs are checked here (``ValueError``), traced ones only through the mask.
    """
    shape = jnp.shape(scores)
    if len(shape) < 1:
        raise ValueError(f"{scores_name} must have a class axis, got shape {shape}")
    labels_dtype = getattr(labels, "dtype", None) or np.asarray(labels).dtype
    labels_shape = jnp.shape(labels)
    if labels_shape == shape:
        _checks.finite(labels, "labels")
        dist = jnp.asarray(labels).astype(scores.dtype)
        if _checks.is_concrete(labels):
            _checks.probabilities(np.asarray(labels, np.float64), "labels")
        return dist, _distribution_rows_valid(dist)
    if jnp.issubdtype(labels_dtype, jnp.integer) and labels_shape == shape[:-1]:
        _checks.labels(labels, shape[-1], "labels")
        return jax.nn.one_hot(labels, shape[-1], dtype=scores.dtype), _checks.labels_valid(labels, shape[-1])
    raise ValueError(
        f"labels must be integer classes of shape {shape[:-1]} or one-hot of shape {shape}, "
        f"got labels {labels_shape} ({labels_dtype}) and {scores_name} {shape}"
    )


def cross_entropy(probs: Array, labels: Array, eps: float = 1e-12) -> Array:
    """Cross-entropy −Σᵢ yᵢ log ŷᵢ between target distributions ``labels`` and predicted ``probs`` (N, K).

    ``labels`` may also be integer class indices of shape (N,). ``probs`` must be probabilities: entries in
    [0, 1], rows summing to 1 (``ValueError`` otherwise; NaN under ``jit``). A probability of exactly 0 is
    raised to ``eps`` ∈ [0, 1) so it gives −log eps instead of ∞; prefer :func:`softmax_cross_entropy` on logits.

    Example:
        >>> round(float(cross_entropy(jnp.array([[0.8, 0.2], [0.4, 0.6]]), jnp.array([0, 1]))), 4)
        0.367
        >>> cross_entropy(jnp.array([[2.0, -1.0]]), jnp.array([0]))
        Traceback (most recent call last):
        ...
        ValueError: probs must lie in [0, 1], got values in [-1, 2]
    """
    _checks.real(eps, "eps", low=0.0, high=1.0, high_open=True)
    _checks.probabilities(probs, "probs")
    probs = jnp.asarray(probs)
    target, valid = _targets(labels, probs, "probs")
    each = -jnp.sum(target * jnp.log(jnp.clip(probs, eps, 1.0)), axis=-1)
    return jnp.mean(_checks.nan_unless(each, valid & _distribution_rows_valid(probs)))


def binary_cross_entropy(logits: Array, labels: Array) -> Array:
    """Cross-entropy between Bernoulli distributions, from logits z and labels y ∈ [0, 1] (0/1 or soft).

    −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^{−|z|}): finite, with finite
    gradients, for any finite z (1e4 included), unlike taking log σ(z) directly. A label outside [0, 1]
    raises ``ValueError`` (NaN under ``jit``).

    Example:
        >>> round(float(binary_cross_entropy(jnp.array([2.0, -1.0]), jnp.array([1, 0]))), 4)
        0.2201
    """
    _pair(logits, labels, "logits", "labels")
    _checks.bounded(labels, "labels", 0.0, 1.0)
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    valid = (labels >= 0) & (labels <= 1)
    labels = labels.astype(logits.dtype)
    each = jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    return jnp.mean(_checks.nan_unless(each, valid))


def softmax_cross_entropy(logits: Array, labels: Array) -> Array:
    """Softmax cross-entropy from logits z (N, K): mean [logsumexp(z) − Σᵢ yᵢzᵢ].

    ``labels`` are integer classes 0…K−1 (N,) or one-hot / soft targets (N, K). The log-sum-exp form never
    exponentiates a large logit, so it stays finite where softmax-then-log overflows. A label outside 0…K−1
    raises ``ValueError``; under ``jit`` it makes the loss NaN.

    Example:
        >>> round(float(softmax_cross_entropy(jnp.array([[2.0, 0.0], [0.0, 2.0]]), jnp.array([0, 1]))), 4)
        0.1269
    """
    _checks.real_array(logits, "logits")
    logits = jnp.asarray(logits)
    target, valid = _targets(labels, logits, "logits")
    each = jax.nn.logsumexp(logits, axis=-1) - jnp.sum(target * logits, axis=-1)
    return jnp.mean(_checks.nan_unless(each, valid))


def zero_one(scores: Array, labels: Array) -> Array:
    """The ideal classification loss, the error rate: mean δ(f(x) ≠ ŷ). Not differentiable (zero gradient).

    ``scores`` (N, K) are compared by argmax with integer labels 0…K−1 (N,); scores of shape (N,) are binary
    logits (class 1 when > 0) compared with labels in {0, 1}. Other labels raise ``ValueError`` (NaN under
    ``jit``).

    Example:
        >>> float(zero_one(jnp.array([[2.0, 0.0], [0.0, 2.0]]), jnp.array([0, 0])))
        0.5
    """
    _checks.real_array(scores, "scores")
    _checks.real_array(labels, "labels")
    scores = jnp.asarray(scores)
    labels_in = labels
    labels = jnp.asarray(labels)
    if scores.ndim == labels.ndim + 1:
        if scores.shape[:-1] != labels.shape:
            raise ValueError(f"scores {scores.shape} and labels {labels.shape} disagree on the number of examples")
        if not jnp.issubdtype(labels.dtype, jnp.integer):
            raise TypeError(f"labels must be integer class indices for (N, K) scores, got dtype {labels.dtype}")
        _checks.labels(labels_in, scores.shape[-1], "labels")
        predicted = jnp.argmax(scores, axis=-1)
        valid = _checks.labels_valid(labels, scores.shape[-1])
    else:
        _checks.same_shape(scores, labels, "scores", "labels")
        if _checks.is_concrete(labels_in) and not np.all(np.isin(np.asarray(labels_in), (0, 1))):
            bad = np.asarray(labels_in)[~np.isin(np.asarray(labels_in), (0, 1))].flat[0]
            raise ValueError(f"labels must be 0 or 1 for binary scores of shape (N,), got {bad}")
        predicted = (scores > 0).astype(labels.dtype)
        valid = (labels == 0) | (labels == 1)
    wrong = (predicted != labels).astype(jnp.result_type(float))
    return jnp.mean(_checks.nan_unless(wrong, valid))


def accuracy(scores: Array, labels: Array) -> Array:
    """1 − :func:`zero_one`: the fraction of examples classified correctly.

    Example:
        >>> round(float(accuracy(jnp.array([1.5, -0.5, 2.0]), jnp.array([1, 0, 0]))), 4)
        0.6667
    """
    return 1.0 - zero_one(scores, labels)


def default_l2_mask(params: PyTree) -> PyTree:
    """True for weights, False for leaves stored under a bias name (``b``, ``bias``).

    Example:
        >>> default_l2_mask({"w": jnp.ones(2), "b": jnp.zeros(1)})
        {'b': False, 'w': True}
    """

    def is_weight(path: tuple, _: Array) -> bool:
        last = path[-1] if path else None
        name = getattr(last, "key", getattr(last, "name", None))
        return name not in _BIAS_NAMES

    return jax.tree_util.tree_map_with_path(is_weight, params)


def l2_penalty(params: PyTree, mask: PyTree | Callable[[PyTree], PyTree] | None = None) -> Array:
    """Σ θ² over the masked leaves of a parameter pytree (multiply by λ yourself: L + λ·l2_penalty(θ)).

    ``mask`` is a pytree of booleans like ``params`` (or a function of params returning one); by default every
    leaf except biases (keys ``b``/``bias``), as in the lecture: biases do not change smoothness.

    Example:
        >>> float(l2_penalty({"w": jnp.array([1.0, 2.0]), "b": jnp.array([3.0])}))
        5.0
    """
    leaves = jax.tree_util.tree_leaves(params)
    for i, leaf in enumerate(leaves):
        _checks.finite(leaf, f"params (leaf {i})", allow_empty=True)
    if mask is None:
        mask = default_l2_mask(params)
    elif callable(mask):
        mask = mask(params)
    flags = jax.tree_util.tree_leaves(mask)
    if len(leaves) != len(flags):
        raise ValueError(f"mask must have one boolean per parameter leaf: {len(flags)} flags for {len(leaves)} leaves")
    terms = [jnp.sum(jnp.square(p)) for p, keep in zip(leaves, flags) if keep]
    return sum(terms, jnp.zeros((), dtype=jnp.result_type(float)))
