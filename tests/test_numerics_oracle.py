"""Numerical properties that a one-line slip breaks silently, each against an independent oracle.

* Lanczos keeps its basis orthonormal to a few ε in float32 on a wide spectrum run to full depth (one
  Gram–Schmidt pass instead of two leaves ~100ε there), and its Ritz values are the eigenvalues numpy finds.
* ``classify_critical_point`` near (not at) the toy valley w₁w₂ = 1: ‖g‖ ≈ 2e-7 perturbs the zero eigenvalue
  by O(‖g‖), so the point must read "degenerate" (the ‖g‖ term of the zero tolerance), not "saddle_point".
* Every dense Hessian path returns an exactly symmetric matrix (H == Hᵀ bit for bit) equal to the Hessian
  from central differences of the gradient.
* Each model factory's initialization has the documented distribution: sample means and variances within
  five standard errors of the sampling distribution.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxml import curvature, losses, models, train
from jaxml.curvature import _lanczos

EPS32 = float(np.finfo(np.float32).eps)

# --------------------------------------------------------------------------------------------------------------
# Lanczos


def _rotated_spectrum(p: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A = Q diag(λ) Qᵀ with λ = logspace(−6, 3, p) (κ = 1e9) and Q a random rotation; returns (A, λ)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    lam = np.logspace(-6, 3, p)
    return (q * lam) @ q.T, lam


def test_lanczos_basis_stays_orthonormal_in_float32_on_a_wide_spectrum():
    # Full depth (m = P): the Krylov space fills up, β shrinks and breakdowns bring fresh directions; classical
    # Gram–Schmidt twice keeps |VᵀV − I| at a few ε, one pass lets it grow to ~150ε. Bound: 8ε.
    a, lam = _rotated_spectrum()
    p = a.shape[0]
    op = jax.tree_util.Partial(lambda m, u: m @ u, jnp.asarray(a, jnp.float32))
    lz = _lanczos._Lanczos(op, np.random.default_rng(1).normal(size=p).astype(np.float32), p + 1)
    rng = np.random.default_rng(2)
    while lz.j < p:
        if lz.step() and lz.j < p:
            lz.fresh(rng)
    v = np.asarray(lz.basis[:p], np.float64)
    assert np.abs(v @ v.T - np.eye(p)).max() <= 8 * EPS32
    # T = VᵀAV exactly (to float32 round-off): its eigenvalues are A's, the extreme ones to ~ε‖A‖.
    ritz = np.linalg.eigvalsh(lz.t[:p, :p])
    np.testing.assert_allclose(ritz[-5:], lam[-5:], rtol=0, atol=50 * EPS32 * lam[-1])
    np.testing.assert_allclose(np.diag(lz.t[:p, :p]), np.einsum("ip,pq,iq->i", v, a, v), atol=50 * EPS32 * lam[-1])


# --------------------------------------------------------------------------------------------------------------
# classify_critical_point near a degenerate critical point


def toy(w: jax.Array) -> jax.Array:
    """The lecture's y = w₁w₂x with x = 1, ŷ = 1: L = (1 − w₁w₂)², zero on the valley w₁w₂ = 1."""
    return (1.0 - w[0] * w[1]) ** 2


def test_near_critical_point_on_the_valley_is_degenerate(x64):
    # w₁w₂ = 1 + ρ with ρ = 7e-8: r = 1 − w₁w₂ = −ρ, g = −2r(w₂, w₁), ‖g‖ ≈ 2.8ρ ≈ 2e-7. H's eigenvalues are
    # 2‖w‖² + O(ρ) and λ₀ ≈ 4r/‖w‖² ≈ −1.4e-7: negative, larger than √eps·λ_max ≈ 6e-8, but within ‖g‖ —
    # the perturbation a point critical only up to ‖g‖ puts on a null direction.
    delta, rho = 0.05, 7e-8
    w = jnp.array([1 + delta, (1 + rho) / (1 + delta)])
    g = np.asarray(jax.grad(toy)(w))
    lam = np.linalg.eigvalsh(np.asarray(jax.hessian(toy)(w)))
    gnorm = np.linalg.norm(g)
    assert 1e-7 < gnorm < 3e-7
    assert np.sqrt(np.finfo(np.float64).eps) * lam[-1] < -lam[0] < gnorm  # the case the ‖g‖ term decides
    cp = curvature.classify_critical_point(toy, w)
    assert cp.kind == "degenerate"
    assert cp.escape_direction is None
    assert cp.tolerance == pytest.approx(gnorm, rel=1e-6)
    assert (cp.num_negative, cp.num_zero, cp.num_positive) == (0, 1, 1)
    # Far enough from the valley (ρ = 1e-3, ‖g‖ ≈ 3e-3 > grad_tol) it is not critical at all.
    assert curvature.classify_critical_point(toy, jnp.array([1.0, 1.001])).kind == "not_critical"


# --------------------------------------------------------------------------------------------------------------
# Dense Hessians: exactly symmetric on every path


def _mlp_objective() -> tuple[Callable, dict, tuple]:
    """A float64 tanh MLP regression objective f(params, batch), a generic point and N = 30 examples."""
    rng = np.random.default_rng(0)
    model = models.mlp(3, [5], activation=jnp.tanh)
    params = model.init(jax.random.PRNGKey(2))
    x = jnp.asarray(rng.normal(size=(30, 3)))
    y = jnp.asarray(np.sin(x[:, 0]) + x[:, 1] * x[:, 2])
    return train.supervised(model.apply, losses.mse, l2=1e-2), params, (x, y)


def _central_difference_hessian(f: Callable, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Columns (∇f(θ + h eᵢ) − ∇f(θ − h eᵢ)) / 2h: an oracle independent of forward-over-reverse."""
    grad = jax.jit(jax.grad(f))
    cols = [(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(theta.size)]
    return np.stack([np.asarray(c) for c in cols], axis=1)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"chunk_size": 7}, {"data": True}, {"data": True, "batch_size": 8}, {"data": True, "chunk_size": 4}],
    ids=["default", "chunked", "data", "data_batched", "data_chunked"],
)
def test_every_dense_hessian_path_is_exactly_symmetric(x64, kwargs):
    objective, params, data = _mlp_objective()
    kwargs = dict(kwargs)
    if kwargs.pop("data", False):
        h = np.asarray(curvature.hessian(objective, params, data=data, **kwargs))
    else:
        h = np.asarray(curvature.hessian(lambda p: objective(p, data), params, **kwargs))
    np.testing.assert_array_equal(h, h.T)  # bitwise: eigh and Lanczos comparisons rely on it
    theta, unravel = ravel_pytree(params)
    oracle = _central_difference_hessian(lambda t: objective(unravel(t), data), np.asarray(theta))
    np.testing.assert_allclose(h, oracle, atol=1e-7)


def test_the_symmetry_test_can_fail():
    # Guard the guard: the raw forward-over-reverse Hessians of this problem are not symmetric bit for bit, so
    # dropping the symmetrization would be seen above.
    with jax.enable_x64(True):
        objective, params, data = _mlp_objective()
        theta, unravel = ravel_pytree(params)
        raw = np.asarray(jax.jit(jax.hessian(lambda t: objective(unravel(t), data)))(theta))
        assert not np.array_equal(raw, raw.T)


# --------------------------------------------------------------------------------------------------------------
# Initialization distributions


def _assert_normal(sample: np.ndarray, variance: float, what: str) -> None:
    """Mean 0 and the given variance, each within 5 standard errors of its sampling distribution."""
    x = np.asarray(sample, np.float64).ravel()
    n = x.size
    assert abs(x.mean()) <= 5 * np.sqrt(variance / n), f"{what}: mean {x.mean()}"
    # Var of the sample variance of a normal: 2σ⁴/(n−1).
    assert abs(x.var(ddof=1) - variance) <= 5 * variance * np.sqrt(2 / (n - 1)), f"{what}: var {x.var()}"


def test_mlp_weights_are_lecun_normal_and_biases_zero():
    sizes = [300, 400, 200, 7]
    params = models.mlp(sizes[0], sizes[1:-1], sizes[-1]).init(jax.random.PRNGKey(0))
    assert len(params) == len(sizes) - 1
    for i, (layer, fan_in, fan_out) in enumerate(zip(params, sizes[:-1], sizes[1:])):
        assert layer["w"].shape == (fan_in, fan_out)
        _assert_normal(layer["w"], 1.0 / fan_in, f"layer {i} weights")
        np.testing.assert_array_equal(layer["b"], np.zeros(fan_out))
    # Layers draw from independent keys: no two weight matrices share their leading entries.
    firsts = [np.asarray(layer["w"]).ravel()[:7] for layer in params]
    assert len({tuple(f) for f in firsts}) == len(firsts)


@pytest.mark.parametrize("factory", [models.sigmoid_sum, models.relu_sum])
def test_hidden_sum_models_draw_standard_normal_hidden_units(factory):
    units = 4000
    params = factory(6, units).init(jax.random.PRNGKey(1))
    _assert_normal(params["hidden"]["w"], 1.0, "hidden weights")
    _assert_normal(params["hidden"]["b"], 1.0, "hidden biases")
    _assert_normal(params["c"], 1.0 / units, "output weights c")
    assert float(params["b"]) == 0.0
    # Independent keys: the hidden biases are not a copy of any part of the weights or of c.
    b = np.asarray(params["hidden"]["b"])
    assert abs(np.corrcoef(b, np.asarray(params["c"]) * np.sqrt(units))[0, 1]) < 5 / np.sqrt(units)
    assert abs(np.corrcoef(b, np.asarray(params["hidden"]["w"])[0])[0, 1]) < 5 / np.sqrt(units)


@pytest.mark.parametrize(
    "make", [lambda: models.linear(4), lambda: models.polynomial(3), lambda: models.conditional_linear(3, 2)]
)
def test_convex_models_start_at_zero(make):
    params = make().init(jax.random.PRNGKey(3))
    for leaf in jax.tree_util.tree_leaves(params):
        np.testing.assert_array_equal(leaf, np.zeros_like(leaf))
