"""Models of the regression lectures as pure ``init(key) -> params`` / ``apply(params, x) -> y`` pairs.

A :class:`Model` is just the two functions; parameters are plain pytrees (dicts of arrays), so ``jax.grad``,
``jax.flatten_util.ravel_pytree`` (the lecture's "all unknowns in one vector θ") and the optimizers see them
directly. A ``flax.linen.Module`` plugs in the same way::

    module = flax.linen.Dense(1)
    model = Model(init=lambda key: module.init(key, jnp.zeros((1, d))), apply=module.apply)

Inputs are (N, d) arrays (1-D inputs may be given as (N,)). ``out_features=None`` means one scalar output per
example, shape (N,); an integer gives (N, out_features).

The lecture's models (SCOPE §1):

* linear            y = b + Σⱼ wⱼxⱼ
* hard sigmoid      0 for x < −2.5, 0.2x + 0.5 on [−2.5, 2.5], 1 for x > 2.5
* piecewise linear  y = c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ)    (exact, from the breakpoints)
* sigmoid sum       y = b + cᵀσ(Wx + **b**)
* ReLU sum          y = b + Σᵢ cᵢ max(0, bᵢ + Σⱼ wᵢⱼxⱼ)
* MLP               stacked layers a = act(Wx + b), any depth and width
* conditional       y = Σₛ δ(category = s)(bₛ + wₛᵀx)

Validation: every constructor checks its sizes (positive integers, naming the argument); ``init`` takes a
PRNG key or an int seed alike; ``apply`` checks that the parameters have this model's structure and shapes
(static, so free under ``jit``) and that x has shape (N, d) and, when concrete, finite values. Under ``jit``
the values of x cannot be inspected; :func:`conditional_linear` then gives NaN for a category outside
0…S−1 instead of a plausible 0.

Example:
    >>> import jax
    >>> from jaxml import models
    >>> model = models.mlp(3, hidden=[16, 16], activation=jax.nn.relu)
    >>> params = model.init(0)                      # an int seed or a key: jax.random.PRNGKey(0) is the same
    >>> model.apply(params, jax.numpy.ones((5, 3))).shape
    (5,)
    >>> models.mlp(3, hidden=[8, 16]).apply(params, jax.numpy.ones((5, 3)))
    Traceback (most recent call last):
    ...
    ValueError: params[0]['b'] must have shape (8,) for this model, got (16,) (parameters of another architecture?)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxml import _checks

Array = jax.Array
PyTree = Any
Activation = Callable[[Array], Array]

__all__ = [
    "HARD_SIGMOID_EDGE",
    "HARD_SIGMOID_SLOPE",
    "Model",
    "PiecewiseLinear",
    "conditional_linear",
    "hard_sigmoid",
    "least_squares",
    "linear",
    "mlp",
    "piecewise_linear",
    "piecewise_linear_apply",
    "polynomial",
    "polynomial_features",
    "relu_sum",
    "sigmoid_sum",
]

#: the hard sigmoid's ramp: 0 below −2.5, slope 0.2, 1 above 2.5 (SCOPE §1.4).
HARD_SIGMOID_EDGE = 2.5
HARD_SIGMOID_SLOPE = 0.2


class Model(NamedTuple):
    """A model: ``init(key) -> params`` and the pure ``apply(params, x) -> y``."""

    init: Callable[[Array], PyTree]
    apply: Callable[[PyTree, Array], Array]


def _as_2d(x: Array, in_features: int, name: str = "x") -> Array:
    _checks.real_array(x, name)
    x = jnp.asarray(x)
    if x.ndim == 1 and in_features == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != in_features:
        raise ValueError(f"{name} must have shape (N, {in_features}), got {x.shape}")
    return x


def _checked(init: Callable[[Array], PyTree], apply: Callable[[PyTree, Any], Array]) -> Model:
    """The model with ``init`` taking keys or int seeds and ``apply`` checking its parameters' shapes."""
    template: list[PyTree] = []  # the parameters' shapes: from the first init, else traced on first apply

    def checked_init(key: Array | int) -> PyTree:
        params = init(_checks.key(key, "key"))
        if not template:  # spares the first apply a trace of init (≈8 ms for an MLP; it is in every first compile)
            template.append(jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), params))
        return params

    def checked_apply(params: PyTree, x: Any) -> Array:
        if not template:
            template.append(jax.eval_shape(init, jax.random.key(0)))
        _checks.tree_shapes(params, template[0], "params")
        return apply(params, x)

    return Model(checked_init, checked_apply)


def _dense_init(key: Array, fan_in: int, fan_out: int) -> dict[str, Array]:
    # LeCun-normal weights keep the pre-activation variance ~1 whatever the width.
    w = jax.random.normal(key, (fan_in, fan_out)) / np.sqrt(fan_in)
    return {"w": w, "b": jnp.zeros((fan_out,))}


def _squeeze_out(y: Array, out_features: int | None) -> Array:
    return y[:, 0] if out_features is None else y


def linear(in_features: int, out_features: int | None = None) -> Model:
    """y = b + Σⱼ wⱼxⱼ (SCOPE §1.3). Zero-initialized: the loss is convex, any start works."""
    in_features = _checks.positive_int(in_features, "in_features")
    width = 1 if out_features is None else _checks.positive_int(out_features, "out_features")

    def init(key: Array) -> dict[str, Array]:
        del key
        return {"w": jnp.zeros((in_features, width)), "b": jnp.zeros((width,))}

    def apply(params: dict[str, Array], x: Array) -> Array:
        return _squeeze_out(_as_2d(x, in_features) @ params["w"] + params["b"], out_features)

    return _checked(init, apply)


def polynomial_features(x: Array, degree: int) -> Array:
    """[x, x², …, x^degree] for 1-D inputs (N,) or (N, 1) → (N, degree); the bias stays in the linear model."""
    degree = _checks.positive_int(degree, "degree")
    _checks.real_array(x, "x")
    x = jnp.asarray(x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"x must have shape (N,) or (N, 1), got {x.shape}")
    return jnp.stack([x**k for k in range(1, degree + 1)], axis=1)


def polynomial(degree: int) -> Model:
    """y = b + Σₖ wₖxᵏ for scalar x: a linear model on :func:`polynomial_features`."""
    degree = _checks.positive_int(degree, "degree")
    base = linear(degree)
    return Model(base.init, lambda params, x: base.apply(params, polynomial_features(x, degree)))


def hard_sigmoid(x: Array) -> Array:
    """0 for x < −2.5, 0.2x + 0.5 on [−2.5, 2.5], 1 for x > 2.5 (SCOPE §1.4).

    Equal to (ReLU(0.2x + 0.5) − ReLU(0.2x − 0.5)): two ReLUs make one hard sigmoid.

    Example:
        >>> hard_sigmoid(jnp.array([-3.0, 0.0, 1.0, 3.0])).tolist()
        [0.0, 0.5, 0.699999988079071, 1.0]
    """
    _checks.real_array(x, "x", allow_empty=True)
    return jnp.clip(HARD_SIGMOID_SLOPE * jnp.asarray(x) + 0.5, 0.0, 1.0)


class PiecewiseLinear(NamedTuple):
    """Parameters of y = c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ)."""

    constant: Array
    a: Array
    b: Array
    c: Array


def piecewise_linear(breakpoints_x: Array, breakpoints_y: Array) -> PiecewiseLinear:
    """The exact "constant + Σ hard sigmoids" form of the piecewise-linear curve through the given points.

    The curve joins (x₀, y₀), …, (x_m, y_m) (x strictly increasing) and is flat outside [x₀, x_m]. Segment i
    is one hard sigmoid whose ramp spans exactly [xᵢ, xᵢ₊₁]: aᵢ = 5/(xᵢ₊₁ − xᵢ) maps the segment onto the ramp
    [−2.5, 2.5], bᵢ = −2.5 − aᵢxᵢ, and its height cᵢ = yᵢ₊₁ − yᵢ; the constant is y₀. This is a construction,
    not a fit: :func:`piecewise_linear_apply` reproduces the curve to rounding error everywhere.
    """
    _checks.real_array(breakpoints_x, "breakpoints_x", ndim=1)
    _checks.real_array(breakpoints_y, "breakpoints_y", ndim=1)
    xs = np.asarray(breakpoints_x, dtype=float)
    ys = np.asarray(breakpoints_y, dtype=float)
    if xs.ndim != 1 or ys.shape != xs.shape or xs.size < 2:
        raise ValueError(
            f"breakpoints_x and breakpoints_y must be 1-D of equal length ≥ 2, got {xs.shape} and {ys.shape}"
        )
    if np.any(np.diff(xs) <= 0):
        raise ValueError("breakpoints_x must be strictly increasing")
    span = 2 * HARD_SIGMOID_EDGE
    a = span / np.diff(xs)
    b = -HARD_SIGMOID_EDGE - a * xs[:-1]
    return PiecewiseLinear(jnp.asarray(ys[0]), jnp.asarray(a), jnp.asarray(b), jnp.asarray(np.diff(ys)))


def piecewise_linear_apply(params: PiecewiseLinear, x: Array) -> Array:
    """Evaluate c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ) at scalar inputs x of shape (N,).

    Example:
        >>> params = piecewise_linear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
        >>> piecewise_linear_apply(params, jnp.array([-1.0, 0.5, 2.0, 5.0])).tolist()
        [0.0, 1.0, 1.5, 1.0]
    """
    if not isinstance(params, PiecewiseLinear):
        raise TypeError(f"params must be a PiecewiseLinear (from piecewise_linear), got {type(params).__name__}")
    if not (np.ndim(params.a) == 1 and np.shape(params.b) == np.shape(params.a) == np.shape(params.c)):
        raise ValueError(
            f"params.a, params.b and params.c must be 1-D of equal length, got shapes {np.shape(params.a)}, "
            f"{np.shape(params.b)} and {np.shape(params.c)}"
        )
    _checks.real_array(x, "x")
    x = jnp.asarray(x)
    return params.constant + hard_sigmoid(x[..., None] * params.a + params.b) @ params.c


def _hidden_sum(in_features: int, units: int, activation: Activation) -> Model:
    in_features = _checks.positive_int(in_features, "in_features")
    units = _checks.positive_int(units, "units")

    def init(key: Array) -> dict[str, Any]:
        k1, k2, k3 = jax.random.split(key, 3)
        return {
            "hidden": {"w": jax.random.normal(k1, (in_features, units)), "b": jax.random.normal(k2, (units,))},
            "c": jax.random.normal(k3, (units,)) / np.sqrt(units),
            "b": jnp.zeros(()),
        }

    def apply(params: dict[str, Any], x: Array) -> Array:
        r = _as_2d(x, in_features) @ params["hidden"]["w"] + params["hidden"]["b"]
        return params["b"] + activation(r) @ params["c"]

    return _checked(init, apply)


def sigmoid_sum(in_features: int, units: int) -> Model:
    """y = b + cᵀσ(Wx + **b**): r = Wx + **b**, a = σ(r), y = b + cᵀa (SCOPE §1.5)."""
    return _hidden_sum(in_features, units, jax.nn.sigmoid)


def relu_sum(in_features: int, units: int) -> Model:
    """y = b + Σᵢ cᵢ max(0, bᵢ + Σⱼ wᵢⱼxⱼ) (SCOPE §1.6)."""
    return _hidden_sum(in_features, units, jax.nn.relu)


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int | None = None,
    activation: Activation = jax.nn.relu,
) -> Model:
    """A multilayer perceptron: ``len(hidden)`` layers a = act(Wx + b), then a linear output layer.

    ``hidden=[]`` is a linear model. Params: a list of {"w": (fan_in, fan_out), "b": (fan_out,)}.
    """
    in_features = _checks.positive_int(in_features, "in_features")
    hidden = _checks.positive_ints(hidden, "hidden")
    width = 1 if out_features is None else _checks.positive_int(out_features, "out_features")
    _checks.callable_(activation, "activation", "a function of an array (e.g. jax.nn.relu)")
    sizes = [in_features, *hidden, width]

    def init(key: Array) -> list[dict[str, Array]]:
        keys = jax.random.split(key, len(sizes) - 1)
        return [_dense_init(k, fi, fo) for k, fi, fo in zip(keys, sizes[:-1], sizes[1:])]

    def apply(params: list[dict[str, Array]], x: Array) -> Array:
        h = _as_2d(x, in_features)
        for layer in params[:-1]:
            h = activation(h @ layer["w"] + layer["b"])
        return _squeeze_out(h @ params[-1]["w"] + params[-1]["b"], out_features)

    return _checked(init, apply)


def conditional_linear(num_categories: int, in_features: int) -> Model:
    """y = Σₛ δ(category = s)(bₛ + wₛᵀx): one linear model per category (SCOPE §1.8).

    ``apply(params, (category, x))`` takes integer categories 0…S−1 (N,) and features (N, in_features). A
    category outside 0…S−1 raises ``ValueError``; under ``jit`` its output is NaN (never a silent 0).

    Example:
        >>> model = conditional_linear(2, 1)
        >>> params = {"w": jnp.array([[1.0], [-1.0]]), "b": jnp.array([0.0, 10.0])}
        >>> model.apply(params, (jnp.array([0, 1]), jnp.array([[2.0], [2.0]]))).tolist()
        [2.0, 8.0]
    """
    num_categories = _checks.positive_int(num_categories, "num_categories")
    in_features = _checks.positive_int(in_features, "in_features")

    def init(key: Array) -> dict[str, Array]:
        del key
        return {"w": jnp.zeros((num_categories, in_features)), "b": jnp.zeros((num_categories,))}

    def apply(params: dict[str, Array], inputs: tuple[Array, Array]) -> Array:
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise TypeError(f"inputs must be a pair (category, x), got {type(inputs).__name__}")
        category, x = inputs
        category_dtype = getattr(category, "dtype", None) or np.asarray(category).dtype
        if not jnp.issubdtype(category_dtype, jnp.integer):
            raise TypeError(f"category must be an integer array, got {category_dtype}")
        _checks.labels(category, num_categories, "category")
        category = jnp.asarray(category)
        x = _as_2d(x, in_features)
        if category.shape != x.shape[:1]:
            raise ValueError(f"category must have shape ({x.shape[0]},) like the rows of x, got {category.shape}")
        # δ(category = s) as a one-hot row: a gather would do, but the sum keeps the lecture's form visible.
        delta = jax.nn.one_hot(category, num_categories, dtype=x.dtype)
        y = jnp.sum(delta * (x @ params["w"].T + params["b"]), axis=-1)
        return _checks.nan_unless(y, _checks.labels_valid(category, num_categories))

    return _checked(init, apply)


def least_squares(x: Array, y: Array, l2: float = 0.0) -> dict[str, Array]:
    """Closed-form (ridge) least squares for :func:`linear`: θ* = argmin mean (b + xᵀw − y)² + λ‖w‖².

    The bias is not penalized: with centred data, w* = (XᶜᵀXᶜ/N + λI)⁻¹ Xᶜᵀyᶜ/N and b* = ȳ − x̄ᵀw*.
    With λ = 0 this is the minimum-norm least-squares solution (``lstsq``), the oracle gradient descent must
    reach. Returns params for ``linear(d)`` (scalar output).

    Example:
        >>> x = jnp.array([[0.0], [1.0], [2.0]])
        >>> theta = least_squares(x, 3.0 * x[:, 0] + 1.0)
        >>> [round(float(v), 4) for v in (theta["w"][0, 0], theta["b"][0])]
        [3.0, 1.0]
    """
    _checks.real_array(x, "x", ndim=2)
    _checks.real_array(y, "y", ndim=1)
    _checks.real(l2, "l2", low=0.0)
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    if y.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, d) and y (N,), got x {x.shape} and y {y.shape}")
    n = x.shape[0]
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc, yc = x - x_mean, y - y_mean
    if l2 == 0:
        w = jnp.linalg.lstsq(xc, yc)[0]
    else:
        w = jnp.linalg.solve(xc.T @ xc / n + l2 * jnp.eye(x.shape[1], dtype=x.dtype), xc.T @ yc / n)
    return {"w": w[:, None], "b": (y_mean - x_mean @ w)[None]}
