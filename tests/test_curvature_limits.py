"""The curvature paths at their limits: thick restarts in bounded memory, no recompilation, the dense Hessian
from batched products, SLQ's standard errors — each against dense ``numpy.linalg.eigh`` in float64 — and the
curvature doors' bad inputs."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxml import curvature as C
from jaxml import losses, models, train
from jaxml.curvature import _lanczos

pytestmark = pytest.mark.usefixtures("x64")  # float64 throughout (the shared fixture in conftest.py)


def _quadratic(spectrum: np.ndarray, seed: int = 0):
    """f(θ) = ½θᵀAθ with A = Q diag(spectrum) Qᵀ for a random rotation Q: H = A everywhere."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(spectrum.size, spectrum.size)))
    a = jnp.asarray((q * spectrum) @ q.T)
    return (lambda t: 0.5 * t @ a @ t), np.asarray(a)


def _mlp(hidden=(12,), n=80, seed=0):
    x = jax.random.normal(jax.random.key(seed), (n, 5))
    y = jax.random.randint(jax.random.key(seed + 1), (n,), 0, 3)
    model = models.mlp(5, list(hidden), 3, activation=jnp.tanh)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(seed + 2)))
    return train.supervised(model.apply, losses.softmax_cross_entropy), params, (x, y)


# ----------------------------------------------------------------------------------------------------------
# Thick-restart Lanczos


@pytest.mark.parametrize("which", ["top", "bottom"])
def test_restarted_lanczos_in_a_small_basis_matches_dense_eigh(which):
    # A bulk and well-separated ends, like a network's Hessian; a basis of 12 vectors must restart many times.
    rng = np.random.default_rng(1)
    spectrum = np.concatenate([rng.uniform(-0.5, 1.0, 390), [9.0, 7.5, 6.0, -4.0, -3.0, -2.5, 5.0, -1.5, 4.0, 3.0]])
    f, a = _quadratic(spectrum)
    lam = np.linalg.eigh(a)[0]
    want = lam[::-1][:4] if which == "top" else lam[:4]
    res = C.eigenpairs(f, jnp.zeros(400), 4, which=which, basis_size=12, max_steps=2000, key=3, tol=1e-10)
    assert res.converged and res.num_hvps > 12  # it restarted, and still converged
    np.testing.assert_allclose(res.eigenvalues, want, rtol=1e-9)
    vecs = np.stack([np.asarray(v) for v in res.eigenvectors])
    np.testing.assert_allclose(vecs @ a, res.eigenvalues[:, None] * vecs, atol=1e-8)
    np.testing.assert_allclose(vecs @ vecs.T, np.eye(4), atol=1e-9)


def test_thick_restart_basis_stays_orthonormal_in_float32_on_a_wide_spectrum():
    # Eigenvalues over nine decades, float32, a basis of 20 rows restarted many times with a breakdown's fresh
    # direction and a probe: the kept Ritz vectors and new rows stay orthonormal to a few ε, and T is VᵀAV.
    with jax.enable_x64(False):
        rng = np.random.default_rng(3)
        q, _ = np.linalg.qr(rng.normal(size=(300, 300)))
        a = (q * np.logspace(-6, 3, 300)) @ q.T
        op = jax.tree_util.Partial(lambda m, v: m @ v, jnp.asarray(a, jnp.float32))
        lz = _lanczos._Lanczos(op, rng.normal(size=300).astype(np.float32), 21)
        for _ in range(4):
            while lz.j < 20:
                lz.step()
            values, s, residuals = lz.ritz()
            lz.restart(values, s, np.arange(values.size - 6, values.size))
        v = np.asarray(lz.basis[: lz.j + 1], np.float64)
        assert np.max(np.abs(v @ v.T - np.eye(lz.j + 1))) <= 8 * np.finfo(np.float32).eps
        lz.fresh(rng)  # a new direction orthogonal to every row
        v = np.asarray(lz.basis[: lz.j + 1], np.float64)
        assert np.max(np.abs(v @ v.T - np.eye(lz.j + 1))) <= 8 * np.finfo(np.float32).eps
        for _ in range(5):
            lz.step()
        v = np.asarray(lz.basis[: lz.j], np.float64)
        np.testing.assert_allclose(lz.t[: lz.j, : lz.j], v @ a @ v.T, atol=1e-5 * 1e3)


def test_restart_keeps_locked_rows_and_writes_ritz_vectors_then_the_residual_row():
    # V[a:a+c] must be SᵀV[a:j], row a+c the old row j (the residual vector), later rows zero, rows before a kept.
    rng = np.random.default_rng(2)
    rows, p, a, j = 12, 5000, 3, 10
    op = jax.tree_util.Partial(lambda v: v)
    lz = _lanczos._Lanczos(op, rng.normal(size=p), rows)
    basis = rng.normal(size=(rows, p))
    lz.basis, lz.locked, lz.j = jnp.asarray(basis), a, j
    lz.t[:] = rng.normal(size=(rows, rows))
    values, s = np.arange(j - a, dtype=float), np.linalg.qr(rng.normal(size=(j - a, j - a)))[0]
    keep = np.array([1, 4, 5, 6])
    couplings = lz.t[:a, a:j] @ s[:, keep]
    lz.restart(values, s, keep)
    out = np.asarray(lz.basis)
    np.testing.assert_array_equal(out[:a], basis[:a])
    np.testing.assert_allclose(out[a : a + 4], s[:, keep].T @ basis[a:j], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out[a + 4], basis[j])
    assert not out[a + 5 :].any()
    assert lz.j == a + 4
    np.testing.assert_array_equal(np.diag(lz.t)[a : a + 4], values[keep])
    np.testing.assert_allclose(lz.t[:a, a : a + 4], couplings)


@pytest.mark.parametrize("which", ["top", "bottom", "both"])
def test_small_basis_agrees_with_dense_eigh_through_restarts_and_breakdowns(which):
    # A small basis (restarts) and a spectrum of 7 distinct values (an invariant Krylov subspace after 7 steps:
    # a breakdown, then a fresh direction; the zeros are repeated 54 times).
    rng = np.random.default_rng(5)
    f, a = _quadratic(np.concatenate([[-3.0, -1.0, 0.5, 1.0, 2.0, 4.0], np.zeros(54)]), seed=5)
    lam = np.linalg.eigvalsh(a)
    op = jax.tree_util.Partial(lambda m, v: m @ v, jnp.asarray(a))
    res = _lanczos.eigsh(
        op, rng.normal(size=60), 3, which=which, tol=1e-10, max_hvps=500, basis_size=12, rng=np.random.default_rng(0)
    )
    want = {"top": lam[::-1][:3], "bottom": lam[:3], "both": np.concatenate([lam[:3], lam[-3:]])}[which]
    assert res.converged
    np.testing.assert_allclose(res.values, want, atol=1e-9)
    vecs = np.asarray(res.vectors)
    np.testing.assert_allclose(vecs @ a, res.values[:, None] * vecs, atol=1e-8)


def test_a_zero_breakdown_needs_the_fresh_direction():
    # v₀ = e₀ is an eigenvector: Hv₀ − αv₀ is exactly 0, and only a fresh direction lets the run go on.
    d = jnp.asarray(np.concatenate([[4.0, 3.0, 3.0], np.linspace(0.0, 1.0, 60)]))
    op = jax.tree_util.Partial(lambda d, v: d * v, d)
    v0 = np.zeros(63)
    v0[0] = 1.0
    res = _lanczos.eigsh(op, v0, 3, which="top", tol=1e-10, max_hvps=200, basis_size=20, rng=np.random.default_rng(1))
    assert res.converged
    np.testing.assert_allclose(res.values, [4.0, 3.0, 3.0], rtol=1e-10)


def test_thick_restart_keeps_the_wanted_end():
    # Two outliers above a bulk of 500, a basis of 8: keeping the Ritz vectors nearest the top after each
    # restart converges in a few restarts (keeping the wrong end would start over each time).
    d = jnp.asarray(np.concatenate([np.linspace(0.0, 1.0, 500), [10.0, 9.0]]))
    op = jax.tree_util.Partial(lambda d, v: d * v, d)
    res = _lanczos.eigsh(
        op, np.ones(502), 2, which="top", tol=1e-8, max_hvps=400, basis_size=8, rng=np.random.default_rng(0)
    )
    assert res.converged and res.num_hvps <= 80
    np.testing.assert_allclose(res.values, [10.0, 9.0], rtol=1e-8)


def test_no_recompilation_for_another_k_tol_key_or_data_of_the_same_shapes():
    f, params, data = _mlp()
    C.eigenpairs(f, params, 2, data=data, key=0)
    step, combine = _lanczos._step._cache_size(), _lanczos._combine._cache_size()
    other = (data[0] + 1.0, (data[1] + 1) % 3)
    C.eigenpairs(f, params, 3, data=other, key=jax.random.key(5), tol=1e-6, which="bottom")
    C.top_eigenvalues(f, jax.tree_util.tree_map(lambda a: a * 0.5, params), 1, data=data, key=7)
    assert _lanczos._step._cache_size() == step
    assert _lanczos._combine._cache_size() <= combine + 1  # S padded to 4 columns: k ≤ 4 and 5–8 share one


def test_int_seed_and_key_give_the_same_answer():
    f, params, data = _mlp()
    a = C.eigenpairs(f, params, 2, data=data, key=11)
    b = C.eigenpairs(f, params, 2, data=data, key=jax.random.key(11))
    c = C.eigenpairs(f, params, 2, data=data, key=jax.random.PRNGKey(11))
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    np.testing.assert_array_equal(a.eigenvalues, c.eigenvalues)


# ----------------------------------------------------------------------------------------------------------
# Dense Hessian and SLQ


def test_dense_hessian_from_products_equals_jax_hessian_and_is_exactly_symmetric():
    f, params, data = _mlp()
    theta, unravel = ravel_pytree(params)
    ref = np.asarray(jax.hessian(lambda t: f(unravel(t), data))(theta))
    for kwargs in ({}, {"chunk_size": 7}, {"data": data, "batch_size": 13}):
        obj = f if "data" in kwargs else (lambda p: f(p, data))
        h = np.asarray(C.hessian(obj, params, **kwargs))
        np.testing.assert_array_equal(h, h.T)
        np.testing.assert_allclose(h, ref, atol=1e-12)


def test_slq_trace_and_second_moment_fall_within_their_standard_errors():
    f, params, data = _mlp(hidden=(10,))
    h = np.asarray(C.hessian(f, params, data=data))
    lam = np.linalg.eigvalsh(h)
    p = lam.size
    rho = C.spectral_density(f, params, data=data, key=4, num_vectors=24, num_steps=30)
    assert np.isfinite(rho.trace_stderr) and rho.trace_stderr > 0
    assert abs(rho.trace - lam.sum()) <= 4 * rho.trace_stderr
    assert abs(rho.moment2 - np.sum(lam**2) / p) <= 4 * rho.moment2_stderr
    # the smoothed density's first moment is the same estimate divided by P
    mean = np.trapezoid(rho.grid * rho.density, rho.grid)
    assert mean == pytest.approx(rho.trace / p, rel=1e-6, abs=1e-9)


# ----------------------------------------------------------------------------------------------------------
# Bad inputs at the curvature doors


def _toy(w):
    return (1.0 - w[0] * w[1]) ** 2


NAN = jnp.array([jnp.nan, 0.0])
BAD = [
    (lambda: C.hessian(lambda w: w**2, jnp.ones(2)), ValueError, "real scalar"),
    (lambda: C.hvp(lambda w: w**2, jnp.ones(2), jnp.ones(2)), ValueError, "real scalar"),
    (lambda: C.top_eigenvalues(lambda w: w, jnp.ones(2), 1), ValueError, "real scalar"),
    (lambda: C.hessian(_toy, NAN), ValueError, "params"),
    (lambda: C.top_eigenvalues(_toy, NAN, 1), ValueError, "params"),
    (lambda: C.classify_critical_point(_toy, NAN), ValueError, "params"),
    (lambda: C.find_critical_point(_toy, NAN), ValueError, "params"),
    (lambda: C.spectral_density(_toy, NAN), ValueError, "params"),
    (lambda: C.hutchinson_trace(_toy, NAN), ValueError, "params"),
    (lambda: C.hvp(_toy, jnp.ones(2), NAN), ValueError, "v"),
    (lambda: C.hessian(_toy, jnp.ones(2), chunk_size=0), ValueError, "chunk_size"),
    (lambda: C.hessian(_toy, jnp.ones(2), chunk_size=2.5), TypeError, "chunk_size"),
    (lambda: C.top_eigenvalues(_toy, jnp.ones(2), 0), ValueError, "k"),
    (lambda: C.top_eigenvalues(_toy, jnp.ones(2), 1, key="seed"), TypeError, "key"),
    (lambda: C.top_eigenvalues(_toy, jnp.ones(2), 1, tol=-1.0), ValueError, "tol"),
    (lambda: C.top_eigenvalues(_toy, jnp.ones(2), 1, tol=float("nan")), ValueError, "tol"),
    (lambda: C.eigenpairs(_toy, jnp.ones(2), 1, which="middle"), ValueError, "which"),
    (lambda: C.eigenpairs(_toy, jnp.ones(2), 1, max_steps=0), ValueError, "max_steps"),
    (lambda: C.eigenpairs(_toy, jnp.ones(2), 1, basis_size=1), ValueError, "basis_size"),
    (lambda: C.eigenpairs(_toy, jnp.ones(2), 1, check_every=0), ValueError, "check_every"),
    (lambda: C.spectral_density(_toy, jnp.ones(2), num_vectors=0), ValueError, "num_vectors"),
    (lambda: C.spectral_density(_toy, jnp.ones(2), sigma=-1.0), ValueError, "sigma"),
    (lambda: C.hutchinson_trace(_toy, jnp.ones(2), tol=0.0), ValueError, "tol"),
    (lambda: C.hutchinson_trace(_toy, jnp.ones(2), max_samples=-3), ValueError, "max_samples"),
    (lambda: C.classify_critical_point(_toy, jnp.ones(2), grad_tol=-1.0), ValueError, "grad_tol"),
    (lambda: C.classify_critical_point(_toy, jnp.ones(2), dense_threshold=0), ValueError, "dense_threshold"),
    (lambda: C.find_critical_point(_toy, jnp.ones(2), tol=0.0), ValueError, "tol"),
    (lambda: C.find_critical_point(_toy, jnp.ones(2), damping=float("inf")), ValueError, "damping"),
    (lambda: C.hessian(lambda p, b: _toy(p), jnp.ones(2), data=(np.full(3, np.nan),)), ValueError, "data[0]"),
    (lambda: C.hessian(lambda p, b: _toy(p), jnp.ones(2), data=(np.zeros((0, 2)),)), ValueError, "data"),
    (lambda: C.hessian(lambda p, b: _toy(p), jnp.ones(2), data=(np.ones(3),), batch_size=-1), ValueError, "batch"),
    (lambda: C.hessian(_toy, jnp.ones(2), data=(np.zeros(3),)), TypeError, "f(params, batch)"),
    (lambda: C.density_on_grid([0.0], [1.0], [0.0], sigma=0.0), ValueError, "sigma"),
]


@pytest.mark.parametrize(("call", "kind", "names"), BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_inputs_give_errors_naming_the_argument(call, kind, names):
    with pytest.raises(kind, match=names.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        call()


# ----------------------------------------------------------------------------------------------------------
# The dense spectrum on the host, and the one-off product


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_spectrum_equals_numpy_eigh_with_the_lowest_eigenvector(dtype):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(120, 120))
    a = ((a + a.T) / 2).astype(dtype)
    lam, u = C.critical.dense_spectrum(a)
    ref, vecs = np.linalg.eigh(a.astype(np.float64))
    eps = np.finfo(dtype).eps
    assert lam.dtype == dtype and u.dtype == dtype
    np.testing.assert_allclose(lam, ref, atol=200 * eps * np.abs(ref).max())
    assert abs(np.linalg.norm(u) - 1) <= 10 * eps
    assert abs(abs(float(u.astype(np.float64) @ vecs[:, 0])) - 1) <= 1e3 * eps  # the same eigenvector, up to sign


def test_dense_spectrum_of_a_degenerate_lowest_eigenvalue_returns_a_vector_of_its_eigenspace():
    q, _ = np.linalg.qr(np.random.default_rng(8).normal(size=(40, 40)))
    spectrum = np.concatenate([[-2.0, -2.0, -2.0], np.linspace(0.0, 5.0, 37)])
    a = (q * spectrum) @ q.T
    lam, u = C.critical.dense_spectrum(a)
    np.testing.assert_allclose(lam, np.sort(spectrum), atol=1e-12)
    np.testing.assert_allclose(a @ u, -2.0 * u, atol=1e-12)


def test_one_off_hvp_is_one_program_and_equals_the_dense_hessian_times_v():
    f, params, data = _mlp()
    theta, unravel = ravel_pytree(params)
    v = jax.random.normal(jax.random.key(3), theta.shape, theta.dtype)
    ref = np.asarray(jax.hessian(lambda t: f(unravel(t), data))(theta)) @ np.asarray(v)
    hess_mod = importlib.import_module("jaxml.curvature.hessian")
    before = hess_mod._hvp_once_jit._cache_size()
    for kwargs in ({"data": data}, {"data": data, "batch_size": 13}, {"data": data, "batch_size": 500}):
        got = ravel_pytree(C.hvp(f, params, unravel(v), **kwargs))[0]
        np.testing.assert_allclose(np.asarray(got), ref, atol=1e-12)
    assert hess_mod._hvp_once_jit._cache_size() == before + 1  # full batch and batch_size ≥ N: one program
