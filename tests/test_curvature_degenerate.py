"""Curvature where it matters: degenerate Hessians (repeated and zero eigenvalues), against ``numpy.linalg.eigvalsh``.

A single Krylov vector sees each eigenspace once, so a repeated eigenvalue needs the breakdown restart (a fresh
direction once the Krylov space closes) and the probe (a random restart after the wanted pairs are locked) to
be found k times. Each spectrum below is H = Q diag(λ) Qᵀ with a random rotation Q (so that no structure of a
diagonal helps), f(θ) = ½θᵀHθ in float64, and the oracle is ``eigvalsh`` of the dense H. The family covers
identity and scaled identity, low rank + ridge, two equal clusters, many zeros with a few negatives (a saddle
of a network), exact and 1e-8-close repeats, and the Hessian of a small MLP at a critical point found by
``find_critical_point``; ``classify_critical_point`` must give the same kind on the dense and Lanczos paths.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxml import curvature as C
from jaxml.curvature import _lanczos


def _lin(a, b, n):
    return list(np.linspace(a, b, n))


# name -> eigenvalues (P between 30 and 120)
SPECTRA = {
    "identity": [1.0] * 60,
    "scaled_identity": [3.7] * 45,
    "negative_identity": [-2.0] * 40,
    "ridge_low_rank": None,  # (2/5)XᵀX + 0.2·I, X 5×40: the bottom 35 are all 0.2 (filled below)
    "ridge_low_rank_wide": None,  # (2/10)XᵀX + 0.05·I, X 10×90
    "two_clusters": [2.0] * 50 + [1.0] * 50,
    "two_clusters_signed": [1.0] * 30 + [-1.0] * 30,
    "zeros_and_negatives": [0.0] * 70 + [-3.0, -1.0, -0.5] + _lin(1.0, 5.0, 7),
    "zeros_and_positives": [0.0] * 80 + [1.0, 2.0, 3.0, 4.0, 5.0],
    "repeated_exactly": [5.0] * 3 + [3.0] * 3 + [1.0] * 3 + _lin(-0.5, 0.5, 41),
    "repeated_to_1e-8": [4.0, 4.0 + 1e-8, 4.0 - 1e-8, 4.0 + 2e-8, 2.0, 2.0 - 1e-8] + _lin(-1.0, 1.0, 44),
    "top_multiplicity_above_k": [6.0] * 7 + _lin(0.0, 1.0, 60),
    "bottom_multiplicity_above_k": [-1.0] * 7 + _lin(0.0, 5.0, 60),
    "rank_one": [10.0] + [0.0] * 59,
    "rank_two_signed": [10.0, -10.0] + [0.0] * 58,
    "geometric": list(np.logspace(-1, 1, 60)),
    "one_positive_rest_negative": [1.0] + [-1.0] * 49,
    "integer_ladder_pairs": [float(i) for i in range(1, 31) for _ in range(2)],
    "outliers_and_bulk": [40.0, 40.0, 25.0, 25.0, 10.0] + _lin(-0.1, 0.3, 80),
    "zero_bulk_and_equal_outliers": [3.0] * 4 + [-3.0] * 4 + [0.0] * 100,
}


def _ridge(n: int, p: int, lam: float, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, p))
    return (2.0 / n) * x.T @ x + 2.0 * lam * np.eye(p)


def _matrix(name: str) -> np.ndarray:
    if name == "ridge_low_rank":
        return _ridge(5, 40, 0.1, 0)
    if name == "ridge_low_rank_wide":
        return _ridge(10, 90, 0.025, 1)
    lam = np.asarray(SPECTRA[name])
    q, _ = np.linalg.qr(np.random.default_rng(len(name)).normal(size=(lam.size, lam.size)))
    h = (q * lam) @ q.T
    return (h + h.T) / 2


def _quadratic(h: np.ndarray):
    hj = jnp.asarray(h)
    return lambda w: 0.5 * w @ hj @ w


def _rows(tree, k: int) -> np.ndarray:
    return np.stack([ravel_pytree(jax.tree_util.tree_map(lambda a, i=i: a[i], tree))[0] for i in range(k)])


def _check(h: np.ndarray, res: C.Eigenpairs, want: np.ndarray, tol: float) -> None:
    scale = np.abs(np.linalg.eigvalsh(h)).max()
    assert res.converged is True  # a Python bool, as documented
    assert res.eigenvalues.shape == want.shape
    np.testing.assert_allclose(res.eigenvalues, want, rtol=0, atol=10 * tol * scale)
    u = _rows(res.eigenvectors, want.size)
    np.testing.assert_allclose(u @ u.T, np.eye(want.size), atol=1e-8)
    true = np.linalg.norm(u @ h - res.eigenvalues[:, None] * u, axis=1)
    # the reported residuals are the true ones (to rounding), and they meet the tolerance
    np.testing.assert_allclose(res.residuals, true, rtol=0, atol=1e-12 * scale)
    assert np.all(true <= 1.01 * tol * scale)


@pytest.mark.parametrize("name", sorted(SPECTRA))
@pytest.mark.parametrize("which", ["top", "bottom"])
def test_extreme_eigenpairs_of_degenerate_spectra_match_eigvalsh(x64, name, which):
    h = _matrix(name)
    lam = np.linalg.eigvalsh(h)
    want = lam[::-1][:5] if which == "top" else lam[:5]
    tol = 1e-9
    res = C.eigenpairs(_quadratic(h), jnp.zeros(h.shape[0]), 5, which=which, key=3, tol=tol)
    _check(h, res, want, tol)


@pytest.mark.parametrize("name", ["two_clusters", "top_multiplicity_above_k", "zero_bulk_and_equal_outliers"])
def test_thick_restarts_in_a_small_basis_keep_multiplicities(x64, name):
    # a basis of 12 rows forces restarts and locking in little room
    h = _matrix(name)
    lam = np.linalg.eigvalsh(h)
    for which, want in (("top", lam[::-1][:4]), ("bottom", lam[:4])):
        res = C.eigenpairs(_quadratic(h), jnp.zeros(h.shape[0]), 4, which=which, key=1, tol=1e-9, basis_size=12)
        _check(h, res, want, 1e-9)


def test_issue_examples(x64):
    # the cases that returned wrong values marked converged
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 40)))
    f = lambda w: jnp.mean((x @ w) ** 2) + 0.1 * jnp.sum(w**2)  # noqa: E731
    bottom = C.eigenpairs(f, jnp.zeros(40), 5, which="bottom")
    np.testing.assert_allclose(bottom.eigenvalues, 0.2, rtol=1e-8)
    assert bottom.converged
    cp = C.classify_critical_point(f, jnp.zeros(40), dense_threshold=10)
    assert cp.kind == "local_minimum" and cp.num_zero == 0
    np.testing.assert_allclose(C.top_eigenvalues(lambda w: 0.5 * jnp.sum(w**2), jnp.zeros(100), 5), 1.0, rtol=1e-8)
    d = jnp.concatenate([jnp.full(50, 2.0), jnp.full(50, 1.0)])
    np.testing.assert_allclose(C.top_eigenvalues(lambda w: 0.5 * jnp.sum(d * w**2), jnp.zeros(100), 5), 2.0)


def test_k_values_always_or_a_clear_error(x64):
    f = lambda w: 0.5 * jnp.sum(w**2)  # noqa: E731
    for k in (1, 7, 12):
        assert C.top_eigenvalues(f, jnp.zeros(12), k).shape == (k,)
    with pytest.raises(ValueError, match="at most the number of parameters P=12"):
        C.top_eigenvalues(f, jnp.zeros(12), 13)


def test_float32_finds_repeated_eigenvalues_too():
    h = _matrix("two_clusters").astype(np.float32)
    res = C.eigenpairs(_quadratic(h), jnp.zeros(h.shape[0], jnp.float32), 5, key=0)
    assert res.converged
    np.testing.assert_allclose(res.eigenvalues, 2.0, rtol=1e-5)


def test_unconverged_run_says_so():
    # a bulk whose bottom cannot converge in 20 products: converged is False and the caller is warned
    d = jnp.linspace(0.0, 1.0, 400)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        res = C.eigenpairs(lambda w: 0.5 * jnp.sum(d * w**2), jnp.zeros(400), 5, which="bottom", max_steps=20)
    assert not res.converged and res.num_hvps == 20


# ---------------------------------------------------------------------------------------------------------------
# The second-order test on both paths


def _expected_kind(lam: np.ndarray) -> str:
    tol = np.sqrt(np.finfo(np.float64).eps) * np.abs(lam).max()
    return C.classify_eigenvalues(lam[0], lam[-1], tol)


@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_classify_critical_point_dense_and_lanczos_paths_agree(x64, name):
    h = _matrix(name)
    f = _quadratic(h)
    theta = jnp.zeros(h.shape[0])
    dense = C.classify_critical_point(f, theta, dense_threshold=10_000)
    lanczos = C.classify_critical_point(f, theta, dense_threshold=1, key=2)
    assert dense.exact and not lanczos.exact
    assert dense.kind == lanczos.kind == _expected_kind(np.linalg.eigvalsh(h))
    lam = np.asarray(dense.eigenvalues)
    np.testing.assert_allclose(np.asarray(lanczos.eigenvalues), np.r_[lam[:5], lam[-5:]], atol=1e-7 * np.abs(lam).max())


def _mlp_at_a_critical_point():
    """A tanh MLP 3-4-1 (21 parameters) on 30 points, at the critical point Levenberg–Marquardt reaches."""
    k1, k2, k3 = jax.random.split(jax.random.key(5), 3)
    x = jax.random.normal(k1, (30, 3))
    y = jnp.tanh(x @ jnp.array([1.0, -0.5, 0.3]))
    params = {"w1": 0.5 * jax.random.normal(k2, (3, 4)), "b1": jnp.zeros(4), "w2": 0.5 * jax.random.normal(k3, (4,))}

    def loss(p):
        return jnp.mean((jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] - y) ** 2) + 1e-3 * jnp.sum(p["w2"] ** 2)

    found = C.find_critical_point(loss, params, tol=1e-7, max_steps=200)
    assert bool(found.converged)
    return loss, found.params


def test_mlp_hessian_at_a_found_critical_point(x64):
    loss, params = _mlp_at_a_critical_point()
    h = np.asarray(C.hessian(loss, params))
    lam = np.linalg.eigvalsh(h)
    for which, want in (("top", lam[::-1][:5]), ("bottom", lam[:5])):
        res = C.eigenpairs(loss, params, 5, which=which, key=0, tol=1e-9, basis_size=12)
        _check(h, res, want, 1e-9)
    dense = C.classify_critical_point(loss, params, dense_threshold=10_000)
    lanczos = C.classify_critical_point(loss, params, dense_threshold=1, k=3)
    assert dense.kind == lanczos.kind
    np.testing.assert_allclose(np.asarray(lanczos.eigenvalues), np.r_[lam[:3], lam[-3:]], atol=1e-7 * np.abs(lam).max())


# ---------------------------------------------------------------------------------------------------------------
# The driver itself: the probe is what finds a copy the Krylov space cannot see


def test_without_the_probe_a_hidden_copy_is_missed_and_with_it_found(x64):
    # v₀ orthogonal to one copy of the top eigenvalue: that copy is invisible to the Krylov space (no breakdown
    # reveals it, the bulk keeps the space open, and both wanted values converge before rounding errors could
    # grow a component along it), so only the probe can find it: [5, 5], not [5, 3].
    d = np.concatenate([[5.0, 5.0, 3.0], np.linspace(0.0, 1.0, 150)])
    op = jax.tree_util.Partial(lambda d, v: d * v, jnp.asarray(d))
    v0 = np.ones(d.size)
    v0[1] = 0.0
    res = _lanczos.eigsh(op, v0, 2, which="top", tol=1e-10, max_hvps=300, basis_size=30, rng=np.random.default_rng(0))
    assert res.converged
    np.testing.assert_allclose(res.values, [5.0, 5.0], rtol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_the_probe_waits_until_its_extreme_ritz_pair_has_settled(x64, seed):
    # A hidden copy of 1.3 just above 1.1 and a bulk in [0, 1]: the probe's top Ritz value climbs slowly, and
    # while it is still below 1.1 its residual is large. Certifying on θ* alone (without r*) would return
    # [1.3, 1.1]; θ* + r* ≤ 1.1 holds only once the probe has found 1.3.
    d = np.concatenate([[1.3, 1.3, 1.1], np.linspace(0.0, 1.0, 300)])
    op = jax.tree_util.Partial(lambda d, v: d * v, jnp.asarray(d))
    v0 = np.random.default_rng(seed + 10).normal(size=d.size)
    v0[1] = 0.0
    res = _lanczos.eigsh(
        op, v0, 2, which="top", tol=1e-10, max_hvps=600, basis_size=30, rng=np.random.default_rng(seed)
    )
    assert res.converged
    np.testing.assert_allclose(res.values, [1.3, 1.3], rtol=1e-10)


def test_a_basis_larger_than_p_with_few_products_still_probes(x64):
    # P = 40 fits the basis, but 25 products cannot span ℝᴾ: the run probes instead of running out of products
    h = _matrix("ridge_low_rank")
    res = C.eigenpairs(_quadratic(h), jnp.zeros(40), 5, which="bottom", key=0, tol=1e-9, basis_size=60, max_steps=25)
    _check(h, res, np.linalg.eigvalsh(h)[:5], 1e-9)
    assert res.num_hvps <= 25
