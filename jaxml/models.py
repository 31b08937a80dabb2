"""Models of the regression lectures as pure ``init(key) -> params`` / ``apply(params, x) -> y`` pairs.

A :class:`Model` is just the two functions; parameters are plain pytrees (dicts of arrays), so ``jax.grad``,
``jax.flatten_util.ravel_pytree`` (the lecture's "all unknowns in one vector θ") and the optimizers see them
directly.

The lecture's models (course §1):

* linear            y = b + Σⱼ wⱼxⱼ
* hard sigmoid      0 for x < −2.5, 0.2x + 0.5 on [−2.5, 2.5], 1 for x > 2.5
* piecewise linear  y = c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ)    (exact, from the breakpoints)
* sigmoid sum       y = b + cᵀσ(Wx + **b**)
* ReLU sum          y = b + Σᵢ cᵢ max(0, bᵢ + Σⱼ wᵢⱼxⱼ)
* MLP               stacked layers a = act(Wx + b), any depth and width
* conditional       y = Σₛ δ(category = s)(bₛ + wₛᵀx)

One example or a batch
----------------------
Every ``apply`` takes one example or a batch of N, told apart by the shape of x (d = ``in_features``):

* one example, x of shape (d,): its output, a scalar () for a scalar-output model, (out_features,) otherwise;
* a batch, x of shape (N, d): the outputs (N,) or (N, out_features), row n from example n.

So ``jax.vmap(lambda x: model.apply(params, x))(X)`` equals ``model.apply(params, X)``, and per-example
gradients gₙ = ∇θ L(θ; xₙ, yₙ) are the usual JAX idiom (each leaf gets a leading axis N; their mean is the
gradient of the mean loss)::

    loss = lambda p, x, y: losses.mse(model.apply(p, x), y)          # x (d,), y (): one example
    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, X, Y)

A 1-feature model (d = 1: ``linear(1)``, :func:`polynomial`, ``mlp(1, …)``) keeps reading a 1-D x as a batch:
x of shape (N,) is N examples, like (N, 1), and one example is a scalar x of shape (). A 1-D x of shape (1,) is
therefore a batch of one (output (1,)), never one example: that keeps mini-batches of B = 1 the shape of their
targets. Vmap a 1-feature model over x of shape (N,) (each example then is ()); over (N, 1) each example is a
(1,) batch and the outputs stack to (N, 1). :func:`conditional_linear` has no such ambiguity: its category,
() or (N,), says which it is. Any other shape of x is a ``ValueError`` naming the shapes expected and got.

Output width: ``out_features=None`` (the default of :func:`linear` and :func:`mlp`) is a scalar-output model,
y of shape (N,) for a batch and () for one example — the shape of the targets y that ``losses.mse(pred, y)``
compares with. ``out_features=1`` keeps the axis: (N, 1) and (1,). The parameters are the same either way.

Models from other libraries: flax, equinox
------------------------------------------
:func:`jaxml.train.fit` and :mod:`jaxml.curvature` take any parameter pytree θ and an objective
``objective(θ, batch) -> scalar``; they never need a :class:`Model`. A ``flax.linen`` module's params dict goes in
as it is::

    module = flax.linen.Dense(1)
    model = Model(init=lambda key: module.init(key, jnp.zeros((1, d))), apply=module.apply)
    objective = train.supervised(lambda p, x: model.apply(p, x)[..., 0], losses.mse)
    result = train.fit(objective, model.init(key), optax.sgd(0.1), (x, y), key=0, epochs=100)

An equinox module is one pytree holding both its float arrays (θ) and everything else (the activation
function, sizes), and the trainer differentiates every leaf it is given. Split the module with
``eqx.partition`` and put it back together inside the objective with ``eqx.combine``; an equinox module maps one
example, so vmap it over the batch::

    import equinox as eqx
    net = eqx.nn.MLP(in_size=d, out_size="scalar", width_size=16, depth=1, key=jax.random.PRNGKey(0))
    params, static = eqx.partition(net, eqx.is_inexact_array)   # θ, and the rest (None where θ has arrays)
    apply = lambda p, x: jax.vmap(eqx.combine(p, static))(x)    # (N, d) -> (N,)
    objective = train.supervised(apply, losses.mse)
    result = train.fit(objective, params, optax.sgd(0.1), (x, y), key=0, epochs=100)
    net = eqx.combine(result.params, static)                    # the trained module
    H = curvature.hessian(objective, result.params, data=(x, y))  # rows in ravel_pytree(params) order

``params`` is the module with ``None`` in place of its non-array fields, a pytree that ``fit``, the optimizers
and ``curvature`` take as any other; ``Model(init=..., apply=apply)`` makes it a :class:`Model`.
``tests/test_ecosystem.py`` runs both recipes against hand-written optax loops and ``jax.hessian``.

Validation: every constructor checks its sizes (positive integers, naming the argument); ``init`` takes a
PRNG key or an int seed alike; ``apply`` checks that the parameters have this model's structure and shapes
(static, so free under ``jit``) and that x has one of the shapes above and, when concrete, finite values.
Under ``jit`` the values of x cannot be inspected; :func:`conditional_linear` then gives NaN for a category
outside 0…S−1 instead of a plausible 0.

Example:
    >>> import jax
    >>> from jaxml import models
    >>> model = models.mlp(3, hidden=[16, 16], activation=jax.nn.relu)
    >>> params = model.init(0)                      # an int seed or a key: jax.random.PRNGKey(0) is the same
    >>> model.apply(params, jax.numpy.ones((5, 3))).shape         # a batch of 5
    (5,)
    >>> model.apply(params, jax.numpy.ones(3)).shape              # one example
    ()
    >>> jax.vmap(lambda x: model.apply(params, x))(jax.numpy.ones((5, 3))).shape
    (5,)
    >>> model.apply(params, jax.numpy.ones((5, 2)))
    Traceback (most recent call last):
    ...
    ValueError: x must have shape (3,) for one example or (N, 3) for a batch of N, got (5, 2)
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

#: the edge of the hard sigmoid's ramp — 0 below −2.5, slope 0.2 between, 1 above 2.5 (course §1.4).
HARD_SIGMOID_EDGE = 2.5
#: the slope of the hard sigmoid's ramp on [−2.5, 2.5], 0.2 = 1 / (2 · 2.5), so the ramp rises from 0 to 1.
HARD_SIGMOID_SLOPE = 0.2


class Model(NamedTuple):
    """A model: ``init(key) -> params`` and the pure ``apply(params, x) -> y``, x one example or a batch.

    One example x (in_features,) gives its output y, () or (out_features,); a batch (N, in_features) gives
    (N,) or (N, out_features). A 1-feature model reads a 1-D x as N examples and a scalar () as one example.

    Attributes:
        init: ``init(key) -> params``: the initial parameter pytree θ from a PRNG key or an int seed.
        apply: ``apply(params, x) -> y``: the pure forward pass, for one example or a batch.
    """

    init: Callable[[Array], PyTree]
    apply: Callable[[PyTree, Array], Array]


def _shape_error(name: str, in_features: int, shape: tuple[int, ...]) -> ValueError:
    if in_features == 1:
        want = "() for one example or (N,) or (N, 1) for a batch of N (a 1-D x is N examples of one feature)"
    else:
        want = f"({in_features},) for one example or (N, {in_features}) for a batch of N"
    return ValueError(f"{name} must have shape {want}, got {tuple(shape)}")


def _examples(x: Array, in_features: int, name: str = "x") -> tuple[Array, bool]:
    """x as a batch (N, in_features), and whether it was one example (then N = 1; the caller drops the axis).

    One example is (in_features,), a batch (N, in_features). For in_features = 1 a 1-D x stays what it always
    was, a batch (N,) of N scalars (so (1,) is a batch of one), and one example is a scalar ().
    """
    _checks.real_array(x, name)
    x = jnp.asarray(x)
    if in_features == 1 and x.ndim <= 1:
        return x.reshape(-1, 1), x.ndim == 0
    if x.ndim == 1 and x.shape[0] == in_features:
        return x[None], True
    if x.ndim == 2 and x.shape[1] == in_features:
        return x, False
    raise _shape_error(name, in_features, x.shape)


def _outputs(y: Array, one: bool, out_features: int | None) -> Array:
    """The (N, width) outputs as the model returns them: (N,) for a scalar-output model (out_features=None),
    and without the batch axis for one example."""
    y = y[:, 0] if out_features is None else y
    return y[0] if one else y


def _checked(init: Callable[[Array], PyTree], apply: Callable[[PyTree, Any], Array]) -> Model:
    """The model with ``init`` taking keys or int seeds and ``apply`` checking its parameters' shapes."""
    template: list[PyTree] = []  # the parameters' shapes: from the first init, else traced on first apply

    def checked_init(key: Array | int) -> PyTree:
        params = init(_checks.key(key, "key"))
        if not template:  # the shapes are at hand here: spares the first apply a trace of init in its compile
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


def linear(in_features: int, out_features: int | None = None) -> Model:
    """y = b + Σⱼ wⱼxⱼ (course §1.3). Zero-initialized: the loss is convex, any start works.

    Args:
        in_features: d, the number of features of one example.
        out_features: ``None`` for a scalar-output model, y of shape (N,) for x (N, d) and () for one example
            x (d,); an integer k gives (N, k) and (k,) (so ``out_features=1`` keeps a width-1 axis, (N, 1)).
            Params: {"w": (d, k), "b": (k,)}, k = 1 for ``None``.

    Returns:
        The :class:`Model`; its ``apply`` takes one example or a batch (see the module docstring; for d = 1 a
        1-D x is a batch of N scalars and one example is a scalar ()).

    Raises:
        TypeError: if a size is not an integer; from ``apply``, x that is not a real numeric array.
        ValueError: if a size is < 1; from ``apply``, parameters of another shape, or x of another shape,
            empty or (when concrete) not finite.

    Example:
        >>> model = linear(2)
        >>> params = {"w": jnp.array([[1.0], [2.0]]), "b": jnp.array([0.5])}
        >>> model.apply(params, jnp.array([[1.0, 1.0], [0.0, 1.0]])).tolist()   # a batch: (N,)
        [3.5, 2.5]
        >>> model.apply(params, jnp.array([1.0, 1.0])).tolist()                 # one example: ()
        3.5
        >>> linear(2, out_features=1).apply(params, jnp.array([1.0, 1.0])).tolist()
        [3.5]
    """
    in_features = _checks.positive_int(in_features, "in_features")
    width = 1 if out_features is None else _checks.positive_int(out_features, "out_features")

    def init(key: Array) -> dict[str, Array]:
        del key
        return {"w": jnp.zeros((in_features, width)), "b": jnp.zeros((width,))}

    def apply(params: dict[str, Array], x: Array) -> Array:
        x, one = _examples(x, in_features)
        return _outputs(x @ params["w"] + params["b"], one, out_features)

    return _checked(init, apply)


def polynomial_features(x: Array, degree: int) -> Array:
    """[x, x², …, x^degree]: scalar inputs (N,) or (N, 1) → (N, degree), one scalar () → (degree,).

    The bias stays in the linear model.

    Args:
        x: scalar inputs: one input of shape (), or N inputs of shape (N,) or (N, 1); real and finite.
        degree: the highest power, ≥ 1.

    Returns:
        The powers x¹ … x^degree along a last axis: (N, degree) for N inputs, (degree,) for one.

    Raises:
        TypeError: if ``degree`` is not an integer or ``x`` is not a real numeric array.
        ValueError: if ``degree`` < 1, or ``x`` is empty, not finite (when concrete) or of another shape.

    Example:
        >>> polynomial_features(jnp.array([1.0, 2.0]), 3).tolist()
        [[1.0, 1.0, 1.0], [2.0, 4.0, 8.0]]
        >>> polynomial_features(jnp.array(2.0), 3).tolist()
        [2.0, 4.0, 8.0]
    """
    degree = _checks.positive_int(degree, "degree")
    _checks.real_array(x, "x")
    x = jnp.asarray(x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim > 1:
        raise ValueError(f"x must have shape () for one input or (N,) or (N, 1) for N inputs, got {x.shape}")
    return jnp.stack([x**k for k in range(1, degree + 1)], axis=-1)


def polynomial(degree: int) -> Model:
    """y = b + Σₖ wₖxᵏ for scalar x: a linear model on :func:`polynomial_features`.

    A 1-feature model: ``apply`` takes N inputs as (N,) or (N, 1) → (N,), and one input as a scalar () → ().

    Args:
        degree: the highest power, ≥ 1.

    Returns:
        The :class:`Model`; params ``{"w": (degree, 1), "b": (1,)}``, zero-initialized (those of
        ``linear(degree)``).

    Raises:
        TypeError: if ``degree`` is not an integer; from ``apply``, x that is not a real numeric array.
        ValueError: if ``degree`` < 1; from ``apply``, parameters of another shape, or x of another shape,
            empty or (when concrete) not finite.

    Example:
        >>> model = polynomial(2)
        >>> params = {"w": jnp.array([[0.0], [1.0]]), "b": jnp.array([1.0])}     # y = 1 + x²
        >>> model.apply(params, jnp.array([1.0, 3.0])).tolist(), model.apply(params, jnp.array(2.0)).tolist()
        ([2.0, 10.0], 5.0)
    """
    degree = _checks.positive_int(degree, "degree")
    base = linear(degree)

    def apply(params: dict[str, Array], x: Array) -> Array:
        x, one = _examples(x, 1)
        # Features of the (N, 1) batch are (N, degree), a batch for the base model even when degree = 1.
        return _outputs(base.apply(params, polynomial_features(x, degree))[:, None], one, None)

    return Model(base.init, apply)


def hard_sigmoid(x: Array) -> Array:
    """0 for x < −2.5, 0.2x + 0.5 on [−2.5, 2.5], 1 for x > 2.5 (course §1.4).

    Equal to (ReLU(0.2x + 0.5) − ReLU(0.2x − 0.5)): two ReLUs make one hard sigmoid.

    Args:
        x: inputs of any shape (empty allowed), real; finite when concrete.

    Returns:
        The hard sigmoid of each entry, the shape of ``x``, floating-point, in [0, 1].

    Raises:
        TypeError: if ``x`` is not a real numeric array.
        ValueError: if a concrete ``x`` holds NaN or ±inf.

    Example:
        >>> hard_sigmoid(jnp.array([-3.0, 0.0, 1.0, 3.0])).tolist()
        [0.0, 0.5, 0.699999988079071, 1.0]
    """
    _checks.real_array(x, "x", allow_empty=True)
    return jnp.clip(HARD_SIGMOID_SLOPE * jnp.asarray(x) + 0.5, 0.0, 1.0)


class PiecewiseLinear(NamedTuple):
    """Parameters of y = c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ), m hard sigmoids (see :func:`piecewise_linear`).

    Attributes:
        constant: c₀, shape ().
        a: the slopes aᵢ of the sigmoids' inputs, shape (m,).
        b: the offsets bᵢ of the sigmoids' inputs, shape (m,).
        c: the heights cᵢ of the sigmoids, shape (m,).
    """

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

    Args:
        breakpoints_x: x₀ < … < x_m, 1-D, strictly increasing, m ≥ 1.
        breakpoints_y: y₀, …, y_m, 1-D, the same length.

    Returns:
        The :class:`PiecewiseLinear` parameters: c₀ = y₀ and m = (number of breakpoints − 1) hard sigmoids.

    Raises:
        TypeError: if a breakpoint array is not real and numeric.
        ValueError: if either is not 1-D, is empty or not finite, the lengths differ, there are fewer than 2
            breakpoints, or ``breakpoints_x`` is not strictly increasing.
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
    """Evaluate c₀ + Σᵢ cᵢ·hard_sigmoid(aᵢx + bᵢ) at scalar inputs x, element-wise: one input () → (), a batch
    (N,) → (N,) (any shape works, so ``jax.vmap`` over x gives the batch's values).

    Args:
        params: a :class:`PiecewiseLinear`, e.g. from :func:`piecewise_linear`.
        x: scalar inputs of any shape, real; finite when concrete.

    Returns:
        The curve's values, the shape of ``x``.

    Raises:
        TypeError: if ``params`` is not a :class:`PiecewiseLinear` or ``x`` is not a real numeric array.
        ValueError: if ``params.a``, ``params.b`` and ``params.c`` are not 1-D of equal length, or ``x`` is
            empty or (when concrete) not finite.

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
        x, one = _examples(x, in_features)
        r = x @ params["hidden"]["w"] + params["hidden"]["b"]
        return _outputs((params["b"] + activation(r) @ params["c"])[:, None], one, None)

    return _checked(init, apply)


def sigmoid_sum(in_features: int, units: int) -> Model:
    """y = b + cᵀσ(Wx + **b**): r = Wx + **b**, a = σ(r), y = b + cᵀa (course §1.5).

    Scalar output: x (N, in_features) → (N,), one example (in_features,) → ().

    Args:
        in_features: d, the number of features of one example.
        units: the number of hidden units (the number of sigmoids in the sum).

    Returns:
        The :class:`Model`; params ``{"hidden": {"w": (d, units), "b": (units,)}, "c": (units,), "b": ()}``,
        initialized with W and **b** ~ N(0, 1), c ~ N(0, 1/units) and b = 0.

    Raises:
        TypeError: if a size is not an integer; from ``apply``, x that is not a real numeric array.
        ValueError: if a size is < 1; from ``apply``, parameters of another shape, or x of another shape,
            empty or (when concrete) not finite.
    """
    return _hidden_sum(in_features, units, jax.nn.sigmoid)


def relu_sum(in_features: int, units: int) -> Model:
    """y = b + Σᵢ cᵢ max(0, bᵢ + Σⱼ wᵢⱼxⱼ) (course §1.6).

    Scalar output: x (N, in_features) → (N,), one example (in_features,) → ().

    Args:
        in_features: d, the number of features of one example.
        units: the number of hidden units (the number of ReLUs in the sum).

    Returns:
        The :class:`Model`; params ``{"hidden": {"w": (d, units), "b": (units,)}, "c": (units,), "b": ()}``,
        initialized with W and **b** ~ N(0, 1), c ~ N(0, 1/units) and b = 0.

    Raises:
        TypeError: if a size is not an integer; from ``apply``, x that is not a real numeric array.
        ValueError: if a size is < 1; from ``apply``, parameters of another shape, or x of another shape,
            empty or (when concrete) not finite.
    """
    return _hidden_sum(in_features, units, jax.nn.relu)


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int | None = None,
    activation: Activation = jax.nn.relu,
) -> Model:
    """A multilayer perceptron: ``len(hidden)`` layers a = act(Wx + b), then a linear output layer.

    Args:
        in_features: d, the number of features of one example.
        hidden: the widths of the hidden layers; ``[]`` is a linear model.
        out_features: ``None`` for a scalar-output model: y of shape (N,) for x (N, d) and () for one example x
            (d,) — the output layer has width 1 and its axis is dropped. An integer k gives (N, k) and (k,); so
            ``out_features=1`` keeps the width-1 axis, (N, 1), with the same parameters as ``None``.
        activation: act, applied after every hidden layer (not after the output layer).

    Returns:
        The :class:`Model`; params are a list of {"w": (fan_in, fan_out), "b": (fan_out,)}, LeCun-normal
        weights and zero biases. ``apply`` takes one example or a batch (see the module docstring).

    Raises:
        TypeError: if a size (or a width in ``hidden``) is not an integer, ``hidden`` is not a sequence, or
            ``activation`` is not callable; from ``apply``, x that is not a real numeric array.
        ValueError: if a size or width is < 1; from ``apply``, parameters of another architecture, or x of
            another shape, empty or (when concrete) not finite.

    Example:
        >>> params = mlp(2, [3]).init(0)
        >>> x = jnp.ones((4, 2))
        >>> mlp(2, [3]).apply(params, x).shape, mlp(2, [3], out_features=1).apply(params, x).shape
        ((4,), (4, 1))
        >>> mlp(2, [3]).apply(params, x[0]).shape, mlp(2, [3], out_features=1).apply(params, x[0]).shape
        ((), (1,))
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
        h, one = _examples(x, in_features)
        for layer in params[:-1]:
            h = activation(h @ layer["w"] + layer["b"])
        return _outputs(h @ params[-1]["w"] + params[-1]["b"], one, out_features)

    return _checked(init, apply)


def conditional_linear(num_categories: int, in_features: int) -> Model:
    """y = Σₛ δ(category = s)(bₛ + wₛᵀx): one linear model per category (course §1.8).

    ``apply(params, (category, x))`` takes a batch, integer categories 0…S−1 of shape (N,) and features
    (N, in_features) → (N,), or one example, a category of shape () and features (in_features,) → (). The
    category's shape says which, so for in_features = 1 one example's x may be () or (1,), and a batch's x (N,)
    or (N, 1); ``jax.vmap`` over ``(category, x)`` gives the batch's outputs. A category outside 0…S−1 raises
    ``ValueError``; under ``jit`` its output is NaN (never a silent 0).

    Args:
        num_categories: S, the number of categories (and of linear models).
        in_features: d, the number of features of one example.

    Returns:
        The :class:`Model`; params ``{"w": (S, d), "b": (S,)}``, zero-initialized; its ``apply`` takes
        ``(category, x)`` as above.

    Raises:
        TypeError: if a size is not an integer; from ``apply``, inputs that are not a pair (category, x), a
            category that is not integer, or x that is not a real numeric array.
        ValueError: if a size is < 1; from ``apply``, parameters of another shape, a (concrete) category
            outside 0…S−1, shapes of category and x that do not match, or x empty or not finite.

    Example:
        >>> model = conditional_linear(2, 1)
        >>> params = {"w": jnp.array([[1.0], [-1.0]]), "b": jnp.array([0.0, 10.0])}
        >>> model.apply(params, (jnp.array([0, 1]), jnp.array([[2.0], [2.0]]))).tolist()
        [2.0, 8.0]
        >>> model.apply(params, (jnp.array(1), jnp.array([2.0]))).tolist()
        8.0
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
        _checks.real_array(x, "x")
        if category.ndim == 0 and in_features == 1 and np.shape(x) == (1,):
            x = jnp.reshape(x, ())  # one example's single feature: the scalar category disambiguates (1,)
        given = np.shape(x)
        x, one = _examples(x, in_features)
        if one != (category.ndim == 0) or (not one and category.shape != x.shape[:1]):
            if in_features == 1:
                want = "() and () or (1,) for one example, or (N,) and (N,) or (N, 1) for a batch of N"
            else:
                want = f"() and ({in_features},) for one example, or (N,) and (N, {in_features}) for a batch of N"
            raise ValueError(
                f"category and x must have shapes {want} (category's length = x's rows), "
                f"got category {tuple(category.shape)} and x {given}"
            )
        category = jnp.reshape(category, (x.shape[0],))
        # δ(category = s) as a one-hot row: a gather would do, but the sum keeps the lecture's form visible.
        delta = jax.nn.one_hot(category, num_categories, dtype=x.dtype)
        y = jnp.sum(delta * (x @ params["w"].T + params["b"]), axis=-1)
        y = _checks.nan_unless(y, _checks.labels_valid(category, num_categories))
        return y[0] if one else y

    return _checked(init, apply)


def least_squares(x: Array, y: Array, l2: float = 0.0) -> dict[str, Array]:
    """Closed-form (ridge) least squares for :func:`linear`: θ⋆ = argmin mean (b + xᵀw − y)² + λ‖w‖².

    The bias is not penalized: with centred data, w⋆ = (XᶜᵀXᶜ/N + λI)⁻¹ Xᶜᵀyᶜ/N and b⋆ = ȳ − x̄ᵀw⋆.
    With λ = 0 this is the minimum-norm least-squares solution (``lstsq``), the oracle gradient descent must
    reach. Returns params for ``linear(d)`` (scalar output).

    Args:
        x: the features X, shape (N, d), real and finite.
        y: the targets, shape (N,), real and finite.
        l2: λ, the ridge penalty on w, ≥ 0 (0: plain least squares).

    Returns:
        The parameters θ⋆ as ``{"w": (d, 1), "b": (1,)}``, the params of ``linear(d)``.

    Raises:
        TypeError: if ``x`` or ``y`` is not a real numeric array, or ``l2`` is not a real number.
        ValueError: if ``x`` is not 2-D or ``y`` not 1-D, their numbers of rows differ, either is empty or not
            finite, or ``l2`` is negative or not finite.

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
