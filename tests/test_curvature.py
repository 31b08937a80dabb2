"""Tests for jaxml.curvature against independent oracles.

Oracles: closed-form Hessians (the lecture's y = w₁w₂x example and quadratics), central finite differences of
the gradient, ``jax.test_util.check_grads``, ``numpy.linalg.eigh`` of the dense Hessian, exact traces with the
estimators' own variance formulas for the statistical tolerances. Everything runs in float64.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from jax.test_util import check_grads

from jaxml import curvature as C
from jaxml.curvature import _lanczos

pytestmark = pytest.mark.usefixtures("x64")  # float64 throughout (the shared fixture in conftest.py)


# ---------------------------------------------------------------------------------------------------------------
# Models used throughout (built inside tests so that they are float64)


def toy(w):
    """The lecture's y = w₁w₂x with one datum x = 1, ŷ = 1: L = (1 − w₁w₂)²."""
    return (1.0 - w[0] * w[1]) ** 2


@functools.cache
def _mlp_problem(seed=0, n=40, d=4, h=6):
    k1, k2, k3, k4 = jax.random.split(jax.random.key(seed), 4)
    x = jax.random.normal(k1, (n, d))
    y = jnp.sin(x[:, 0]) + 0.3 * jax.random.normal(k2, (n,))
    params = {
        "hidden": {"w": jax.random.normal(k3, (d, h)) / np.sqrt(d), "b": 0.1 * jnp.ones(h)},
        "out": {"w": jax.random.normal(k4, (h,)) / np.sqrt(h), "b": jnp.zeros(())},
    }

    def loss(p, batch):
        xb, yb = batch
        a = jnp.tanh(xb @ p["hidden"]["w"] + p["hidden"]["b"])
        return jnp.mean((a @ p["out"]["w"] + p["out"]["b"] - yb) ** 2)

    return loss, params, (x, y)


@functools.cache
def _softmax_problem(seed=1, n=60, d=5, k=3):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    x = jax.random.normal(k1, (n, d))
    labels = jax.random.randint(k2, (n,), 0, k)
    params = {"w": 0.5 * jax.random.normal(k3, (d, k)), "b": jnp.zeros(k)}

    def loss(p, batch):
        xb, yb = batch
        logits = xb @ p["w"] + p["b"]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, yb[:, None], 1)[:, 0])

    return loss, params, (x, labels)


@functools.cache
def _relu_problem(seed=2, n=50, d=3, h=8):
    k1, k2, k3, k4 = jax.random.split(jax.random.key(seed), 4)
    x = jax.random.normal(k1, (n, d))
    y = jnp.abs(x[:, 1]) - x[:, 2]
    params = [
        {"w": jax.random.normal(k2, (d, h)), "b": 0.2 * jax.random.normal(k3, (h,))},
        {"w": jax.random.normal(k4, (h, 1)), "b": jnp.zeros(1)},
    ]

    def loss(p, batch):
        xb, yb = batch
        a = jax.nn.softplus(xb @ p[0]["w"] + p[0]["b"])
        return jnp.mean(((a @ p[1]["w"] + p[1]["b"])[:, 0] - yb) ** 2)

    return loss, params, (x, y)


PROBLEMS = {"tanh_mlp": _mlp_problem, "softmax": _softmax_problem, "softplus_mlp": _relu_problem}


def _closed(loss, data):
    return lambda p: loss(p, data)


_DENSE: dict = {}


def _dense_eigh(loss, params, data):
    """The dense Hessian and its eigenvalues (numpy), computed once per problem."""
    if loss not in _DENSE:
        h = np.asarray(C.hessian(_closed(loss, data), params))
        _DENSE[loss] = (h, np.linalg.eigh(h)[0])
    return _DENSE[loss]


# ---------------------------------------------------------------------------------------------------------------
# Public API contract


def test_contract_names_exist_and_accept_the_documented_arguments():
    for name in ("hessian", "hvp", "classify_critical_point", "top_eigenvalues"):
        assert callable(getattr(C, name))
    p = jnp.zeros(2)
    assert C.hessian(toy, p).shape == (2, 2)
    assert C.hvp(toy, p, jnp.ones(2)).shape == (2,)
    cp = C.classify_critical_point(toy, p)
    assert cp.kind in C.KINDS
    assert cp.eigenvalues.shape == (2,)
    assert C.top_eigenvalues(toy, p, 1).shape == (1,)


# ---------------------------------------------------------------------------------------------------------------
# The toy saddle of the lecture, exactly


def test_toy_hessian_matches_the_closed_form_everywhere():
    # ∂²L/∂w₁² = 2w₂², ∂²L/∂w₁∂w₂ = 4w₁w₂ − 2, ∂²L/∂w₂² = 2w₁²
    for w1, w2 in [(0.0, 0.0), (0.5, -1.5), (2.0, 0.25)]:
        expected = np.array([[2 * w2**2, 4 * w1 * w2 - 2], [4 * w1 * w2 - 2, 2 * w1**2]])
        np.testing.assert_allclose(C.hessian(toy, jnp.array([w1, w2])), expected, atol=1e-14)


def test_toy_saddle_is_the_lectures_numbers():
    cp = C.classify_critical_point(toy, jnp.zeros(2))
    assert cp.kind == "saddle_point"
    assert cp.grad_norm == 0.0
    np.testing.assert_allclose(C.hessian(toy, jnp.zeros(2)), [[0.0, -2.0], [-2.0, 0.0]], atol=0)
    np.testing.assert_allclose(cp.eigenvalues, [-2.0, 2.0], atol=1e-14)
    # The escape step is along u ∝ [1, 1] (the eigenvector of λ = −2); the line search finds θ′ + u with
    # u = [1, 1], which lands on the minimum valley w₁w₂ = 1 where L = 0, as in the lecture.
    step = np.asarray(cp.escape_direction)
    assert abs(step[0] - step[1]) < 1e-12
    np.testing.assert_allclose(np.abs(step), [1.0, 1.0], atol=1e-12)
    assert cp.escape_loss == pytest.approx(0.0, abs=1e-12)
    assert float(toy(jnp.zeros(2) + step)) < cp.loss == 1.0


def test_toy_minimum_valley_is_degenerate():
    # On w₁w₂ = 1 the loss is 0 but H has a zero eigenvalue along the valley: the second-order test is silent.
    cp = C.classify_critical_point(toy, jnp.array([2.0, 0.5]))
    assert cp.kind == "degenerate"
    assert cp.escape_direction is None
    np.testing.assert_allclose(cp.eigenvalues, [0.0, 2 * (2.0**2 + 0.5**2)], atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# hessian / hvp against finite differences and each other


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_hessian_matches_central_differences_of_the_gradient(name):
    loss, params, data = PROBLEMS[name]()
    f = _closed(loss, data)
    theta, unravel = ravel_pytree(params)
    grad = jax.jit(lambda t: ravel_pytree(jax.grad(f)(unravel(t)))[0])
    eps = 1e-5
    eye = np.eye(theta.size)
    fd = np.stack([(grad(theta + eps * e) - grad(theta - eps * e)) / (2 * eps) for e in eye])
    h = np.asarray(C.hessian(f, params))
    np.testing.assert_allclose(h, fd, atol=1e-7 * max(1.0, np.abs(h).max()))
    np.testing.assert_allclose(h, h.T, atol=0)


def test_hvp_matches_dense_product_and_finite_differences():
    loss, params, data = _mlp_problem()
    f = _closed(loss, data)
    theta, unravel = ravel_pytree(params)
    v = unravel(jax.random.normal(jax.random.key(5), theta.shape))
    hv = ravel_pytree(C.hvp(f, params, v))[0]
    h = np.asarray(C.hessian(f, params))
    np.testing.assert_allclose(hv, h @ ravel_pytree(v)[0], rtol=1e-10, atol=1e-12)
    eps = 1e-5
    vflat = ravel_pytree(v)[0]
    g = lambda t: ravel_pytree(jax.grad(f)(unravel(t)))[0]
    fd = (g(theta + eps * vflat) - g(theta - eps * vflat)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, atol=1e-8)
    assert jax.tree_util.tree_structure(C.hvp(f, params, v)) == jax.tree_util.tree_structure(params)


def test_second_derivatives_pass_check_grads():
    # jax.test_util compares forward- and reverse-mode derivatives of f and of the HVP with finite differences.
    loss, params, data = _mlp_problem(n=30, h=3)
    f = _closed(loss, data)
    check_grads(jax.jit(f), (params,), order=2, modes=("rev",))


def test_chunked_and_batched_hessians_equal_the_full_one():
    loss, params, data = _softmax_problem()
    h = np.asarray(C.hessian(_closed(loss, data), params))
    np.testing.assert_allclose(C.hessian(_closed(loss, data), params, chunk_size=4), h, atol=1e-13)
    # 60 examples in batches of 7: eight full batches and a remainder of 4, weighted by size
    np.testing.assert_allclose(C.hessian(loss, params, data=data, batch_size=7), h, atol=1e-13)
    v = jax.tree_util.tree_map(jnp.ones_like, params)
    hv = ravel_pytree(C.hvp(loss, params, v, data=data, batch_size=7))[0]
    np.testing.assert_allclose(hv, h @ ravel_pytree(v)[0], atol=1e-12)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(TypeError, match="f must be"):
        C.hessian(3.0, jnp.zeros(2))
    with pytest.raises(ValueError, match="params"):
        C.hessian(toy, {})
    with pytest.raises(TypeError, match="floating"):
        C.hessian(lambda p: jnp.sum(p), jnp.arange(3))
    with pytest.raises(ValueError, match="v must"):
        C.hvp(toy, jnp.zeros(2), jnp.zeros(3))
    with pytest.raises(ValueError, match="k must"):
        C.top_eigenvalues(toy, jnp.zeros(2), 3)
    with pytest.raises(ValueError, match="batch_size"):
        C.hessian(toy, jnp.zeros(2), batch_size=4)
    with pytest.raises(ValueError, match="leading example axis"):
        C.top_eigenvalues(lambda p, b: toy(p), jnp.zeros(2), 1, data=(np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="method"):
        C.find_critical_point(toy, jnp.zeros(2), method="bfgs")


# ---------------------------------------------------------------------------------------------------------------
# Lanczos against numpy.linalg.eigh


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_lanczos_extreme_eigenpairs_match_dense_eigh(name):
    loss, params, data = PROBLEMS[name]()
    h, lam = _dense_eigh(loss, params, data)
    scale = np.abs(lam).max()
    top = C.eigenpairs(loss, params, 3, which="top", data=data)
    np.testing.assert_allclose(top.eigenvalues, lam[::-1][:3], atol=1e-8 * scale)
    assert top.converged and top.num_hvps <= lam.size
    # eigenvectors: unit norm and H u = λ u
    vecs = np.stack([ravel_pytree(jax.tree_util.tree_map(lambda a, i=i: a[i], top.eigenvectors))[0] for i in range(3)])
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(h @ vecs.T, vecs.T * np.asarray(top.eigenvalues), atol=1e-6 * scale)
    bottom = C.eigenpairs(loss, params, 2, which="bottom", data=data, key=jax.random.key(4))
    np.testing.assert_allclose(bottom.eigenvalues, lam[:2], atol=1e-8 * scale)
    # the contract's function (same compiled program, other start vector)
    top3 = C.top_eigenvalues(loss, params, 3, data=data, key=jax.random.key(8))
    np.testing.assert_allclose(top3, lam[::-1][:3], atol=1e-8 * scale)


def test_lanczos_with_batched_products_matches_dense():
    loss, params, data = _mlp_problem()
    _, lam = _dense_eigh(loss, params, data)
    top = C.top_eigenvalues(loss, params, 2, data=data, batch_size=9, key=jax.random.key(0))
    np.testing.assert_allclose(top, lam[::-1][:2], rtol=1e-8)


def test_lanczos_recovers_repeated_eigenvalues_at_full_depth():
    # A spectrum with multiplicities: plain Krylov spaces see each distinct eigenvalue once; the restart after
    # a breakdown must find the copies, and m = P steps give the whole spectrum.
    spectrum = jnp.array([3.0, 3.0, 3.0, 1.0, 1.0, -2.0, 0.0, 0.0, 5.0])
    q, _ = jnp.linalg.qr(jax.random.normal(jax.random.key(0), (9, 9)))
    a = q @ jnp.diag(spectrum) @ q.T
    f = lambda t: 0.5 * t @ a @ t
    vals = C.top_eigenvalues(f, jnp.zeros(9), 9, max_steps=9)
    np.testing.assert_allclose(vals, np.sort(np.asarray(spectrum))[::-1], atol=1e-10)


def test_lanczos_core_on_a_diagonal_matrix_reports_steps_and_residuals():
    # a bulk in [0, 1] and two outliers, like a network's Hessian: the outliers converge in a few steps, and the
    # residuals the driver reports are the true ‖Hu − λu‖
    d = jnp.concatenate([jnp.linspace(0.0, 1.0, 198), jnp.array([5.0, 10.0])])
    op = jax.tree_util.Partial(lambda d, v: d * v, d)
    res = _lanczos.eigsh(
        op, np.ones(200), 2, which="top", tol=1e-10, max_hvps=80, basis_size=30, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(res.values, [10.0, 5.0], rtol=1e-12)
    assert res.converged and res.num_hvps < 80 and np.all(res.residuals <= 1e-10 * 10)
    u = np.asarray(res.vectors)
    true = np.linalg.norm(np.asarray(d) * u - res.values[:, None] * u, axis=1)
    np.testing.assert_allclose(res.residuals, true, atol=1e-13)
    np.testing.assert_allclose(u @ u.T, np.eye(2), atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Hutchinson and SLQ against exact traces


def test_hutchinson_trace_within_statistical_tolerance_of_dense_trace():
    loss, params, data = _mlp_problem()
    h, _ = _dense_eigh(loss, params, data)
    est = C.hutchinson_trace(loss, params, data=data, key=jax.random.key(7), tol=1e-3, max_samples=400)
    sigma = np.sqrt(2 * (np.sum(h**2) - np.sum(np.diag(h) ** 2)))  # std of one Rademacher sample zᵀHz
    assert est.num_hvps == est.samples.size and est.num_hvps <= 400
    assert abs(est.trace - np.trace(h)) <= 5 * sigma / np.sqrt(est.num_hvps)
    assert est.stderr == pytest.approx(sigma / np.sqrt(est.num_hvps), rel=0.5)


def test_hutchinson_stops_early_when_the_tolerance_is_met():
    d = jnp.linspace(1.0, 2.0, 30)
    f = lambda t: 0.5 * jnp.sum(d * t**2)  # diagonal H: every Rademacher sample is exactly tr(H)
    est = C.hutchinson_trace(f, jnp.zeros(30), key=jax.random.key(0), tol=1e-6, max_samples=500, chunk_size=10)
    assert est.num_hvps == 20
    assert est.trace == pytest.approx(float(jnp.sum(d)), rel=1e-12)


def test_slq_density_integrates_to_one_and_matches_the_trace_moments():
    loss, params, data = _softmax_problem()
    h, lam = _dense_eigh(loss, params, data)
    p = lam.size
    nv = 300
    rho = C.spectral_density(loss, params, data=data, key=jax.random.key(11), num_vectors=nv, num_steps=12)
    assert rho.num_hvps == nv * 12
    assert np.trapezoid(rho.density, rho.grid) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(rho.weights.sum(axis=1), 1.0, atol=1e-10)
    m1 = np.trapezoid(rho.grid * rho.density, rho.grid)
    m2 = np.trapezoid(rho.grid**2 * rho.density, rho.grid) - rho.sigma**2
    h2 = h @ h
    # std of zᵀAz/P for Rademacher z is sqrt(2 Σ_{i≠j} A_ij²)/P; the mean of nv runs shrinks it by √nv
    sd1 = np.sqrt(2 * (np.sum(h**2) - np.sum(np.diag(h) ** 2))) / p / np.sqrt(nv)
    sd2 = np.sqrt(2 * (np.sum(h2**2) - np.sum(np.diag(h2) ** 2))) / p / np.sqrt(nv)
    assert abs(m1 - np.trace(h) / p) <= 5 * sd1 + 1e-9
    assert abs(m2 - np.trace(h2) / p) <= 5 * sd2 + 1e-9


def test_slq_with_full_depth_puts_its_nodes_on_the_eigenvalues():
    loss, params, data = _relu_problem()
    _, lam = _dense_eigh(loss, params, data)
    rho = C.spectral_density(loss, params, data=data, key=jax.random.key(2), num_vectors=2, num_steps=lam.size)
    nodes = rho.nodes[rho.weights > 1e-8]
    dist = np.min(np.abs(nodes[:, None] - lam[None, :]), axis=1)
    assert np.all(dist <= 1e-7 * np.abs(lam).max())
    assert rho.num_hvps <= 2 * lam.size


# ---------------------------------------------------------------------------------------------------------------
# Classification of constructed critical points


def _quadratic(diag):
    d = jnp.asarray(diag)
    return lambda t: 0.5 * jnp.sum(d * t**2) + jnp.sum(t**4)


@pytest.mark.parametrize(
    ("diag", "kind"),
    [
        ([1.0, 2.0, 3.0], "local_minimum"),
        ([-1.0, -0.5, -3.0], "local_maximum"),
        ([1.0, -2.0, 3.0], "saddle_point"),
        ([1.0, 0.0, 3.0], "degenerate"),
        ([0.0, 0.0, 0.0], "degenerate"),
        ([-1.0, 0.0, -3.0], "degenerate"),
    ],
)
def test_classify_constructed_critical_points(diag, kind):
    cp = C.classify_critical_point(_quadratic(diag), jnp.zeros(3))
    assert cp.kind == kind
    np.testing.assert_allclose(cp.eigenvalues, np.sort(diag), atol=1e-14)
    assert cp.minimum_ratio == pytest.approx(np.mean(np.asarray(diag) > 0))
    if min(diag) < 0:
        step = np.asarray(cp.escape_direction)
        assert cp.escape_loss < cp.loss
        # the step points along the eigenvector of the most negative λ
        i = int(np.argmin(diag))
        assert np.abs(step[i]) == pytest.approx(np.linalg.norm(step))
    else:
        assert cp.escape_direction is None


def test_not_critical_when_the_gradient_is_large():
    cp = C.classify_critical_point(_quadratic([1.0, 2.0]), jnp.array([1.0, 0.0]))
    assert cp.kind == "not_critical"
    assert cp.grad_norm == pytest.approx(1.0 + 4.0)
    assert cp.escape_direction is None


def test_monkey_saddle_has_zero_hessian_and_is_degenerate():
    cp = C.classify_critical_point(lambda w: w[0] ** 3 - 3 * w[0] * w[1] ** 2, jnp.zeros(2))
    assert cp.kind == "degenerate"
    np.testing.assert_allclose(cp.eigenvalues, 0.0, atol=0)


def test_escape_step_lowers_the_loss_of_random_saddles():
    for seed in range(3):
        k1, k2 = jax.random.split(jax.random.key(seed))
        q, _ = jnp.linalg.qr(jax.random.normal(k1, (6, 6)))
        lam = jnp.array([-1.5, -0.2, 0.3, 1.0, 2.0, 4.0])
        a = q @ jnp.diag(lam) @ q.T
        c = jax.random.normal(k2, (6,))
        f = lambda p, a=a, c=c: 0.5 * p["t"] @ a @ p["t"] + (c @ p["t"]) ** 3 + 0.1 * jnp.sum(p["t"] ** 4)
        cp = C.classify_critical_point(f, {"t": jnp.zeros(6)})
        assert cp.kind == "saddle_point"
        step = cp.escape_direction["t"]
        assert float(f({"t": step})) < float(f({"t": jnp.zeros(6)})) == cp.loss
        u = np.asarray(step) / np.linalg.norm(step)
        np.testing.assert_allclose(np.abs(u @ np.asarray(q)[:, 0]), 1.0, atol=1e-10)


def test_matrix_free_classification_agrees_with_dense():
    spectrum = jnp.concatenate([jnp.array([-0.7, -0.1]), jnp.linspace(0.2, 3.0, 58)])
    q, _ = jnp.linalg.qr(jax.random.normal(jax.random.key(9), (60, 60)))
    a = q @ jnp.diag(spectrum) @ q.T
    f = lambda t: 0.5 * t @ a @ t + jnp.sum(t**4)
    dense = C.classify_critical_point(f, jnp.zeros(60))
    free = C.classify_critical_point(f, jnp.zeros(60), dense_threshold=10, k=3, key=jax.random.key(1))
    assert dense.kind == free.kind == "saddle_point"
    assert dense.exact and not free.exact and free.num_hvps > 0
    assert free.eigenvalues.size == 6
    np.testing.assert_allclose(free.eigenvalues[:2], [-0.7, -0.1], atol=1e-8)
    np.testing.assert_allclose(free.eigenvalues[-1], 3.0, atol=1e-8)
    assert free.escape_loss < free.loss


# ---------------------------------------------------------------------------------------------------------------
# Finding critical points


def test_find_critical_point_on_the_toy_reaches_a_true_critical_point():
    for start in ([0.3, -0.2], [1.5, 0.2], [-0.4, -1.1]):
        s = C.find_critical_point(toy, jnp.array(start), tol=1e-10)
        assert bool(s.converged)
        w = np.asarray(s.params)
        g = np.array([-2 * w[1] * (1 - w[0] * w[1]), -2 * w[0] * (1 - w[0] * w[1])])  # closed-form gradient
        assert np.linalg.norm(g) <= 1e-10
        # the critical set of L = (1 − w₁w₂)² is the origin and the valley w₁w₂ = 1
        assert np.linalg.norm(w) < 1e-8 or abs(w[0] * w[1] - 1) < 1e-8


@pytest.mark.parametrize("method", ["dense", "cg"])
def test_find_critical_point_on_an_mlp(method):
    loss, params, data = _mlp_problem(n=30, h=3)
    f = _closed(loss, data)
    s = C.find_critical_point(f, params, tol=1e-9, max_steps=200, method=method, cg_steps=60)
    g0 = float(s.grad_norm_history[0])
    assert float(s.grad_norm) < g0
    hist = np.asarray(s.grad_norm_history)
    hist = hist[np.isfinite(hist)]
    assert np.all(np.diff(hist) < 0)  # every accepted step lowers ‖g‖
    gn = float(jnp.linalg.norm(ravel_pytree(jax.grad(f)(s.params))[0]))
    assert gn == pytest.approx(float(s.grad_norm), rel=1e-6)
    if method == "dense":
        assert bool(s.converged) and gn <= 1e-9
        assert C.classify_critical_point(f, s.params).kind != "not_critical"


def test_find_critical_point_vmaps_over_starts():
    starts = jnp.array([[0.3, -0.2], [1.5, 0.2], [-0.4, -1.1]])
    out = jax.vmap(lambda w: C.find_critical_point(toy, w, tol=1e-10))(starts)
    assert out.params.shape == (3, 2) and bool(jnp.all(out.converged))
