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
from jaxml.curvature import _core, _krylov

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


@pytest.mark.parametrize("kern", [_krylov._DEVICE, _krylov._HOST], ids=["device", "host"])
def test_thick_restart_basis_stays_orthonormal_in_float32_on_a_wide_spectrum(kern):
    # Eigenvalues over nine decades, float32, run to full depth: one Gram–Schmidt pass loses orthogonality
    # (≈1e-5 here), the DGKS second pass keeps |VᵀV − I| at a few ε — in the jitted step and the NumPy one.
    with jax.enable_x64(False):
        rng = np.random.default_rng(3)
        q, _ = np.linalg.qr(rng.normal(size=(300, 300)))
        a = jnp.asarray((q * np.logspace(-6, 3, 300)) @ q.T, jnp.float32)
        op = jax.tree_util.Partial(lambda m, v: m @ v, a)
        basis, t = kern.init(jnp.asarray(rng.normal(size=300), jnp.float32), rows=301)
        ahead = None  # the host starts each next product early (the device kernels ignore it)
        for j in range(299):
            basis, t, ahead, _ = kern.step(op, basis, t, j, np.float32(10 * np.finfo(np.float32).eps), ahead, j < 298)
        v = np.asarray(basis[:300], np.float64)
        assert np.max(np.abs(v @ v.T - np.eye(300))) <= 8 * np.finfo(np.float32).eps
        # T = VᵀAV: the step's Gram–Schmidt coefficients are the projected matrix
        tt = np.asarray(t, np.float64)[:299, :299]
        proj = v[:299] @ np.asarray(a, np.float64) @ v[:299].T
        np.testing.assert_allclose(np.triu(tt), np.triu(proj), atol=1e-4 * 1e3)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-11), (np.float32, 2e-5)])
def test_host_products_started_early_equal_the_true_products_through_a_restart(dtype, rtol):
    # The host dispatches H·ṽ before its full Gram–Schmidt pass and corrects it with the Lanczos relation:
    # the H·vⱼ₊₁ it hands the next step (s·y − Vᵀσ) must be A·vⱼ₊₁, before and after a thick restart.
    with jax.enable_x64(dtype == np.float64):
        rng = np.random.default_rng(7)
        q, _ = np.linalg.qr(rng.normal(size=(200, 200)))
        a = (q * np.concatenate([np.linspace(-1.0, 1.0, 195), [9.0, 8.0, 7.0, -6.0, 5.0]])) @ q.T
        op = jax.tree_util.Partial(lambda m, v: m @ v, jnp.asarray(a, dtype))
        basis, t = _krylov._host_init(rng.normal(size=200).astype(dtype), rows=13)
        btol = np.asarray(10 * np.finfo(dtype).eps, dtype)
        ahead, checked = None, 0
        for sweep in range(2):
            if sweep:  # basis full: keep the 5 top Ritz vectors, go on from the residual row
                values, vecs = np.linalg.eigh(np.triu(t[:12, :12]) + np.triu(t[:12, :12], 1).T)
                s = np.zeros((13, 5), dtype)
                s[:12] = vecs[:, -5:]
                basis = _krylov._host_rotate(basis, s, 12, keep=5)
                t = np.diag(np.concatenate([values[-5:], np.zeros(8)])).astype(dtype)
            for j in range(5 * sweep, 12):
                before = ahead
                early = j < 11 and not (sweep and j == 5)  # as the loop: not before a check or right after a restart
                basis, t, ahead, made = _krylov._host_step(op, basis, t, j, btol, ahead, early=early)
                assert made == (before is None) + early
                if ahead is not None:
                    got = ahead.scale * np.asarray(ahead.product, np.float64) - ahead.shift @ basis[: j + 2]
                    want = a @ np.asarray(basis[j + 1], np.float64)
                    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * np.abs(want).max())
                    checked += 1
        assert checked == 11 + 5  # none dropped: each step but the last and the restart's started the next


@pytest.mark.parametrize("kern", [_krylov._DEVICE, _krylov._HOST], ids=["device", "host"])
def test_restart_rotation_over_column_blocks_equals_the_matrix_product(kern):
    # P = 40000 spans several column blocks of both kernels (the device's last one clamped and overlapping):
    # V[:keep] must be SᵀV[:m], row keep the old row m, the rest zero.
    rng = np.random.default_rng(2)
    m, keep, p = 10, 4, 40000
    basis = rng.normal(size=(m + 1, p))
    s = np.zeros((m + 1, keep))
    s[:m] = rng.normal(size=(m, keep))
    start = jnp.asarray(basis) if kern is _krylov._DEVICE else basis.copy()
    out = np.asarray(kern.rotate(start, jnp.asarray(s) if kern is _krylov._DEVICE else s, m, keep=keep))
    np.testing.assert_allclose(out[:keep], s[:m].T @ basis[:m], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out[keep], basis[m])
    assert not out[keep + 1 :].any()


@pytest.mark.parametrize("which", ["top", "bottom", "both"])
def test_device_and_host_kernels_agree_with_dense_eigh_through_restarts_and_breakdowns(which):
    # The same Lanczos on both kernel sets, with a small basis (restarts) and a spectrum of 7 distinct values
    # (an invariant Krylov subspace after 7 steps: a breakdown, then a fresh direction).
    rng = np.random.default_rng(5)
    f, a = _quadratic(np.concatenate([[-3.0, -1.0, 0.5, 1.0, 2.0, 4.0], np.zeros(54)]), seed=5)
    lam = np.linalg.eigvalsh(a)
    v0 = jnp.asarray(rng.normal(size=60))
    op = jax.tree_util.Partial(lambda m, v: m @ v, jnp.asarray(a))
    out = {}
    for on_host in (False, True):
        out[on_host] = _krylov.eigsh(
            op, v0, 3, which=which, tol=1e-10, max_hvps=500, basis_size=8, seed=0.3, on_host=on_host
        )
    want = {"top": lam[::-1][:3], "bottom": lam[:3], "both": np.concatenate([lam[:3], lam[-3:]])}[which]
    for res in out.values():
        assert res.converged
        np.testing.assert_allclose(res.values, want, atol=1e-9)
        vecs = np.asarray(res.vectors)
        np.testing.assert_allclose(vecs @ a, res.values[:, None] * vecs, atol=1e-8)


def test_no_recompilation_for_another_k_tol_key_or_data_of_the_same_shapes():
    f, params, data = _mlp()
    C.eigenpairs(f, params, 2, data=data, key=0)
    # on a CPU the only program of the Lanczos loop is the product (the basis is kept in NumPy)
    product, step = _krylov._product._cache_size(), _krylov._step._cache_size()
    other = (data[0] + 1.0, (data[1] + 1) % 3)
    C.eigenpairs(f, params, 3, data=other, key=jax.random.key(5), tol=1e-6, which="bottom")
    C.top_eigenvalues(f, jax.tree_util.tree_map(lambda a: a * 0.5, params), 1, data=data, key=7)
    assert _krylov._product._cache_size() == product
    assert _krylov._step._cache_size() == step
    # the device kernels: one step program whatever k, which or tol
    op, theta, _ = _core.operator(f, params, data=data)
    v0 = jnp.ones_like(theta)
    kw = dict(max_hvps=60, basis_size=29, seed=0.0, on_host=False)
    _krylov.eigsh(op, v0, 2, which="top", tol=1e-6, **kw)
    step = _krylov._step._cache_size()
    _krylov.eigsh(op, v0 * 2, 4, which="bottom", tol=1e-3, **kw)
    assert _krylov._step._cache_size() == step


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


def test_compile_options_an_xla_does_not_know_fall_back_to_a_plain_jit():
    # The curvature programs carry XLA:CPU compile options; where XLA rejects a name, the same program compiles
    # without them (the same numbers) instead of failing.
    double = _core._tuned(lambda x: 2.0 * x, {"xla_cpu_no_such_option": True})
    np.testing.assert_array_equal(double(jnp.arange(3.0)), [0.0, 2.0, 4.0])
    with pytest.raises(TypeError):  # any other error still surfaces
        double("not an array")
