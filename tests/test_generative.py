"""jaxml.generative against scikit-learn, scipy and the lecture's numbers (course §2.3–2.6, 2.9)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.naive_bayes import BernoulliNB, GaussianNB

from jaxml import _blocks, _gaussian, generative
from jaxml.data.pokemon import water_vs_normal

pytestmark = pytest.mark.usefixtures("x64")  # float64 throughout (the shared fixture in conftest.py)


def blobs(seed: int = 0, n: int = 300, d: int = 4, k: int = 3, offset: float = 0.0):
    """K Gaussian classes with different random covariances and unequal sizes."""
    rng = np.random.default_rng(seed)
    sizes = n // k + np.array([-20, 15, 5])[:k]  # unequal priors; fixed shapes share compiled code
    xs, ys = [], []
    for c, m in enumerate(sizes):
        a = rng.normal(size=(d, d))
        xs.append(rng.normal(size=(m, d)) @ a + 2.0 * rng.normal(size=d) + offset)
        ys.append(np.full(m, c))
    perm = rng.permutation(sum(sizes))
    return np.concatenate(xs)[perm], np.concatenate(ys)[perm]


def numpy_ml(x, y, k):
    means = np.stack([x[y == c].mean(0) for c in range(k)])
    covs = np.stack([np.cov(x[y == c].T, bias=True) for c in range(k)])
    priors = np.bincount(y, minlength=k) / len(y)
    return means, covs, priors


def test_full_matches_numpy_and_scipy():
    x, y = blobs(0)
    model = generative.fit(x, y, "full")
    means, covs, priors = numpy_ml(x, y, 3)
    np.testing.assert_allclose(model.means, means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.covariance, covs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.priors, priors, rtol=1e-14)
    xq = np.random.default_rng(1).normal(size=(50, 4)) * 3
    logpdf = np.stack([stats.multivariate_normal(means[c], covs[c]).logpdf(xq) for c in range(3)], axis=1)
    np.testing.assert_allclose(generative.log_likelihood(model, xq), logpdf, rtol=1e-10)
    joint = logpdf + np.log(priors)
    expected = np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True))
    proba = generative.predict_proba(model, xq)
    np.testing.assert_allclose(proba, expected, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-13)
    np.testing.assert_array_equal(generative.predict(model, xq), expected.argmax(1))


def test_full_matches_qda():
    x, y = blobs(2)
    qda = QuadraticDiscriminantAnalysis(store_covariance=True).fit(x, y)
    model = generative.fit(x, y, "full")
    # scikit-learn >= 1.8's QDA uses the maximum-likelihood 1/Nₖ covariance (earlier releases: 1/(Nₖ−1)).
    np.testing.assert_allclose(model.covariance, np.stack(qda.covariance_), rtol=1e-10)
    np.testing.assert_allclose(generative.predict_proba(model, x), qda.predict_proba(x), rtol=1e-8, atol=1e-12)


def test_shared_matches_lda_lsqr():
    x, y = blobs(3)
    lda = LinearDiscriminantAnalysis(solver="lsqr", store_covariance=True).fit(x, y)
    model = generative.fit(x, y, "shared")
    # lsqr's covariance_ is Σₖ (Nₖ/N) Σᵏ with the biased 1/Nₖ class covariances: the lecture's shared Σ.
    np.testing.assert_allclose(model.covariance[0], lda.covariance_, rtol=1e-10)
    np.testing.assert_allclose(model.means, lda.means_, rtol=1e-12)
    np.testing.assert_allclose(model.priors, lda.priors_, rtol=1e-14)
    xq = np.random.default_rng(4).normal(size=(60, 4)) * 3
    np.testing.assert_allclose(generative.predict_proba(model, xq), lda.predict_proba(xq), rtol=1e-8, atol=1e-13)
    # The shared Σ is the prior-weighted average of the class covariances.
    _, covs, priors = numpy_ml(x, y, 3)
    np.testing.assert_allclose(model.covariance[0], np.einsum("k,kij->ij", priors, covs), rtol=1e-10)
    # The class-free term dropped by predict_proba is restored by log_likelihood.
    logpdf = np.stack([stats.multivariate_normal(model.means[c], model.covariance[0]).logpdf(xq) for c in range(3)], 1)
    np.testing.assert_allclose(generative.log_likelihood(model, xq), logpdf, rtol=1e-10)


@pytest.mark.parametrize("var_smoothing", [0.0, 1e-9])
def test_diagonal_matches_gaussian_nb(var_smoothing):
    x, y = blobs(5, offset=100.0)
    nb = GaussianNB(var_smoothing=var_smoothing).fit(x, y)
    # GaussianNB adds var_smoothing × (largest feature variance) to every variance.
    model = generative.fit(x, y, "diagonal", reg=var_smoothing * np.var(x, axis=0).max())
    np.testing.assert_allclose(model.covariance, nb.var_, rtol=1e-10)
    np.testing.assert_allclose(model.means, nb.theta_, rtol=1e-12)
    np.testing.assert_allclose(generative.predict_proba(model, x), nb.predict_proba(x), rtol=1e-8, atol=1e-13)
    np.testing.assert_array_equal(generative.predict(model, x), nb.predict(x))


def test_diagonal_is_full_with_diagonal_covariance():
    x, y = blobs(6)
    diag = generative.fit(x, y, "diagonal")
    full = generative.fit(x, y, "full")
    np.testing.assert_allclose(generative.covariance_matrices(diag), full.covariance * np.eye(4), rtol=1e-12)
    as_full = full._replace(covariance=generative.covariance_matrices(diag))
    np.testing.assert_allclose(
        generative.predict_proba(diag, x), generative.predict_proba(as_full, x), rtol=1e-9, atol=1e-14
    )


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_bernoulli_matches_sklearn(alpha):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, size=200)
    x = (rng.random((200, 12)) < 0.2 + 0.2 * y[:, None] * (np.arange(12) % 3 == 0)).astype(float)
    nb = BernoulliNB(alpha=alpha).fit(x, y)
    model = generative.fit_bernoulli(x, y, alpha=alpha)
    np.testing.assert_allclose(np.log(model.feature_probs), nb.feature_log_prob_, rtol=1e-12)
    np.testing.assert_allclose(np.log(model.priors), nb.class_log_prior_, rtol=1e-12)
    np.testing.assert_allclose(generative.predict_proba(model, x), nb.predict_proba(x), rtol=1e-9, atol=1e-14)


def toy():
    """The lecture's toy set: C₁ (label 1) = one (1,1); C₂ (label 0) = 4×(1,0), 4×(0,1), 4×(0,0)."""
    x = np.array([[1, 1]] + [[1, 0]] * 4 + [[0, 1]] * 4 + [[0, 0]] * 4, dtype=float)
    y = np.array([1] + [0] * 12)
    return x, y


def test_naive_bayes_toy_is_three_sevenths():
    x, y = toy()
    model = generative.fit_bernoulli(x, y, alpha=0.0)
    p = generative.predict_proba(model, np.array([[1.0, 1.0]]))
    # P(C₁) = 1/13, P(x|C₁) = 1; P(C₂) = 12/13, P(x|C₂) = 1/3·1/3  ⇒  P(C₁|x) = 9/21 = 3/7.
    assert abs(float(p[0, 1]) - 3 / 7) < 1e-15
    assert int(generative.predict(model, np.array([[1.0, 1.0]]))[0]) == 0
    # The training points of C₂ are impossible under C₁ (probabilities exactly 0 and 1, no NaN).
    np.testing.assert_array_equal(generative.predict_proba(model, x[1:])[:, 1], 0.0)


def test_to_linear_is_the_posterior_and_the_closed_form():
    x, y = blobs(8, k=2)
    model = generative.fit(x, y, "shared")
    w, b = generative.to_linear(model)
    xq = np.random.default_rng(9).normal(size=(40, 4)) * 4
    np.testing.assert_allclose(
        jax.nn.sigmoid(xq @ w + b), generative.predict_proba(model, xq)[:, 1], rtol=1e-10, atol=1e-14
    )
    # course §2.6 in numpy: w = Σ⁻¹(μ¹−μ²), b = −½μ¹ᵀΣ⁻¹μ¹ + ½μ²ᵀΣ⁻¹μ² + ln(N₁/N₂); C₁ = label 1.
    mu1, mu2 = x[y == 1].mean(0), x[y == 0].mean(0)
    sigma = np.einsum("k,kij->ij", np.bincount(y) / len(y), np.stack([np.cov(x[y == c].T, bias=True) for c in (0, 1)]))
    inv = np.linalg.inv(sigma)
    np.testing.assert_allclose(w, inv @ (mu1 - mu2), rtol=1e-9)
    b_ref = -0.5 * mu1 @ inv @ mu1 + 0.5 * mu2 @ inv @ mu2 + np.log((y == 1).sum() / (y == 0).sum())
    np.testing.assert_allclose(b, b_ref, rtol=1e-9)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(x, y)
    np.testing.assert_allclose(w, lda.coef_[0], rtol=1e-8)
    np.testing.assert_allclose(b, lda.intercept_[0], rtol=1e-8)


@pytest.mark.parametrize("kind", ["full", "shared", "diagonal"])
def test_exact_in_high_dimensions(kind):
    # D = 150: the densities under- or overflow float64 (exp(log p) is 0 or inf), the log-space posterior not.
    rng = np.random.default_rng(10)
    d = 150
    x0 = rng.normal(size=(400, d)) * 50
    x1 = rng.normal(size=(350, d)) * 50 + 10
    x, y = np.concatenate([x0, x1]), np.r_[np.zeros(400, int), np.ones(350, int)]
    model = generative.fit(x, y, kind)
    covs = np.asarray(generative.covariance_matrices(model))
    xq = x[::25] + rng.normal(size=(30, d)) * 80
    logpdf = np.stack([stats.multivariate_normal(model.means[c], covs[c]).logpdf(xq) for c in (0, 1)], 1)
    assert np.all(np.exp(logpdf) == 0.0)  # the naive ratio would be 0/0
    joint = logpdf + np.log(model.priors)
    expected = np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True))
    proba = generative.predict_proba(model, xq)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba, expected, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(generative.log_likelihood(model, xq), logpdf, rtol=1e-10)


def test_reg_adds_to_the_diagonal():
    x, y = blobs(11)
    for kind in ("full", "shared", "diagonal"):
        a = generative.covariance_matrices(generative.fit(x, y, kind))
        b = generative.covariance_matrices(generative.fit(x, y, kind, reg=0.25))
        np.testing.assert_allclose(b - a, 0.25 * np.broadcast_to(np.eye(4), a.shape), atol=1e-12)


def test_pokemon_lecture_estimates():
    split = water_vs_normal("two")
    assert (len(split.y_train), int(split.y_train.sum()), len(split.y_test), int(split.y_test.sum())) == (
        140,
        79,
        70,
        33,
    )
    model = generative.fit(split.x_train, split.y_train, "full")
    water = 1  # C₁ in the lecture
    # The lecture prints μ¹ = [75.0, 71.3] and Σ¹ = [[874, 327], [327, 929]] (rounded).
    np.testing.assert_allclose(model.means[water], [75.0, 71.3], atol=0.05)
    np.testing.assert_allclose(model.covariance[water], [[874, 327], [327, 929]], atol=0.5)
    shared = generative.fit(split.x_train, split.y_train, "shared")
    np.testing.assert_allclose(
        shared.covariance[0], 79 / 140 * model.covariance[1] + 61 / 140 * model.covariance[0], rtol=1e-12
    )


# ----------------------------------------------------------------------------------------------- errors


def test_bad_labels_raise():
    x, y = blobs(12)
    with pytest.raises(ValueError, match="class 0 has no examples"):
        generative.fit(x, y + 1)
    y_gap = np.where(y == 1, 2, y)
    with pytest.raises(ValueError, match="class 1 has no examples"):
        generative.fit(x, y_gap)
    with pytest.raises(ValueError, match="0…K−1"):
        generative.fit(x, y - 1)
    with pytest.raises(ValueError, match="0…K−1"):
        generative.fit(x, y, num_classes=2)
    with pytest.raises(ValueError, match="integer class labels"):
        generative.fit(x, y + 0.5)
    with pytest.raises(ValueError, match="y must be a 1-D"):
        generative.fit(x, y[:-1])
    with pytest.raises(ValueError, match="x must be a 2-D"):
        generative.fit(x[:, 0], y)
    with pytest.raises(ValueError, match="covariance must be one of"):
        generative.fit(x, y, "spherical")
    with pytest.raises(ValueError, match=r"reg must lie in \[0, inf\]"):
        generative.fit(x, y, reg=-1.0)


def test_too_few_examples_raise():
    x, y = blobs(13)
    y = y.copy()
    y[np.flatnonzero(y == 2)[1:]] = 1  # class 2 keeps a single example
    for kind in ("full", "diagonal"):
        with pytest.raises(ValueError, match="class 2 has only 1 example"):
            generative.fit(x, y, kind)
    generative.fit(x, y, "full", reg=1e-3)  # with reg it is defined


def test_singular_covariance_suggests_reg():
    split = water_vs_normal("seven")  # Total = sum of the six stats
    for kind in ("full", "shared"):
        with pytest.raises(generative.SingularCovarianceError, match="reg") as info:
            generative.fit(split.x_train, split.y_train, kind)
        assert isinstance(info.value, ValueError)
        model = generative.fit(split.x_train, split.y_train, kind, reg=1e-3)
        assert np.all(np.isfinite(generative.predict_proba(model, split.x_test)))
    x, y = blobs(14)
    x = x.copy()
    x[y == 0, 2] = 7.0  # constant within class 0
    for kind in ("full", "diagonal"):
        with pytest.raises(generative.SingularCovarianceError, match="class 0"):
            generative.fit(x, y, kind)
    x[:, 2] = 7.0
    with pytest.raises(generative.SingularCovarianceError, match="constant"):
        generative.fit(x, y, "shared")


def test_other_errors():
    x, y = blobs(15)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        generative.fit(bad, y)
    model = generative.fit(x, y, "shared")
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        generative.predict_proba(model, x[:, :3])
    with pytest.raises(ValueError, match="two classes with a shared covariance"):
        generative.to_linear(model)
    x2, y2 = blobs(16, k=2)
    with pytest.raises(ValueError, match="two classes with a shared covariance"):
        generative.to_linear(generative.fit(x2, y2, "full"))
    with pytest.raises(ValueError, match="binary"):
        generative.fit_bernoulli(x, y)
    with pytest.raises(ValueError, match="alpha"):
        generative.fit_bernoulli(*toy(), alpha=-1.0)
    with pytest.raises(TypeError, match="GaussianModel"):
        generative.predict_proba((model.means, model.priors), x)


# ----------------------------------------------------------------------------------------------- transforms


@pytest.mark.parametrize("kind", ["full", "shared", "diagonal"])
def test_jit_matches_eager(kind):
    x, y = blobs(17)
    eager = generative.fit(x, y, kind)
    jitted = jax.jit(lambda a, b: generative.fit(a, b, kind, num_classes=3))(x, y)
    for u, v in zip(eager, jitted):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)
    proba = jax.jit(generative.predict_proba)(jitted, x)
    np.testing.assert_allclose(proba, generative.predict_proba(eager, x), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="num_classes must be given"):
        jax.jit(lambda a, b: generative.fit(a, b, kind))(x, y)


@pytest.mark.parametrize("kind", ["full", "shared", "diagonal"])
def test_vmap_over_bootstrap_resamples(kind):
    x, y = blobs(18)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    idx = np.random.default_rng(19).integers(0, len(y), size=(4, len(y)))
    batched = jax.vmap(lambda i: generative.fit(xj[i], yj[i], kind, num_classes=3))(jnp.asarray(idx))
    probs = jax.vmap(generative.predict_proba, in_axes=(0, None))(batched, x)
    for r in range(4):
        single = generative.fit(x[idx[r]], y[idx[r]], kind)
        np.testing.assert_allclose(batched.covariance[r], single.covariance, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(probs[r], generative.predict_proba(single, x), rtol=1e-9, atol=1e-14)
    # vmap over reg too (a traced reg).
    regs = jnp.array([0.0, 1.0])
    reg_models = jax.vmap(lambda r: generative.fit(x, y, kind, r, num_classes=3))(regs)
    np.testing.assert_allclose(
        generative.covariance_matrices(jax.tree_util.tree_map(lambda a: a[1], reg_models))
        - generative.covariance_matrices(jax.tree_util.tree_map(lambda a: a[0], reg_models)),
        np.broadcast_to(np.eye(4), (3, 4, 4)),
        atol=1e-10,
    )


def test_bernoulli_jit_vmap():
    x, y = toy()
    jitted = jax.jit(lambda a, b: generative.fit_bernoulli(a, b, 0.0, num_classes=2))(x, y)
    alphas = jnp.array([0.0, 1.0])
    models = jax.vmap(lambda a: generative.fit_bernoulli(x, y, a, num_classes=2))(alphas)
    p = jax.vmap(generative.predict_proba, in_axes=(0, None))(models, np.array([[1.0, 1.0]]))
    assert abs(float(generative.predict_proba(jitted, np.array([[1.0, 1.0]]))[0, 1]) - 3 / 7) < 1e-15
    assert abs(float(p[0, 0, 1]) - 3 / 7) < 1e-15
    # α = 1: p(x=1|C₁) = 2/3 per feature, p(x=1|C₂) = 5/14 ⇒ P(C₁|x) = (4/9)/(4/9 + 12·25/196).
    expected = (1 / 13 * 4 / 9) / (1 / 13 * 4 / 9 + 12 / 13 * (5 / 14) ** 2)
    np.testing.assert_allclose(p[1, 0, 1], expected, rtol=1e-13)


@pytest.mark.parametrize("kind", ["full", "shared", "diagonal"])
def test_sample_weight_is_a_subset_or_repetition(kind):
    x, y = blobs(20)
    rng = np.random.default_rng(21)
    mask = (rng.random(len(y)) < 0.6).astype(float)
    weighted = generative.fit(x, y, kind, sample_weight=mask)
    subset = generative.fit(x[mask > 0], y[mask > 0], kind)
    for u, v in zip(weighted, subset):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    counts = rng.integers(0, 4, size=len(y))
    repeated = generative.fit(np.repeat(x, counts, axis=0), np.repeat(y, counts), kind)
    for u, v in zip(generative.fit(x, y, kind, sample_weight=counts), repeated):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_sample_weight_errors():
    x, y = blobs(22)
    with pytest.raises(ValueError, match=r"sample_weight must lie in \[0, inf\]"):
        generative.fit(x, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        generative.fit(x, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="class 2 has no examples"):
        generative.fit(x, y, "shared", sample_weight=(y != 2).astype(float), num_classes=3)


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_large_n_runs_in_blocks_and_matches_sklearn(monkeypatch, offset):
    # Several blocks, N not a multiple of the block, and (through ``offset`` rows sliced off) host buffers at
    # different 64-byte alignments, so the aligned head block and the shifted tail block are both exercised.
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 256 * 5 * 8)
    rng = np.random.default_rng(23)
    n = 4 * 256 + 128 + 7
    y = rng.integers(0, 3, size=n + offset)[offset:]
    x = (rng.normal(size=(n + offset, 5)) @ rng.normal(size=(5, 5)))[offset:] + 3.0 * y[:, None] + 50.0
    assert _blocks.block_rows(n, 5 * 8) == 256 and x.flags.c_contiguous
    w = rng.integers(0, 3, size=n).astype(float)
    peers = {
        "shared": LinearDiscriminantAnalysis(solver="lsqr"),
        "full": QuadraticDiscriminantAnalysis(),
        "diagonal": GaussianNB(var_smoothing=0.0),
    }
    for kind, peer in peers.items():
        model = generative.fit(x, y, kind)
        np.testing.assert_allclose(generative.predict_proba(model, x), peer.fit(x, y).predict_proba(x), atol=1e-10)
        means, covs, _ = numpy_ml(x, y, 3)
        np.testing.assert_allclose(model.means, means, rtol=1e-12)
        dense = generative.covariance_matrices(model)
        if kind == "full":
            np.testing.assert_allclose(dense, covs, rtol=1e-10)
        # Weights through the blocked path: numpy's weighted (aweights) ML covariance.
        weighted = generative.covariance_matrices(generative.fit(x, y, kind, sample_weight=w))
        cw = np.stack([np.cov(x[y == c].T, aweights=w[y == c], bias=True) for c in range(3)])
        if kind == "shared":
            counts = np.array([w[y == c].sum() for c in range(3)])
            cw = np.broadcast_to(np.einsum("k,kij->ij", counts / counts.sum(), cw), cw.shape)
        elif kind == "diagonal":
            cw = cw * np.eye(5)
        np.testing.assert_allclose(weighted, cw, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------------------------- compiled programs


@pytest.mark.parametrize("kind", ["full", "shared", "diagonal"])
def test_new_data_and_new_row_counts_do_not_recompile(monkeypatch, kind):
    # Host data is streamed through one program per block shape: new values, and (above one block) a new
    # number of rows, reuse the compiled fit and posterior programs. Each fit still matches NumPy.
    monkeypatch.setattr(_blocks, "BLOCK_BYTES", 256 * 4 * 8)
    programs = (generative._block_moments_jit, _gaussian.posterior_block)
    sizes = []
    for seed, n in [(40, 300), (41, 300), (42, 700), (43, 1031)]:
        x, y = blobs(seed, n=n)
        model = generative.fit(x, y, kind)
        proba = generative.predict_proba(model, x)
        means, covs, priors = numpy_ml(x, y, 3)
        np.testing.assert_allclose(model.means, means, rtol=1e-12, atol=1e-12)
        expected = {
            "full": covs,
            "shared": np.broadcast_to(np.einsum("k,kij->ij", priors, covs), covs.shape),
            "diagonal": covs * np.eye(4),
        }[kind]
        np.testing.assert_allclose(generative.covariance_matrices(model), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-13)
        sizes.append(tuple(p._cache_size() for p in programs))
    assert min(sizes[0]) >= 1 and sizes == [sizes[0]] * 4, sizes


def test_host_blocks_cover_every_row_once():
    for n, block, head in [(256, 256, 0), (257, 256, 0), (1000, 256, 3), (1000, 256, 7), (5000, 512, 1), (513, 512, 2)]:
        seen = np.zeros(n, int)
        for start, lo, hi in _blocks.host_blocks(n, block, head):
            assert start >= 0 and start + block <= n and 0 <= lo < hi <= block
            seen[start + lo : start + hi] += 1
        np.testing.assert_array_equal(seen, 1)


def test_aligned_blocks_are_shared_not_copied():
    # A block starting at the first 64-byte-aligned row is handed to XLA without a copy on CPU.
    x = np.random.default_rng(0).normal(size=(1024 + 5, 5))[5:]  # 40-byte rows: some row is aligned
    head = _blocks._first_aligned_row(x)
    assert (x.ctypes.data + head * x.strides[0]) % _blocks.ALIGN == 0
    view = x[head : head + 256]
    assert jax.device_put(view).unsafe_buffer_pointer() == view.ctypes.data
