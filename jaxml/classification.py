r"""Discriminative classifiers of the classification lectures, built from jaxml's models, losses and trainer.

Logistic regression (SCOPE §2.7) is a linear model z = wᵀx + b read through the sigmoid, f(x) = σ(z) =
P(C₁|x), trained by minimising the cross-entropy between Bernoulli distributions

    L(w, b) = −(1/N) Σₙ [ŷⁿ ln f(xⁿ) + (1 − ŷⁿ) ln(1 − f(xⁿ))],   ∂L/∂wᵢ = −(1/N) Σₙ (ŷⁿ − f(xⁿ)) xᵢⁿ,

which has the same form as linear regression's update. With the square error instead (SCOPE §2.8) the gradient
∂L/∂wᵢ = (2/N) Σₙ (f − ŷ) f (1 − f) xᵢ vanishes both far from and close to the target: training stalls.
Softmax regression (§2.10) is the K-class version: yᵢ = exp(zᵢ)/Σⱼ exp(zⱼ) with one-hot targets.

Nothing here trains by itself: objectives are plain ``objective(params, (x, y))`` functions for
:func:`jaxml.train.fit`. This module only names the pieces (:func:`objective`), gives the lecture's closed-form
gradients (:func:`cross_entropy_gradient`, :func:`mse_gradient`), the XOR feature transformation
(:func:`distance_features`), the cascade of logistic regressions (:func:`cascade`), and trains many random
training subsets in one compiled :func:`jaxml.train.fit_sweep` (:func:`fit_subsets`).

Example:
    >>> import jax, optax
    >>> from jaxml import classification, models, train
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (200, 2)); y = (x[:, 0] + x[:, 1] > 0).astype(int)
    >>> model = models.linear(2)
    >>> result = train.fit(classification.objective(model.apply, "cross_entropy"),
    ...                    model.init(jax.random.PRNGKey(1)), optax.sgd(1.0), (x, y), key=0, epochs=200,
    ...                    metrics={"accuracy": classification.accuracy_metric(model.apply)})
    >>> result.history["train_accuracy"][-1] > 0.95
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import losses, models, train

Array = jax.Array
PyTree = Any
Apply = Callable[[PyTree, Array], Array]
LossName = Literal["cross_entropy", "mse", "regression", "softmax"]

__all__ = [
    "SubsetFit",
    "accuracy_metric",
    "boundary_line",
    "cascade",
    "cross_entropy_gradient",
    "distance_features",
    "fit_subsets",
    "hidden_features",
    "loss_surface",
    "mse_gradient",
    "objective",
    "per_example_loss",
    "probabilities",
]

_LOSSES: tuple[str, ...] = ("cross_entropy", "mse", "regression", "softmax")


def _sigmoid_mse(logits: Array, labels: Array) -> Array:
    # MSE between f = σ(z) and ŷ ∈ {0, 1}: the lecture's "logistic regression + square error".
    return losses.mse(jax.nn.sigmoid(logits), jnp.asarray(labels, logits.dtype))


def _regression_mse(scores: Array, labels: Array) -> Array:
    # Classification as regression: targets +1 for class 1, −1 for class 0, plain squared error on z.
    return losses.mse(scores, 2.0 * jnp.asarray(labels, scores.dtype) - 1.0)


def _loss_fn(loss: str) -> Callable[[Array, Array], Array]:
    table = {
        "cross_entropy": losses.binary_cross_entropy,
        "mse": _sigmoid_mse,
        "regression": _regression_mse,
        "softmax": losses.softmax_cross_entropy,
    }
    if loss not in table:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    return table[loss]


def objective(apply: Apply, loss: LossName = "cross_entropy", l2: float = 0.0) -> train.Objective:
    """The training objective L(θ) on a batch (x, ŷ) for a model whose ``apply`` returns logits z.

    ``loss``:
        ``"cross_entropy"``: logistic regression, −[ŷ ln σ(z) + (1−ŷ) ln(1−σ(z))], labels ŷ ∈ {0, 1};
        ``"mse"``: (σ(z) − ŷ)², the square error on the sigmoid output (vanishing gradients);
        ``"regression"``: (z − t)² with t = ±1 — classification as regression;
        ``"softmax"``: softmax cross-entropy, integer labels 0…K−1 (logits (N, K)).
    ``l2``: λ of λΣw² (biases not penalised).
    """
    return train.supervised(apply, _loss_fn(loss), l2=l2)


def per_example_loss(loss: LossName) -> Callable[[Array, Array], Array]:
    """The loss of each example, (N,), rather than the mean (for weighted objectives)."""
    fn = _loss_fn(loss)

    def each(logits: Array, labels: Array) -> Array:
        return jax.vmap(lambda z, y: fn(z[None], y[None]))(logits, labels)

    return each


def probabilities(logits: Array) -> Array:
    """f(x) from logits: σ(z) for (N,) binary logits, softmax(z) for (N, K)."""
    logits = jnp.asarray(logits)
    return jax.nn.sigmoid(logits) if logits.ndim == 1 else jax.nn.softmax(logits, axis=-1)


def accuracy_metric(apply: Apply) -> Callable[[PyTree, tuple[Array, Array]], Array]:
    """``fn(params, (x, ŷ))`` → accuracy, for ``train.fit(..., metrics={"accuracy": ...})``.

    Binary logits (N,) count class 1 when z > 0 (i.e. σ(z) > 0.5; for ``"regression"`` when the score > 0);
    (N, K) logits are compared by argmax.
    """

    def metric(params: PyTree, batch: tuple[Array, Array]) -> Array:
        x, y = batch
        return losses.accuracy(apply(params, x), y)

    return metric


def cross_entropy_gradient(w: Array, b: Array, x: Array, y: Array) -> tuple[Array, Array]:
    """The lecture's closed form: ∂L/∂wᵢ = −(1/N) Σₙ (ŷⁿ − f(xⁿ)) xᵢⁿ, ∂L/∂b = −(1/N) Σₙ (ŷⁿ − f(xⁿ))."""
    x = jnp.asarray(x)
    r = jnp.asarray(y, x.dtype) - jax.nn.sigmoid(x @ w + b)
    return -(x.T @ r) / x.shape[0], -jnp.mean(r)


def mse_gradient(w: Array, b: Array, x: Array, y: Array) -> tuple[Array, Array]:
    """The lecture's closed form for σ + square error: ∂L/∂wᵢ = (2/N) Σₙ (f − ŷ) f (1 − f) xᵢⁿ (and ∂L/∂b)."""
    x = jnp.asarray(x)
    f = jax.nn.sigmoid(x @ w + b)
    s = 2.0 * (f - jnp.asarray(y, x.dtype)) * f * (1.0 - f)
    return (x.T @ s) / x.shape[0], jnp.mean(s)


def distance_features(x: Array, centers: Sequence[Sequence[float]] = ((0.0, 0.0), (1.0, 1.0))) -> Array:
    """The lecture's hand-made XOR transformation x ↦ (‖x − c₁‖, ‖x − c₂‖), default c₁ = (0,0), c₂ = (1,1).

    After it the XOR classes are linearly separable: (0,1) and (1,0) both map to (1, 1), (0,0) to (0, √2) and
    (1,1) to (√2, 0).
    """
    x = jnp.asarray(x)
    c = jnp.asarray(centers, dtype=x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else None)
    if x.ndim != 2 or c.ndim != 2 or c.shape[1] != x.shape[1]:
        raise ValueError(f"x must be (N, d) and centers (M, d) with the same d, got {x.shape} and {c.shape}")
    return jnp.sqrt(jnp.sum((x[:, None, :] - c[None]) ** 2, axis=-1))


def cascade(in_features: int = 2, hidden: int = 2) -> models.Model:
    """A cascade of logistic regressions: ``hidden`` logistic units x′ᵢ = σ(wᵢᵀx + bᵢ) learn a feature
    transformation, and one more logistic regression classifies x′ (``apply`` returns its logit).

    It is :func:`jaxml.models.mlp` with one sigmoid hidden layer — a neural network. ``hidden_features``
    of the same params gives the learned transformation x′ (for plotting).
    """
    return models.mlp(in_features, [hidden], activation=jax.nn.sigmoid)


def hidden_features(params: list[dict[str, Array]], x: Array) -> Array:
    """x′ = σ(W₁x + b₁): the first stage of a :func:`cascade` (the learned transformation)."""
    layer = params[0]
    return jax.nn.sigmoid(jnp.asarray(x) @ layer["w"] + layer["b"])


def boundary_line(
    w: Array, b: Array | float, lo: Array, hi: Array, points: int = 4001
) -> tuple[np.ndarray, np.ndarray]:
    """Points (x₁, x₂) of the 2-D decision boundary wᵀx + b = 0 inside the box [lo, hi] (for plotting: a steep
    line is clipped instead of stretching the axes). Empty arrays when the line misses the box."""
    w = np.asarray(w, dtype=float).reshape(-1)
    if w.shape != (2,) or not np.any(w):
        raise ValueError(f"w must be a nonzero 2-vector, got {w}")
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    p0 = -float(np.asarray(b).reshape(())) * w / (w @ w)
    d = np.array([-w[1], w[0]]) / np.hypot(*w)
    reach = np.linalg.norm(hi - lo) + np.linalg.norm(p0 - lo)
    pts = p0 + np.linspace(-reach, reach, points)[:, None] * d
    pts = pts[np.all((pts >= lo) & (pts <= hi), axis=1)]
    return pts[:, 0], pts[:, 1]


def loss_surface(
    objective_fn: train.Objective,
    to_params: Callable[[Array, Array], PyTree],
    batch: tuple[Array, Array],
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The ``f(X, Y)`` of :func:`jaxml.plot.contour` for a loss over two parameters.

    ``to_params(θ₁, θ₂)`` builds the full parameter pytree from the two scalars being varied (the others held
    fixed); the result evaluates L on a whole grid at once (``jax.vmap``).
    """
    loss_at = jax.jit(jax.vmap(lambda a, b: objective_fn(to_params(a, b), batch)))

    def f(xg: np.ndarray, yg: np.ndarray) -> np.ndarray:
        xg, yg = np.asarray(xg), np.asarray(yg)
        return np.asarray(loss_at(jnp.asarray(xg.ravel()), jnp.asarray(yg.ravel()))).reshape(xg.shape)

    return f


class SubsetFit(NamedTuple):
    """Parameters of R runs (leading axis R) and the standardization each run applied: x ↦ (x − mean) / std."""

    params: PyTree
    mean: Array
    std: Array

    def logits(self, apply: Apply, x: Array) -> Array:
        """Every run's outputs on the same inputs x, (R, N, …)."""
        return jax.vmap(lambda p, m, s: apply(p, (x - m) / s))(self.params, self.mean, self.std)


def fit_subsets(
    model: models.Model,
    loss: LossName,
    x: Array,
    y: Array,
    masks: Array,
    *,
    key: Array | int,
    epochs: int,
    optimizer: optax.GradientTransformation,
    l2: float = 0.0,
    standardize: bool = False,
) -> SubsetFit:
    """Train one model per training subset, all in one compiled :func:`jaxml.train.fit_sweep`.

    Run r minimises the mean loss over the examples with ``masks[r, n] = 1`` (full batch):
    L_r(θ) = Σₙ mₙ ℓ(f(xⁿ; θ), ŷⁿ) / Σₙ mₙ (+ λΣw²). The mask rides along in the run's parameters, frozen by
    ``optax.set_to_zero`` and cut from the gradient, so runs with different training sets (random splits,
    growing training-set sizes) share one XLA program.

    Args:
        model: the model (its ``init`` is called with one key per run).
        loss: as in :func:`objective`.
        x, y: all examples (N, d) and labels (N,).
        masks: (R, N) 0/1 weights, one row per run.
        key: PRNG key or seed (initialisation).
        epochs: full-batch steps.
        optimizer: the optimizer of every run.
        l2: λ.
        standardize: each run standardizes x with the mean and std of *its own* training subset (a feature
            constant there gets std 1), so nothing is learned from held-out rows.

    Returns:
        :class:`SubsetFit`: the trained parameters (leading axis R) and each run's standardization.
    """
    masks = jnp.asarray(masks)
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"x must be (N, d), got shape {x.shape}")
    if masks.ndim != 2 or masks.shape[1] != x.shape[0] or masks.shape[0] < 1:
        raise ValueError(f"masks must have shape (R, {x.shape[0]}) with R >= 1, got {masks.shape}")
    key = jax.random.PRNGKey(key) if isinstance(key, int) else key
    runs = masks.shape[0]
    k_init, k_fit = jax.random.split(key)
    each = per_example_loss(loss)
    theta = jax.vmap(model.init)(jax.random.split(k_init, runs))
    dtype = jax.tree_util.tree_leaves(theta)[0].dtype
    m = masks.astype(dtype)
    if standardize:
        count = m.sum(1, keepdims=True)
        mean = m @ x / count
        var = m @ (x * x) / count - mean**2
        std = jnp.where(var > 1e-12 * jnp.maximum(mean**2, 1.0), jnp.sqrt(jnp.maximum(var, 0.0)), 1.0)
    else:
        mean = jnp.zeros((runs, x.shape[1]), dtype)
        std = jnp.ones((runs, x.shape[1]), dtype)

    def weighted(params: dict[str, Any], batch: tuple[Array, Array]) -> Array:
        xb, yb = batch
        frozen = jax.lax.stop_gradient((params["mask"], params["mean"], params["std"]))
        w, mu, sd = frozen
        value = jnp.sum(w * each(model.apply(params["theta"], (xb - mu) / sd), yb)) / jnp.sum(w)
        if l2:
            value = value + l2 * losses.l2_penalty(params["theta"])
        return value

    params = {"theta": theta, "mask": m, "mean": mean.astype(dtype), "std": std.astype(dtype)}
    labels = {
        "theta": jax.tree_util.tree_map(lambda _: "train", theta),
        "mask": "frozen",
        "mean": "frozen",
        "std": "frozen",
    }
    opt = optax.multi_transform({"train": optimizer, "frozen": optax.set_to_zero()}, labels)
    result = train.fit_sweep(
        weighted, params, opt, (x, y), keys=jax.random.split(k_fit, runs), epochs=epochs, progress=False
    )
    return SubsetFit(result.params["theta"], result.params["mean"], result.params["std"])
