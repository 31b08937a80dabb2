"""jaxml.surfaces: closed-form gradients/Hessians, finite differences, grid vectorisation, and trajectory()
against a plain Python loop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads

from jaxml import optim
from jaxml import surfaces as S

ALL = [S.ELONGATED, S.CRESCENT, S.SADDLE, S.DOUBLE_WELL]


@pytest.mark.parametrize("surface", ALL, ids=lambda s: s.name)
def test_gradient_vanishes_at_the_minimum(x64, surface):
    g = jax.grad(surface.f)(jnp.asarray(surface.minimum))
    np.testing.assert_allclose(g, 0.0, atol=1e-10)
    # and the minimum is lower than every grid point around it
    X, Y = np.meshgrid(np.linspace(*surface.xlim, 41), np.linspace(*surface.ylim, 41))
    assert float(surface.f(jnp.asarray(surface.minimum))) <= S.on_grid(surface.f)(X, Y).min() + 1e-12


@pytest.mark.parametrize("surface", ALL, ids=lambda s: s.name)
def test_gradients_match_finite_differences(x64, surface):
    for theta in (jnp.asarray(surface.start), jnp.array([0.3, -0.7])):
        check_grads(surface.f, (theta,), order=2, modes=("rev",))


@pytest.mark.parametrize("surface", ALL, ids=lambda s: s.name)
def test_grid_form_equals_pointwise_form(surface):
    X, Y = np.meshgrid(np.linspace(*surface.xlim, 7), np.linspace(*surface.ylim, 5))
    grid = S.on_grid(surface.f)(X, Y)
    assert isinstance(grid, np.ndarray) and grid.shape == (5, 7)
    pointwise = np.array([[float(surface.f(np.array([x, y]))) for x, y in zip(xr, yr)] for xr, yr in zip(X, Y)])
    np.testing.assert_allclose(grid, pointwise, rtol=1e-6, atol=1e-5)
    # numpy arrays go straight through the θ form too (leading axis 2)
    np.testing.assert_allclose(np.asarray(surface.f(np.stack([X, Y]))), grid, rtol=1e-6, atol=1e-5)


def test_elongated_is_the_quadratic_with_curvatures_a_and_b(x64):
    a, b = S.ELONGATED_CURVATURE
    np.testing.assert_allclose(jax.hessian(S.elongated)(jnp.array([1.0, 2.0])), np.diag([a, b]))
    assert b / a == 1000  # the condition number that makes any fixed η fail


def test_saddle_is_the_lectures_example(x64):
    # course §3.2: L = (1 − w₁w₂)²: at 0, g = 0, H = [[0, −2], [−2, 0]], eigenvalues ±2
    zero = jnp.zeros(2)
    np.testing.assert_allclose(jax.grad(S.saddle)(zero), 0.0)
    H = np.asarray(jax.hessian(S.saddle)(zero))
    np.testing.assert_allclose(H, [[0, -2], [-2, 0]])
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [-2, 2])
    assert float(S.saddle(jnp.array([2.0, 0.5]))) == 0.0  # θ₁θ₂ = 1 is a minimum


def test_crescent_is_rosenbrock(x64):
    b = S.CRESCENT_B
    for theta in ([-1.2, 1.0], [0.5, -0.3]):
        x, y = theta
        assert float(S.crescent(jnp.array(theta))) == pytest.approx((1 - x) ** 2 + b * (y - x * x) ** 2)
    H = np.asarray(jax.hessian(S.crescent)(jnp.ones(2)))
    np.testing.assert_allclose(H, [[2 + 8 * b, -4 * b], [-4 * b, 2 * b]])  # closed form at (1, 1)


def test_double_well_has_a_local_and_a_global_minimum(x64):
    low, barrier, local = S.double_well_critical_points()
    kinds = []
    for x in (low, barrier, local):
        theta = jnp.array([x, 0.0])
        np.testing.assert_allclose(jax.grad(S.double_well)(theta), 0.0, atol=1e-10)
        kinds.append(np.sign(np.linalg.eigvalsh(np.asarray(jax.hessian(S.double_well)(theta)))))
    assert [k.tolist() for k in kinds] == [[1, 1], [-1, 1], [1, 1]]  # min, saddle (barrier), min
    assert float(S.double_well(jnp.array([low, 0.0]))) < float(S.double_well(jnp.array([local, 0.0])))
    assert S.DOUBLE_WELL.minimum == (pytest.approx(low), 0.0)


def test_trajectory_equals_a_python_loop(x64):
    opt = optim.adam(0.05)
    theta = jnp.array([-1.2, 1.0])
    traj = S.trajectory(S.crescent, opt, theta, 25)
    state = opt.init(theta)
    thetas, losses = [theta], [S.crescent(theta)]
    for _ in range(25):
        u, state = opt.update(jax.grad(S.crescent)(theta), state, theta)
        theta = optax.apply_updates(theta, u)
        thetas.append(theta)
        losses.append(S.crescent(theta))
    np.testing.assert_allclose(traj.theta, np.array(thetas), rtol=1e-12)
    np.testing.assert_allclose(traj.loss, np.array(losses), rtol=1e-12)
    np.testing.assert_allclose(traj.grad[3], jax.grad(S.crescent)(traj.theta[3]), rtol=1e-12)
    assert traj.state[0].inner_states[1].nu.shape == (25, 2)


def test_trajectory_of_gradient_descent_on_the_quadratic_is_geometric(x64):
    # θᵗ = (1 − ηa)ᵗ θ⁰ on each axis: the closed form of GD on L = ½(aθ₁² + bθ₂²)
    a, b = S.ELONGATED_CURVATURE
    eta, theta0 = 0.015, np.array([-9.0, 0.8])
    traj = S.trajectory(S.elongated, optim.sgd(eta), theta0, 50)
    t = np.arange(51)[:, None]
    np.testing.assert_allclose(traj.theta, theta0 * (1 - eta * np.array([a, b])) ** t, rtol=1e-10, atol=1e-300)


def test_trajectory_vmaps_over_learning_rates():
    lrs = jnp.array([0.001, 0.01])
    theta0 = jnp.array(S.SADDLE.start)
    batched = jax.vmap(lambda lr: S.trajectory(S.saddle, optim.momentum(lr), theta0, 40).theta)(lrs)
    assert batched.shape == (2, 41, 2)
    for i in range(2):
        single = S.trajectory(S.saddle, optim.momentum(float(lrs[i])), theta0, 40).theta
        np.testing.assert_allclose(batched[i], single, rtol=1e-5, atol=1e-7)


def test_trajectory_rejects_bad_input():
    with pytest.raises(ValueError, match="theta0"):
        S.trajectory(S.saddle, optim.sgd(0.1), jnp.zeros(3), 5)
    with pytest.raises(TypeError, match="steps"):
        S.trajectory(S.saddle, optim.sgd(0.1), jnp.zeros(2), 5.0)
    with pytest.raises(ValueError, match="steps"):
        S.trajectory(S.saddle, optim.sgd(0.1), jnp.zeros(2), -1)
    with pytest.raises(TypeError, match="optimizer"):
        S.trajectory(S.saddle, "sgd", jnp.zeros(2), 5)
    assert S.trajectory(S.saddle, optim.sgd(0.1), jnp.array([1, 2]), 0).theta.shape == (1, 2)  # ints → float
