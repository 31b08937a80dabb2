r"""Discriminative classifiers of the classification lectures, built from jaxml's models, losses and trainer.

Logistic regression (course §2.7) is a linear model z = wᵀx + b read through the sigmoid, f(x) = σ(z) =
P(C₁|x), trained by minimising the cross-entropy between Bernoulli distributions

    L(w, b) = −(1/N) Σₙ [ŷⁿ ln f(xⁿ) + (1 − ŷⁿ) ln(1 − f(xⁿ))],   ∂L/∂wᵢ = −(1/N) Σₙ (ŷⁿ − f(xⁿ)) xᵢⁿ,

which has the same form as linear regression's update. With the square error instead (course §2.8) the gradient
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
    >>> bool(result.history["train_accuracy"][-1] > 0.95)
    True

Validation (:mod:`jaxml._checks`): binary labels must lie in [0, 1] (0/1 for the lecture's losses), softmax
labels in 0…K−1, features finite. Objectives run under ``jit`` inside the trainer, where values cannot be
inspected: there an invalid label makes the loss NaN, so :func:`jaxml.train.fit` stops at the first step with a
``DivergenceError`` instead of training on it. :func:`fit_subsets` sees its data before compiling and checks it
concretely.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import _checks, losses, models, train

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


def _binary_targets(labels: Any, dtype: Any, name: str = "labels") -> Array:
    """Labels in [0, 1] as ``dtype``: ``ValueError`` when concrete, NaN (poisoning the loss) when traced."""
    _checks.real_array(labels, name)
    _checks.bounded(labels, name, 0.0, 1.0)
    labels = jnp.asarray(labels)
    return _checks.nan_unless(labels.astype(dtype), (labels >= 0) & (labels <= 1))


@losses._classification_loss("binary", "the square error on σ(z) (loss='mse')")
def _sigmoid_mse(logits: Array, labels: Array) -> Array:
    # MSE between f = σ(z) and ŷ ∈ {0, 1}: the lecture's "logistic regression + square error".
    _checks.same_shape(logits, labels, "logits", "labels")
    losses.check_targets(_sigmoid_mse, labels, np.shape(logits), name="labels")
    return losses.mse(jax.nn.sigmoid(logits), _binary_targets(labels, jnp.asarray(logits).dtype))


@losses._classification_loss("binary", "classification as regression (loss='regression')")
def _regression_mse(scores: Array, labels: Array) -> Array:
    # Classification as regression: targets +1 for class 1, −1 for class 0, plain squared error on z.
    _checks.same_shape(scores, labels, "scores", "labels")
    losses.check_targets(_regression_mse, labels, np.shape(scores), name="labels")
    return losses.mse(scores, 2.0 * _binary_targets(labels, jnp.asarray(scores).dtype) - 1.0)


def _loss_fn(loss: str) -> Callable[[Array, Array], Array]:
    table = {
        "cross_entropy": losses.binary_cross_entropy,
        "mse": _sigmoid_mse,
        "regression": _regression_mse,
        "softmax": losses.softmax_cross_entropy,
    }
    _checks.one_of(loss, "loss", _LOSSES)
    return table[loss]


def objective(apply: Apply, loss: LossName = "cross_entropy", l2: float = 0.0) -> train.Objective:
    """The training objective L(θ) on a batch (x, ŷ) for a model whose ``apply`` returns logits z.

    The losses (``loss``):

    * ``"cross_entropy"``: logistic regression, −[ŷ ln σ(z) + (1−ŷ) ln(1−σ(z))], labels ŷ ∈ {0, 1};
    * ``"mse"``: (σ(z) − ŷ)², the square error on the sigmoid output (vanishing gradients);
    * ``"regression"``: (z − t)² with t = ±1 — classification as regression;
    * ``"softmax"``: softmax cross-entropy, integer labels 0…K−1 (logits (N, K)).

    Under ``jit`` (inside the trainer) a label outside {0, 1} (or 0…K−1 for ``"softmax"``) makes the objective
    NaN.

    Args:
        apply: the model's ``apply(params, x)``, returning logits z: (N,) for the binary losses, (N, K) for
            ``"softmax"``.
        loss: which loss, one of ``"cross_entropy"``, ``"mse"``, ``"regression"`` and ``"softmax"`` (above).
        l2: λ ≥ 0 of the penalty λΣw² (biases not penalised); 0 for none.

    Returns:
        ``objective(params, (x, ŷ))``, the scalar mean loss L(θ) (plus the penalty), a
        :data:`jaxml.train.Objective` for :func:`jaxml.train.fit`.

    Raises:
        TypeError: if ``apply`` is not callable, or ``l2`` is not a real number.
        ValueError: if ``l2`` is negative or not finite, or ``loss`` is not one of the four names.

    Example:
        >>> model = models.linear(1)
        >>> f = objective(model.apply, "cross_entropy")
        >>> round(float(f(model.init(0), (jnp.array([[1.0], [2.0]]), jnp.array([1, 0])))), 4)   # ln 2 at θ = 0
        0.6931
    """
    _checks.callable_(apply, "apply", "a model's apply(params, x) function")
    _checks.real(l2, "l2", low=0.0)
    return train.supervised(apply, _loss_fn(loss), l2=l2)


def per_example_loss(loss: LossName) -> Callable[[Array, Array], Array]:
    """The loss of each example, (N,), rather than the mean (for weighted objectives).

    Args:
        loss: which loss, as in :func:`objective`.

    Returns:
        ``each(logits, labels)``: logits (N,) (or (N, K) for ``"softmax"``) and labels (N,) to the (N,) losses.
        With concrete values it raises ``ValueError`` for non-finite logits or labels outside [0, 1] (0…K−1
        for ``"softmax"``); under ``jit`` such a label gives NaN.

    Raises:
        ValueError: if ``loss`` is not one of the four names of :func:`objective`.

    Example:
        >>> per_example_loss("mse")(jnp.array([0.0, 0.0]), jnp.array([1, 0])).tolist()
        [0.25, 0.25]
    """
    fn = _loss_fn(loss)

    def each(logits: Array, labels: Array) -> Array:
        # Concrete labels are checked here, on the whole batch; inside the vmap they are tracers (NaN path).
        _checks.real_array(logits, "logits")
        if loss == "softmax" and jnp.issubdtype(jnp.asarray(labels).dtype, jnp.integer):
            _checks.labels(labels, np.shape(logits)[-1], "labels")
        elif loss != "softmax":
            _checks.real_array(labels, "labels")
            _checks.bounded(labels, "labels", 0.0, 1.0)
        return jax.vmap(lambda z, y: fn(z[None], y[None]))(logits, labels)

    return each


def probabilities(logits: Array) -> Array:
    """f(x) from logits: σ(z) for (N,) binary logits, softmax(z) for (N, K).

    Args:
        logits: z, shape (N,) (binary) or (N, K) (K classes), real and finite.

    Returns:
        The probabilities, same shape as ``logits``: P(C₁ given x) for (N,), each row summing to 1 for (N, K).

    Raises:
        TypeError: if ``logits`` is not a real numeric array (complex, strings).
        ValueError: if ``logits`` is empty, holds NaN or ±∞, or is neither 1-D nor 2-D.

    Example:
        >>> probabilities(jnp.array([0.0, 100.0])).tolist()
        [0.5, 1.0]
    """
    _checks.real_array(logits, "logits", ndim=(1, 2))
    logits = jnp.asarray(logits)
    return jax.nn.sigmoid(logits) if logits.ndim == 1 else jax.nn.softmax(logits, axis=-1)


def accuracy_metric(apply: Apply) -> Callable[[PyTree, tuple[Array, Array]], Array]:
    """``fn(params, (x, ŷ))`` → accuracy, for ``train.fit(..., metrics={"accuracy": ...})``.

    Binary logits (N,) count class 1 when z > 0 (i.e. σ(z) > 0.5; for ``"regression"`` when the score > 0);
    (N, K) logits are compared by argmax.

    Args:
        apply: the model's ``apply(params, x)``, returning logits.

    Returns:
        ``metric(params, (x, ŷ))``, the fraction of examples classified correctly (a scalar in [0, 1]).

    Raises:
        TypeError: if ``apply`` is not callable.
    """
    _checks.callable_(apply, "apply", "a model's apply(params, x) function")

    def metric(params: PyTree, batch: tuple[Array, Array]) -> Array:
        x, y = batch
        return losses.accuracy(apply(params, x), y)

    return metric


def _check_wbxy(w: Any, b: Any, x: Any, y: Any) -> tuple[Array, Array]:
    """x (N, D) and w (D,) finite, b a finite scalar, y (N,) binary labels; returns (x, y as x's float dtype)."""
    _checks.real_array(x, "x", ndim=2)
    _checks.real_array(w, "w", ndim=1)
    _checks.real_array(b, "b", ndim=0)
    if np.shape(w) != np.shape(x)[1:]:
        raise ValueError(f"w must have shape {np.shape(x)[1:]} (one weight per column of x), got {np.shape(w)}")
    if np.shape(y) != np.shape(x)[:1]:
        raise ValueError(f"y must have shape {np.shape(x)[:1]} (one label per row of x), got {np.shape(y)}")
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x, _binary_targets(y, x.dtype, "y")


def cross_entropy_gradient(w: Array, b: Array, x: Array, y: Array) -> tuple[Array, Array]:
    """The lecture's closed form: ∂L/∂wᵢ = −(1/N) Σₙ (ŷⁿ − f(xⁿ)) xᵢⁿ, ∂L/∂b = −(1/N) Σₙ (ŷⁿ − f(xⁿ)).

    Args:
        w: the weights, shape (D,), finite.
        b: the bias, a finite scalar.
        x: the examples, shape (N, D), finite (integers are cast to float).
        y: the labels ŷ, shape (N,), in [0, 1].

    Returns:
        A pair (∂L/∂w of shape (D,), ∂L/∂b a scalar), floating point.

    Raises:
        TypeError: if an input is not a real numeric array.
        ValueError: if ``x`` is not 2-D, ``w`` not 1-D or ``b`` not a scalar, the shapes disagree, a value is
            NaN or ±∞, or a label lies outside [0, 1].

    Example:
        >>> gw, gb = cross_entropy_gradient(jnp.zeros(1), 0.0, jnp.array([[2.0]]), jnp.array([1]))
        >>> float(gw[0]), float(gb)
        (-1.0, -0.5)
    """
    x, y = _check_wbxy(w, b, x, y)
    r = y - jax.nn.sigmoid(x @ w + b)
    return -(x.T @ r) / x.shape[0], -jnp.mean(r)


def mse_gradient(w: Array, b: Array, x: Array, y: Array) -> tuple[Array, Array]:
    """The lecture's closed form for σ + square error: ∂L/∂wᵢ = (2/N) Σₙ (f − ŷ) f (1 − f) xᵢⁿ (and ∂L/∂b).

    Args:
        w: the weights, shape (D,), finite.
        b: the bias, a finite scalar.
        x: the examples, shape (N, D), finite (integers are cast to float).
        y: the labels ŷ, shape (N,), in [0, 1].

    Returns:
        A pair (∂L/∂w of shape (D,), ∂L/∂b a scalar), floating point.

    Raises:
        TypeError: if an input is not a real numeric array.
        ValueError: if ``x`` is not 2-D, ``w`` not 1-D or ``b`` not a scalar, the shapes disagree, a value is
            NaN or ±∞, or a label lies outside [0, 1].

    Example:
        >>> gw, gb = mse_gradient(jnp.zeros(1), 0.0, jnp.array([[2.0]]), jnp.array([1]))
        >>> float(gw[0]), float(gb)
        (-0.5, -0.25)
    """
    x, y = _check_wbxy(w, b, x, y)
    f = jax.nn.sigmoid(x @ w + b)
    s = 2.0 * (f - y) * f * (1.0 - f)
    return (x.T @ s) / x.shape[0], jnp.mean(s)


def distance_features(x: Array, centers: Sequence[Sequence[float]] = ((0.0, 0.0), (1.0, 1.0))) -> Array:
    """The lecture's hand-made XOR transformation x ↦ (‖x − c₁‖, ‖x − c₂‖), default c₁ = (0,0), c₂ = (1,1).

    After it the XOR classes are linearly separable: (0,1) and (1,0) both map to (1, 1), (0,0) to (0, √2) and
    (1,1) to (√2, 0).

    Args:
        x: the points, shape (N, d), finite.
        centers: the centres c₁ … c_M, shape (M, d), finite.

    Returns:
        The distances ‖xⁿ − cₘ‖, shape (N, M).

    Raises:
        TypeError: if ``x`` or ``centers`` is not a real numeric array.
        ValueError: if either is empty or holds NaN or ±∞, or the shapes are not (N, d) and (M, d).

    Example:
        >>> distance_features(jnp.array([[0.0, 1.0], [0.0, 0.0]])).tolist()
        [[1.0, 1.0], [0.0, 1.4142135381698608]]
    """
    _checks.real_array(x, "x")
    _checks.real_array(centers, "centers")
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

    Args:
        in_features: d, the number of features of x.
        hidden: the number of logistic units (the dimension of x′).

    Returns:
        A :class:`jaxml.models.Model` whose params are two layers, ``{"w": (d, hidden), "b": (hidden,)}`` and
        ``{"w": (hidden, 1), "b": (1,)}``, and whose ``apply`` returns the logit, shape (N,).

    Raises:
        TypeError: if a size is not an integer.
        ValueError: if a size is not positive.

    Example:
        >>> [layer["w"].shape for layer in cascade(2, 3).init(0)]
        [(2, 3), (3, 1)]
    """
    return models.mlp(in_features, [hidden], activation=jax.nn.sigmoid)


def hidden_features(params: list[dict[str, Array]], x: Array) -> Array:
    """x′ = σ(W₁x + b₁): the first stage of a :func:`cascade` (the learned transformation).

    Args:
        params: a cascade's parameters (a list of ``{"w", "b"}`` layers; only the first is used).
        x: the examples, shape (N, d), finite.

    Returns:
        x′, shape (N, hidden).

    Raises:
        TypeError: if ``params`` is not a list of ``{"w", "b"}`` layers, or ``x`` is not a real numeric array.
        ValueError: if ``x`` is not 2-D, is empty, holds NaN or ±∞, or has a number of columns other than the
            first layer's inputs.

    Example:
        >>> hidden_features([{"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}], jnp.ones((1, 2))).tolist()
        [[0.5, 0.5, 0.5]]
    """
    ok = isinstance(params, (list, tuple)) and params and isinstance(params[0], dict) and {"w", "b"} <= set(params[0])
    if not ok:
        raise TypeError(f"params must be a cascade's parameters (a list of {{'w', 'b'}} layers), got {params!r:.80}")
    layer = params[0]
    _checks.real_array(x, "x", ndim=2)
    if np.shape(x)[1] != np.shape(layer["w"])[0]:
        raise ValueError(f"x must have shape (N, {np.shape(layer['w'])[0]}) for these params, got {np.shape(x)}")
    return jax.nn.sigmoid(jnp.asarray(x) @ layer["w"] + layer["b"])


def boundary_line(
    w: Array, b: Array | float, lo: Array, hi: Array, points: int = 4001
) -> tuple[np.ndarray, np.ndarray]:
    """Points (x₁, x₂) of the 2-D decision boundary wᵀx + b = 0 inside the box [lo, hi] (for plotting: a steep
    line is clipped instead of stretching the axes). Empty arrays when the line misses the box.

    Args:
        w: the weights, a nonzero 2-vector.
        b: the bias, a scalar.
        lo: the box's lower corner (x₁, x₂).
        hi: the box's upper corner, above ``lo`` in both coordinates.
        points: how many points to place along the line before clipping (at least 2).

    Returns:
        A pair (x₁, x₂) of 1-D float arrays of equal length (at most ``points``): the boundary's points in the box.

    Raises:
        TypeError: if an input is not a real numeric array, or ``points`` is not an integer.
        ValueError: if a value is NaN or ±∞, ``w`` is not a nonzero 2-vector, ``b`` is not a scalar, ``lo`` and
            ``hi`` are not 2-vectors with lo < hi, or ``points`` < 2.

    Example:
        >>> x1, x2 = boundary_line(np.array([1.0, 1.0]), -1.0, np.zeros(2), np.ones(2), points=5)
        >>> np.allclose(x1 + x2, 1.0), len(x1) > 0
        (True, True)
    """
    for value, name in ((w, "w"), (b, "b"), (lo, "lo"), (hi, "hi")):
        _checks.real_array(value, name)
    points = _checks.integer(points, "points", low=2)
    w = np.asarray(w, dtype=float).reshape(-1)
    if w.shape != (2,) or not np.any(w):
        raise ValueError(f"w must be a nonzero 2-vector, got {w}")
    if np.size(b) != 1:
        raise ValueError(f"b must be a scalar, got shape {np.shape(b)}")
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if lo.shape != (2,) or hi.shape != (2,) or np.any(lo >= hi):
        raise ValueError(f"lo and hi must be 2-vectors with lo < hi, got lo {lo} and hi {hi}")
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

    Args:
        objective_fn: ``objective_fn(params, batch)`` → the scalar loss L(θ) (e.g. from :func:`objective`).
        to_params: ``to_params(θ₁, θ₂)`` → the parameter pytree, from two scalars.
        batch: the data the loss is evaluated on, (x, ŷ).

    Returns:
        ``f(X, Y) -> Z``, mapping NumPy grids X and Y of equal shape to the loss L at each (θ₁, θ₂), an array of
        the same shape (compiled on first use). It raises ``ValueError`` when X and Y differ in shape or hold
        NaN or ±∞.

    Raises:
        TypeError: if ``objective_fn`` or ``to_params`` is not callable.
    """
    _checks.callable_(objective_fn, "objective_fn", "an objective(params, batch) function")
    _checks.callable_(to_params, "to_params", "a function (θ₁, θ₂) -> params")
    loss_at = jax.jit(jax.vmap(lambda a, b: objective_fn(to_params(a, b), batch)))

    def f(xg: np.ndarray, yg: np.ndarray) -> np.ndarray:
        _checks.real_array(xg, "X")
        _checks.real_array(yg, "Y")
        _checks.same_shape(xg, yg, "X", "Y")
        xg, yg = np.asarray(xg), np.asarray(yg)
        return np.asarray(loss_at(jnp.asarray(xg.ravel()), jnp.asarray(yg.ravel()))).reshape(xg.shape)

    return f


class SubsetFit(NamedTuple):
    """Parameters of R runs (leading axis R) and the standardization each run applied: x ↦ (x − mean) / std.

    Attributes:
        params: the trained parameters of every run, each leaf with a leading axis R.
        mean: each run's feature means, shape (R, d) (zeros without standardization).
        std: each run's feature standard deviations, shape (R, d) (ones without standardization).
    """

    params: PyTree
    mean: Array
    std: Array

    def logits(self, apply: Apply, x: Array) -> Array:
        """Every run's outputs on the same inputs x, (R, N, …).

        Args:
            apply: the model's ``apply(params, x)``.
            x: the inputs, shape (N, d), unstandardized (each run applies its own standardization).

        Returns:
            The outputs of every run, with a leading axis R.
        """
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
        x: all examples, shape (N, d), finite.
        y: their labels, shape (N,): in [0, 1] for the binary losses, integers 0…K−1 for ``"softmax"``.
        masks: (R, N) 0/1 weights, one row per run.
        key: PRNG key or seed (initialisation).
        epochs: full-batch steps.
        optimizer: the optimizer of every run.
        l2: λ.
        standardize: each run standardizes x with the mean and std of *its own* training subset (a feature
            constant there gets std 1), so nothing is learned from held-out rows.

    Returns:
        :class:`SubsetFit`: the trained parameters (leading axis R) and each run's standardization.

    Raises:
        TypeError: if ``model`` is not a :class:`jaxml.models.Model`, ``key`` is not a PRNG key or an int seed,
            ``epochs`` is not an integer, or an array is not real and numeric (integer labels for
            ``"softmax"``).
        ValueError: if ``loss`` is unknown; ``x`` is not 2-D or holds NaN or ±∞; ``masks`` is not (R, N), holds
            a negative weight or a row selecting no example; ``y`` does not hold N labels in their range;
            ``epochs`` is not positive; ``l2`` is negative or not finite; or ``key`` is a batch of keys.
    """
    if not isinstance(model, models.Model):
        raise TypeError(f"model must be a jaxml.models.Model, got {type(model).__name__}")
    each = per_example_loss(loss)
    _checks.real_array(x, "x", ndim=2)
    _checks.real_array(masks, "masks")
    _checks.real(l2, "l2", low=0.0)
    _checks.positive_int(epochs, "epochs")
    key = _checks.raw_key(key, "key")
    masks = jnp.asarray(masks)
    x, y = jnp.asarray(x), jnp.asarray(y)
    if masks.ndim != 2 or masks.shape[1] != x.shape[0] or masks.shape[0] < 1:
        raise ValueError(f"masks must have shape (R, {x.shape[0]}) with R >= 1, got {masks.shape}")
    _checks.bounded(masks, "masks", 0.0, np.inf)
    if _checks.is_concrete(masks) and np.any(np.asarray(masks).sum(1) <= 0):
        raise ValueError(f"every row of masks must select an example, got an empty row {int(np.argmin(masks.sum(1)))}")
    if np.shape(y)[:1] != (x.shape[0],):
        raise ValueError(f"y must have {x.shape[0]} labels (one per row of x), got shape {np.shape(y)}")
    if loss == "softmax":
        out = jax.eval_shape(model.apply, jax.eval_shape(model.init, jax.random.key(0)), x)
        _checks.labels(y, out.shape[-1] if len(out.shape) > 1 else None, "y")
    else:
        _checks.real_array(y, "y")
        _checks.bounded(y, "y", 0.0, 1.0)
    runs = masks.shape[0]
    k_init, k_fit = jax.random.split(key)
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
