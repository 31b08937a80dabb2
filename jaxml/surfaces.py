r"""Two-parameter error surfaces L(θ₁, θ₂) for watching optimizers move (course §4), and :func:`trajectory`.

Each surface is a pure function of θ whose **leading axis has length 2** and which is vectorised over any
trailing axes: ``f(θ)`` with θ of shape (2,) is a scalar (differentiable: ``jax.grad(f)``), and with θ of
shape (2, H, W) — e.g. ``np.stack([X, Y])`` of a mesh grid — it is the (H, W) grid of losses for a contour
plot. :func:`on_grid` turns one into the ``f(X, Y)`` form that :func:`jaxml.plot.contour` takes.

Validation: θ must have a leading axis of length 2 (checked from the shape, also under ``jit``) and, when
concrete, finite values; under ``jit``/``grad`` the values are not inspected and a NaN θ gives a NaN loss.

The :class:`Surface` records (``ELONGATED``, ``CRESCENT``, ``SADDLE``, ``DOUBLE_WELL``) bundle a surface with
its known minimum, a start point and plotting limits. The surfaces:

* :func:`elongated` — a convex quadratic whose curvatures differ 1000-fold (the lecture's error surface where a
  fixed η either bounces between the walls or crawls along the floor while ‖g‖ is still large);
* :func:`crescent` — a Rosenbrock banana (1−θ₁)² + b(θ₂−θ₁²)² (steep walls, a flat curved floor);
* :func:`saddle` — the lecture's L = (1 − θ₁θ₂)² (course §3.2): a saddle at 0, minima on θ₁θ₂ = 1;
* :func:`double_well` — a tilted double well: a shallow local minimum that plain gradient descent settles in
  and momentum rolls through to the global one.

Example:
    >>> import jax, numpy as np
    >>> from jaxml import optim, surfaces
    >>> float(surfaces.elongated(np.array([0.0, 0.0])))
    0.0
    >>> X, Y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4))
    >>> surfaces.on_grid(surfaces.crescent)(X, Y).shape
    (4, 5)
    >>> traj = surfaces.trajectory(surfaces.crescent, optim.adam(0.05), np.array([-1.5, 2.0]), steps=100)
    >>> traj.theta.shape, traj.loss.shape
    ((101, 2), (101,))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import _checks
from jaxml.optim.combine import numeric_pytree

__all__ = [
    "CRESCENT",
    "DOUBLE_WELL",
    "ELONGATED",
    "SADDLE",
    "Surface",
    "Trajectory",
    "crescent",
    "double_well",
    "double_well_critical_points",
    "elongated",
    "on_grid",
    "saddle",
    "trajectory",
]

SurfaceFn = Callable[[Any], jax.Array]

#: curvatures of :func:`elongated`: ∂²L/∂θ₁² and ∂²L/∂θ₂²
ELONGATED_CURVATURE = (0.1, 100.0)
#: the steepness b of :func:`crescent`
CRESCENT_B = 100.0
#: the tilt of :func:`double_well`
DOUBLE_WELL_TILT = 0.5


def _theta(theta: Any) -> Any:
    """θ with a leading axis of length 2, real and (when concrete) finite; shapes are free to check under jit."""
    _checks.real_array(theta, "theta")
    if np.ndim(theta) < 1 or np.shape(theta)[0] != 2:
        raise ValueError(f"theta must have a leading axis of length 2 (θ₁, θ₂), got shape {np.shape(theta)}")
    return theta


def elongated(theta: Any) -> jax.Array:
    r"""L = ½(a θ₁² + b θ₂²), a = 0.1, b = 100: convex, minimum 0 at θ = 0, Hessian diag(a, b) (κ = 1000).

    Gradient descent is stable only for η < 2/b = 0.02, and then moves along θ₁ by a factor (1 − ηa) ≥ 0.998
    per step: any fixed η is either too large for θ₂ or too small for θ₁.

    Args:
        theta: θ, a real array of shape (2, ...): (θ₁, θ₂) along the leading axis, any trailing axes.

    Returns:
        jax.Array: L(θ), of shape ``theta.shape[1:]`` (a scalar for θ of shape (2,)).

    Raises:
        TypeError: if ``theta`` is not a real numeric array (e.g. complex or strings).
        ValueError: if ``theta`` has no leading axis of length 2, or (when concrete) is empty or not finite.
    """
    a, b = ELONGATED_CURVATURE
    theta = _theta(theta)
    return 0.5 * (a * theta[0] ** 2 + b * theta[1] ** 2)


def crescent(theta: Any) -> jax.Array:
    r"""L = (1 − θ₁)² + b(θ₂ − θ₁²)², b = 100: a crescent-shaped valley (Rosenbrock), minimum 0 at (1, 1).

    Args:
        theta: θ, a real array of shape (2, ...): (θ₁, θ₂) along the leading axis, any trailing axes.

    Returns:
        jax.Array: L(θ), of shape ``theta.shape[1:]`` (a scalar for θ of shape (2,)).

    Raises:
        TypeError: if ``theta`` is not a real numeric array (e.g. complex or strings).
        ValueError: if ``theta`` has no leading axis of length 2, or (when concrete) is empty or not finite.

    Example:
        >>> float(crescent(np.array([1.0, 1.0]))), float(crescent(np.array([0.0, 0.0])))
        (0.0, 1.0)
    """
    theta = _theta(theta)
    return (1 - theta[0]) ** 2 + CRESCENT_B * (theta[1] - theta[0] ** 2) ** 2


def saddle(theta: Any) -> jax.Array:
    r"""L = (1 − θ₁θ₂)², the lecture's y = w₁w₂x with x = 1, ŷ = 1 (course §3.2).

    At θ = 0: g = 0, H = [[0, −2], [−2, 0]] with eigenvalues ±2 — a saddle point; the minima (L = 0) form the
    hyperbola θ₁θ₂ = 1. Starting near the line θ₂ = −θ₁ the gradient points at the saddle.

    Args:
        theta: θ, a real array of shape (2, ...): (θ₁, θ₂) along the leading axis, any trailing axes.

    Returns:
        jax.Array: L(θ), of shape ``theta.shape[1:]`` (a scalar for θ of shape (2,)).

    Raises:
        TypeError: if ``theta`` is not a real numeric array (e.g. complex or strings).
        ValueError: if ``theta`` has no leading axis of length 2, or (when concrete) is empty or not finite.

    Example:
        >>> float(saddle(np.array([0.0, 0.0]))), jax.grad(saddle)(np.array([0.0, 0.0])).tolist()
        (1.0, [0.0, 0.0])
    """
    theta = _theta(theta)
    return (1 - theta[0] * theta[1]) ** 2


def double_well(theta: Any) -> jax.Array:
    r"""L = (θ₁² − 1)² + c θ₁ + θ₂², c = 0.5: two valleys along θ₁, the right one (θ₁ ≈ 0.93) a shallow *local*
    minimum, the left one (θ₁ ≈ −1.06) the global minimum; the barrier between them is at θ₁ ≈ 0.13.

    Args:
        theta: θ, a real array of shape (2, ...): (θ₁, θ₂) along the leading axis, any trailing axes.

    Returns:
        jax.Array: L(θ), of shape ``theta.shape[1:]`` (a scalar for θ of shape (2,)).

    Raises:
        TypeError: if ``theta`` is not a real numeric array (e.g. complex or strings).
        ValueError: if ``theta`` has no leading axis of length 2, or (when concrete) is empty or not finite.

    Example:
        >>> float(double_well(np.array([1.0, 0.0])))
        0.5
    """
    theta = _theta(theta)
    return (theta[0] ** 2 - 1) ** 2 + DOUBLE_WELL_TILT * theta[0] + theta[1] ** 2


def double_well_critical_points() -> np.ndarray:
    """θ₁ of :func:`double_well`'s critical points on θ₂ = 0, ascending: global minimum, barrier (a saddle),
    local minimum — the real roots of ∂L/∂θ₁ = 4θ₁³ − 4θ₁ + c.

    Returns:
        numpy.ndarray: shape (3,), float64, the three θ₁ in ascending order.

    Example:
        >>> np.round(double_well_critical_points(), 3).tolist()
        [-1.057, 0.127, 0.93]
    """
    return np.sort(np.roots([4.0, 0.0, -4.0, DOUBLE_WELL_TILT]).real)


def on_grid(f: SurfaceFn) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The ``f(X, Y)`` form of a surface: NumPy grids in, a NumPy grid of losses out (for plotting).

    The returned ``grid(X, Y)`` evaluates ``f`` on ``stack([X, Y])``; it raises ``TypeError`` for a non-real
    ``X`` or ``Y`` and ``ValueError`` when they are empty, not finite, or of different shapes.

    Args:
        f: a surface θ (2, ...) -> L (...), e.g. :func:`crescent`.

    Returns:
        Callable[[numpy.ndarray, numpy.ndarray], numpy.ndarray]: ``grid(X, Y)``, the (H, W) losses for grids
        ``X`` and ``Y`` of shape (H, W) (any equal shapes).

    Raises:
        TypeError: if ``f`` is not callable.

    Example:
        >>> on_grid(elongated)(np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]])).tolist()
        [[0.0, 0.05000000074505806]]
    """
    _checks.callable_(f, "f", "a surface θ -> L")

    def grid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _checks.real_array(x, "X")
        _checks.real_array(y, "Y")
        _checks.same_shape(x, y, "X", "Y")
        return np.asarray(f(jnp.stack([jnp.asarray(x), jnp.asarray(y)])))

    return grid


class Surface(NamedTuple):
    """A surface with what is known about it.

    Attributes:
        name: a label.
        f: the surface, θ (2, ...) -> loss (...).
        minimum: the global minimum (θ₁, θ₂).
        start: a start point that shows the surface's difficulty.
        xlim: the plotting limits along θ₁.
        ylim: the plotting limits along θ₂.
    """

    name: str
    f: SurfaceFn
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]


#: :func:`elongated`, started at (−9, 0.8): far along the flat θ₁ floor and up the steep θ₂ wall.
ELONGATED = Surface("elongated quadratic", elongated, (0.0, 0.0), (-9.0, 0.8), (-10.0, 2.0), (-1.0, 1.0))
#: :func:`crescent`, started at (−1.2, 1), Rosenbrock's classic start.
CRESCENT = Surface("crescent", crescent, (1.0, 1.0), (-1.2, 1.0), (-2.0, 2.0), (-1.0, 3.0))
#: :func:`saddle`, started near the line θ₂ = −θ₁, where the gradient points at the saddle at 0.
SADDLE = Surface("saddle", saddle, (1.0, 1.0), (1.0, -0.99), (-2.0, 2.0), (-2.0, 2.0))
_DW = double_well_critical_points()
#: :func:`double_well`, started at (2, 1), on the side of the shallow local minimum.
DOUBLE_WELL = Surface("tilted double well", double_well, (float(_DW[0]), 0.0), (2.0, 1.0), (-2.0, 2.2), (-1.2, 1.2))


class Trajectory(NamedTuple):
    """An optimizer's path over a surface.

    Attributes:
        theta: (steps+1, 2) points θ⁰ … θᵀ.
        loss: (steps+1,) L(θᵗ).
        grad: (steps+1, 2) ∇L(θᵗ).
        state: the optimizer state after each update, every leaf stacked on a leading axis of length ``steps``
            (e.g. Adam's σ = √ν̂ over the steps is ``jaxml.optim.sigma(opt, traj.state)``; its raw ν is
            ``optax.tree_utils.tree_get(traj.state, "nu")``).
    """

    theta: jax.Array
    loss: jax.Array
    grad: jax.Array
    state: optax.OptState


def trajectory(
    f: SurfaceFn,
    optimizer: optax.GradientTransformation,
    theta0: Any,
    steps: int,
) -> Trajectory:
    r"""Run ``optimizer`` on the surface ``f`` from ``theta0`` for ``steps`` updates, compiled with ``lax.scan``.

    Each step: gᵗ = ∇L(θᵗ); (uᵗ, s) = optimizer.update(gᵗ, s, θᵗ); θᵗ⁺¹ = θᵗ + uᵗ. Works under ``jax.vmap``
    (e.g. over learning rates: ``jax.vmap(lambda lr: trajectory(f, optim.sgd(lr), θ0, 100).loss)(lrs)``).

    Args:
        f: the surface θ (2,) -> scalar L, differentiable by ``jax.value_and_grad`` (e.g. :func:`elongated`).
        optimizer: an ``optax.GradientTransformation`` (e.g. ``jaxml.optim.adam(0.05)``).
        theta0: θ⁰, the start point, a real array of shape (2,); an integer one is cast to floating point.
        steps: T, the number of updates, an integer ≥ 0.

    Returns:
        Trajectory: the T + 1 points θ⁰ … θᵀ with their losses and gradients, and the optimizer state after
        each of the T updates.

    Raises:
        TypeError: ``f`` not callable, ``steps`` not an integer, ``optimizer`` not a GradientTransformation, or
            ``theta0`` not a real numeric array.
        ValueError: ``theta0`` not of shape (2,) or not finite, or ``steps`` < 0.

    Example:
        >>> traj = trajectory(elongated, optax.sgd(0.01), np.array([1.0, 1.0]), steps=2)
        >>> np.round(traj.theta[:, 1], 4).tolist()           # θ₂ shrinks by (1 − ηb) = 0 in one step
        [1.0, 0.0, 0.0]
    """
    _checks.callable_(f, "f", "a surface θ -> L")
    steps = _checks.integer(steps, "steps", low=0)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
    _checks.real_array(theta0, "theta0")
    theta0 = jnp.asarray(theta0)
    if theta0.shape != (2,):
        raise ValueError(f"theta0 must have shape (2,), got {theta0.shape}")
    if not jnp.issubdtype(theta0.dtype, jnp.floating):
        theta0 = theta0.astype(jnp.result_type(float))
    # jaxml's optimizers carry η, β… as leaves, so they are arguments: one program per (f, kind, steps); an optax
    # closure is a constant of the program, cached by the object.
    run = _run_jit if numeric_pytree(optimizer) else _run_static_jit
    try:
        hash((f, steps) if run is _run_jit else (f, steps, optimizer))
    except TypeError:  # an unhashable f or optimizer: a program of its own
        return jax.jit(lambda t: _run(f, optimizer, t, steps))(theta0)
    return run(f, optimizer, theta0, steps)


def _run(f: SurfaceFn, optimizer: optax.GradientTransformation, theta0: jax.Array, steps: int) -> Trajectory:
    value_and_grad = jax.value_and_grad(f)

    def step(carry: tuple[jax.Array, optax.OptState], _: None) -> tuple[tuple[jax.Array, optax.OptState], tuple]:
        theta, state = carry
        loss, g = value_and_grad(theta)
        updates, state = optimizer.update(g, state, theta)
        return (optax.apply_updates(theta, updates), state), (theta, loss, g, state)

    (last, _), (thetas, losses, grads, states) = jax.lax.scan(
        step, (theta0, optimizer.init(theta0)), None, length=steps
    )
    last_loss, last_grad = value_and_grad(last)
    return Trajectory(
        theta=jnp.concatenate([thetas, last[None]]),
        loss=jnp.concatenate([losses, last_loss[None]]),
        grad=jnp.concatenate([grads, last_grad[None]]),
        state=states,
    )


_run_jit = jax.jit(_run, static_argnames=("f", "steps"))
_run_static_jit = jax.jit(_run, static_argnames=("f", "optimizer", "steps"))
