"""Edges and conventions of the numerical code that no other test pins, each against an independent oracle.

* optim — the EMA first moment *without* bias correction, the heavy ball, Nesterov's look-ahead, the lecture's
  RMSProp and Adagrad (numpy loops written out by hand); Nadam, AMSGrad and AdaBelief against optax; ``divide``'s
  0/0 guard (IEEE for everything else); schedules at their boundaries (closed forms).
* losses — the 0-1 loss at a score of exactly 0 and at ties; the probability-row check under ``jit`` (rows summing
  to 0.9 or 1.1 give NaN); labels under ``jit``; the clip of a zero probability.
* data — ``noisy_regression_1d`` draws x and the noise from independent streams; the XOR labels; splits;
  the standardizer's (population) std.
* curvature — ``minimum_ratio`` and ``classify_eigenvalues`` at λ equal to the tolerance; the escape step's sign
  convention on closed-form saddles; Hutchinson's and SLQ's standard errors (ddof = 1) recomputed from their own
  samples, and Hutchinson's stopping rule replayed by hand; full-depth quadrature nodes are eigenvalues; the dense
  Hessian with a partial last chunk.
* generative, classification, surfaces — closed forms, numpy, scikit-learn and ``jax.grad``.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import classification, curvature, data, generative, losses, optim, surfaces
from jaxml.optim import schedules

# ----------------------------------------------------------------------------------------------------------
# optim: numpy loops and optax
# ----------------------------------------------------------------------------------------------------------

_G = np.random.default_rng(0).normal(size=(6, 3)) * np.array([0.5, 2.0, 7.0])


def _run(opt: optax.GradientTransformation, grads: np.ndarray, *, count: bool = False) -> tuple[np.ndarray, object]:
    """Each update's output for the gradient sequence (``count=t`` passed when the block needs it)."""
    state = opt.init(jnp.zeros(grads.shape[1]))
    outs = []
    for t, g in enumerate(grads):
        kwargs = {"count": t} if count else {}
        u, state = opt.update(jnp.asarray(g, jnp.float32), state, **kwargs)
        outs.append(np.asarray(u, np.float64))
    return np.stack(outs), state


@pytest.mark.parametrize(
    "make",
    [
        lambda b: optim.first_moment(b, bias_correction=False),
        lambda b: optim.scale_by_momentum(b, ema=True, bias_correction=False),
    ],
    ids=["first_moment", "scale_by_momentum_ema"],
)
def test_ema_without_bias_correction_is_the_plain_moving_average(make):
    # μᵗ = β μᵗ⁻¹ + (1−β) gᵗ from μ⁻¹ = 0, output μᵗ itself: β on the old average, 1−β on the new gradient.
    beta = 0.7
    outs, state = _run(make(beta), _G, count=True)
    mu, expected = np.zeros(3), []
    for g in _G:
        mu = beta * mu + (1 - beta) * g
        expected.append(mu)
    np.testing.assert_allclose(outs, np.stack(expected), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(state.mu), mu, rtol=1e-5)


def test_heavy_ball_accumulates_the_incoming_updates():
    # mᵗ = λ mᵗ⁻¹ + uᵗ: λ on the old sum, weight 1 on the new update (not 1−λ, not swapped).
    lam = 0.6
    outs, _ = _run(optim.scale_by_momentum(lam), _G)
    m, expected = np.zeros(3), []
    for g in _G:
        m = lam * m + g
        expected.append(m)
    np.testing.assert_allclose(outs, np.stack(expected), rtol=1e-5)


def test_nesterov_first_moment_looks_one_step_ahead():
    # m̂ᵗ = β μᵗ/(1 − βᵗ⁺²) + (1−β) gᵗ/(1 − βᵗ⁺¹)  (t = 0, 1, … updates before this one).
    beta = 0.8
    outs, _ = _run(optim.first_moment(beta, nesterov=True), _G, count=True)
    mu, expected = np.zeros(3), []
    for t, g in enumerate(_G):
        mu = beta * mu + (1 - beta) * g
        expected.append(beta * mu / (1 - beta ** (t + 2)) + (1 - beta) * g / (1 - beta ** (t + 1)))
    np.testing.assert_allclose(outs, np.stack(expected), rtol=1e-5)


def test_rmsprop_and_adagrad_follow_the_lecture_with_eps_inside_the_root():
    # RMSProp: σ⁰² = |g⁰|², σᵗ² = α σᵗ⁻¹² + (1−α)|gᵗ|²; Adagrad: σᵗ² = mean of |g⁰|² … |gᵗ|²; both step
    # −η g / √(σ² + ε). A large ε so that ε inside or outside the root differ visibly.
    eta, alpha, eps = 0.1, 0.6, 0.3
    rms_out, _ = _run(optim.rmsprop(eta, alpha=alpha, eps=eps), _G)
    ada_out, _ = _run(optim.adagrad(eta, eps=eps), _G)
    ema, total, rms_expected, ada_expected = None, np.zeros(3), [], []
    for t, g in enumerate(_G):
        ema = g**2 if ema is None else alpha * ema + (1 - alpha) * g**2
        total = total + g**2
        rms_expected.append(-eta * g / np.sqrt(ema + eps))
        ada_expected.append(-eta * g / np.sqrt(total / (t + 1) + eps))
    np.testing.assert_allclose(rms_out, np.stack(rms_expected), rtol=1e-5)
    np.testing.assert_allclose(ada_out, np.stack(ada_expected), rtol=1e-5)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: optim.nadam(0.1, eps=0.05), lambda: optax.nadam(0.1, eps=0.05)),
        (lambda: optim.amsgrad(0.1, b2=0.5, eps=0.05), lambda: optax.amsgrad(0.1, b2=0.5, eps=0.05)),
        (
            lambda: optim.adabelief(0.1, b1=0.5, b2=0.7, eps=0.05, eps_root=0.01),
            lambda: optax.adabelief(0.1, b1=0.5, b2=0.7, eps=0.05, eps_root=0.01),
        ),
    ],
    ids=["nadam", "amsgrad", "adabelief"],
)
def test_adam_variants_match_optax(ours, theirs):
    # Large gradients first, then small ones: ν̂ shrinks, so AMSGrad's running max matters.
    grads = np.concatenate([_G[:2] * 10.0, _G[2:] * 0.01])
    got, _ = _run(ours(), grads)
    opt = theirs()
    state = opt.init(jnp.zeros(3))
    for t, g in enumerate(grads):
        u, state = opt.update(jnp.asarray(g, jnp.float32), state)
        np.testing.assert_allclose(got[t], np.asarray(u), rtol=2e-5, atol=1e-7, err_msg=f"step {t}")


def test_divide_zero_numerator_is_zero_else_ieee():
    # The promise: 0/d = 0 for every d (0/0 included), n/0 = ±inf for n ≠ 0, n/d plain division.
    n = np.array([0.0, 0.0, 3.0, -3.0, 2.0, -1.0], np.float32)
    d = np.array([0.0, 5.0, 0.0, 0.0, 4.0, -8.0], np.float32)
    pick = lambda i: optax.stateless(lambda g, p: g[i])  # noqa: E731  (numerator: row 0, denominator: row 1)
    q = optim.divide(pick(0), pick(1))
    out, _ = q.update(jnp.stack([n, d]), q.init(jnp.zeros((2, 6))))
    out = np.asarray(out)
    assert np.isposinf(out[2]) and np.isneginf(out[3]), out
    np.testing.assert_array_equal(out[[0, 1, 4, 5]], [0.0, 0.0, 0.5, 0.125])


def test_schedules_at_their_boundaries():
    # Closed forms at the steps where a floor, a clip or a shift changes the formula.
    step = schedules.step_decay(1.0, 0.5, 3)
    assert [float(step(t)) for t in (0, 2, 3, 5, 6)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    warm = schedules.linear_warmup(schedules.exponential_decay(1.0, 0.5), 2)  # η(t−W) after W = 2
    np.testing.assert_allclose([float(warm(t)) for t in (0, 1, 2, 3, 4)], [0.0, 0.5, 1.0, 0.5, 0.25])
    poly = schedules.polynomial_decay(1.0, 0.1, 4, power=2.0)
    np.testing.assert_allclose([float(poly(t)) for t in (0, 2, 4, 10)], [1.0, 0.9 * 0.25 + 0.1, 0.1, 0.1])
    cos = schedules.cosine_decay(1.0, 4, end_value=0.2)
    np.testing.assert_allclose([float(cos(t)) for t in (0, 2, 4, 9)], [1.0, 0.6, 0.2, 0.2], atol=1e-7)
    # s = t + 1: ηᵗ = d^−½ min(s^−½, s W^−1.5); at s = W both branches meet at (dW)^−½.
    tr = schedules.transformer(4, 4)
    np.testing.assert_allclose([float(tr(t)) for t in (0, 3, 15)], [0.5 * 4**-1.5, 0.25, 0.5 * 16**-0.5])


# ----------------------------------------------------------------------------------------------------------
# losses
# ----------------------------------------------------------------------------------------------------------


def test_zero_one_at_a_score_of_exactly_zero_and_at_ties():
    # Binary scores: class 1 only when z > 0, so z = 0 is class 0. (N, K) ties: the lowest index (argmax).
    zero = jnp.zeros(2)
    assert float(losses.zero_one(zero, jnp.array([0, 0]))) == 0.0
    assert float(losses.zero_one(zero, jnp.array([1, 1]))) == 1.0
    assert float(losses.accuracy(jnp.array([0.0, 1e-30, -1e-30]), jnp.array([0, 1, 0]))) == 1.0
    tie = jnp.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    assert float(losses.zero_one(tie, jnp.array([0, 1]))) == 0.0
    assert float(losses.zero_one(tie, jnp.array([1, 2]))) == 1.0


@pytest.mark.parametrize("row_sum", [0.9, 1.1])
def test_probability_rows_off_one_are_nan_under_jit(row_sum):
    # Concrete rows are refused with ValueError; under jit they cannot be, so the loss must be NaN, on both sides.
    good = jnp.array([[0.7, 0.3], [0.2, 0.8]])
    bad = good.at[1].set(jnp.array([0.2, row_sum - 0.2]))
    labels = jnp.array([0, 1])
    ce = jax.jit(losses.cross_entropy)
    np.testing.assert_allclose(float(ce(good, labels)), -np.mean(np.log([0.7, 0.8])), rtol=1e-6)
    assert math.isnan(float(ce(bad, labels)))
    with pytest.raises(ValueError):
        losses.cross_entropy(bad, labels)
    # soft targets of the scores' shape: the same check on the labels
    logits = jnp.array([[1.0, -1.0], [0.5, 0.0]])
    sce = jax.jit(losses.softmax_cross_entropy)
    assert math.isfinite(float(sce(logits, good)))
    assert math.isnan(float(sce(logits, bad)))


def test_labels_outside_range_are_nan_under_jit():
    assert math.isnan(float(jax.jit(losses.zero_one)(jnp.array([1.0, -1.0]), jnp.array([0, 2]))))
    assert float(jax.jit(losses.zero_one)(jnp.array([1.0, -1.0]), jnp.array([0, 1]))) == 1.0


def test_cross_entropy_clips_a_zero_probability_to_eps():
    # −log ŷ_y with ŷ_y = 0 raised to eps: −log(eps), finite.
    got = losses.cross_entropy(jnp.array([[1.0, 0.0]]), jnp.array([1]), eps=1e-6)
    np.testing.assert_allclose(float(got), -math.log(1e-6), rtol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------


def test_noisy_regression_draws_x_and_noise_from_independent_streams():
    n, noise = 5000, 0.5
    x1, y1 = data.noisy_regression_1d(3, n=n, noise=noise)
    x2, y2 = data.noisy_regression_1d(3, n=n, noise=noise, fn=lambda t: t**2)
    np.testing.assert_array_equal(x1, x2)  # x does not depend on fn
    e1, e2 = y1 - (np.sin(x1) + 0.3 * x1), y2 - x2**2
    np.testing.assert_allclose(e1, e2, atol=1e-12)  # nor does the noise
    # Independent streams: corr(x, ε) ~ N(0, 1/√n) (σ ≈ 0.014); a noise drawn from x's key gives ≈ 0.98.
    assert abs(np.corrcoef(x1, e1)[0, 1]) < 0.1
    # noise is the standard deviation of ε (standard error of the std ≈ noise/√(2n) ≈ 1%)
    assert abs(np.std(e1) / noise - 1) < 0.06 and abs(np.mean(e1)) < 4 * noise / math.sqrt(n)
    assert x1.min() >= -3.0 and x1.max() < 3.0


def test_xor_labels_are_the_exclusive_or_of_the_corners():
    x, y = data.xor(0, n_per_corner=3, noise=0.0)
    np.testing.assert_array_equal(y, np.logical_xor(x[:, 0] > 0.5, x[:, 1] > 0.5).astype(int))
    assert sorted(map(tuple, np.unique(x, axis=0).tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_split_is_a_partition_and_standardizer_uses_the_population_std():
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(11, 2))
    (x_tr, y_tr), (x_te, y_te) = data.train_test_split(x, np.arange(11), key=4, test_fraction=0.3)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(11))
    np.testing.assert_array_equal(np.concatenate([x_tr, x_te]), x[np.concatenate([y_tr, y_te])])
    scaler = data.fit_standardizer(x_tr)
    np.testing.assert_allclose(scaler.mean, x_tr.mean(0), rtol=1e-12)
    np.testing.assert_allclose(scaler.std, x_tr.std(0, ddof=0), rtol=1e-12)
    z = scaler.transform(x_tr)
    np.testing.assert_allclose(z.std(0), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------
# curvature
# ----------------------------------------------------------------------------------------------------------


def test_minimum_ratio_counts_eigenvalues_strictly_above_the_tolerance():
    lam = [-1.0, 0.5, 0.5, 2.0]
    assert curvature.minimum_ratio(lam, tolerance=0.5) == 0.25  # λ = tolerance counts as zero, not positive
    assert curvature.minimum_ratio(lam, tolerance=0.5 - 1e-9) == 0.75
    assert curvature.minimum_ratio(lam, tolerance=0.5 + 1e-9) == 0.25
    assert curvature.minimum_ratio(lam) == 0.75


def test_classify_eigenvalues_at_the_tolerance_is_degenerate():
    tol = 0.25
    assert curvature.classify_eigenvalues(tol, 3.0, tol) == "degenerate"
    assert curvature.classify_eigenvalues(tol + 1e-9, 3.0, tol) == "local_minimum"
    assert curvature.classify_eigenvalues(-3.0, -tol, tol) == "degenerate"
    assert curvature.classify_eigenvalues(-3.0, -tol - 1e-9, tol) == "local_maximum"
    assert curvature.classify_eigenvalues(-tol, 3.0, tol) == "degenerate"
    assert curvature.classify_eigenvalues(-tol - 1e-9, tol + 1e-9, tol) == "saddle_point"


@pytest.mark.parametrize(
    "h, direction",
    [
        (np.diag([2.0, -2.0]), [0.0, 1.0]),  # L = θ₁² − θ₂²: escape along +θ₂
        (np.diag([-2.0, 2.0]), [1.0, 0.0]),  # L = θ₂² − θ₁²: along +θ₁
        # negative curvature along (1, −2)/√5: the convention flips it to (−1, 2)/√5 (largest component > 0)
        (np.array([[1.4, 1.2], [1.2, -0.4]]), [-1.0, 2.0]),
    ],
)
def test_escape_step_from_a_symmetric_saddle_follows_the_sign_convention(h, direction):
    # f(θ + tu) = f(θ − tu) here, so only the convention decides: the step is +t·u with t > 0 and u the unit
    # eigenvector of λ_min whose largest-magnitude component is positive.
    h = jnp.asarray(h, jnp.float32)
    f = lambda w: 0.5 * w @ h @ w  # noqa: E731
    cp = curvature.classify_critical_point(f, jnp.zeros(2))
    assert cp.kind == "saddle_point"
    u = np.asarray(direction) / np.linalg.norm(direction)
    step = np.asarray(cp.escape_direction, np.float64)
    t = float(step @ u)
    assert t > 0
    np.testing.assert_allclose(step, t * u, atol=1e-5 * t)
    assert cp.escape_loss < cp.loss


def _quadratic(a: np.ndarray):
    a = jnp.asarray(a, jnp.float32)
    return lambda w: 0.5 * w @ a @ w


_A = np.array([[3.0, 1.0, 0.5, 0.0], [1.0, 2.0, -0.7, 0.3], [0.5, -0.7, 4.0, 1.1], [0.0, 0.3, 1.1, 1.0]])
# zᵀAz for every Rademacher z: the only values a sample can take
_ZAZ = np.array([np.array(z) @ _A @ np.array(z) for z in itertools.product([-1.0, 1.0], repeat=4)])


def _stderr(s: np.ndarray) -> float:
    return float(np.std(s, ddof=1) / math.sqrt(s.size))


def test_hutchinson_stderr_has_ddof_one_and_its_stopping_rule_replayed_by_hand():
    f, theta = _quadratic(_A), jnp.zeros(4)
    full = curvature.hutchinson_trace(f, theta, key=7, tol=1e-12, max_samples=60, chunk_size=10)
    s = full.samples
    assert full.num_hvps == s.size == 60
    assert np.all(np.min(np.abs(s[:, None] - _ZAZ[None]), axis=1) < 1e-4)  # each sample is some zᵀAz
    assert np.ptp(s) > 0  # the samples differ: ddof matters
    assert full.trace == pytest.approx(np.mean(s), rel=1e-12)
    assert full.stderr == pytest.approx(_stderr(s), rel=1e-9)  # √(n/(n−1)) = 1.008 from ddof = 0: far outside
    # The rule: stop at the first chunk boundary n ≥ 2 chunks with stderr(ddof=1) ≤ tol·|mean|. A tol between the
    # ddof = 0 and the ddof = 1 ratio at n = 20 must *not* stop there.
    ratio = lambda n, ddof: np.std(s[:n], ddof=ddof) / math.sqrt(n) / abs(np.mean(s[:n]))  # noqa: E731
    tol = math.sqrt(ratio(20, 0) * ratio(20, 1))
    expected = next((n for n in range(20, 60, 10) if ratio(n, 1) <= tol), 60)
    assert expected > 20
    est = curvature.hutchinson_trace(f, theta, key=7, tol=tol, max_samples=60, chunk_size=10)
    assert est.num_hvps == expected
    np.testing.assert_allclose(est.samples, s[:expected], rtol=1e-6)


def test_slq_moments_and_their_stderr_from_the_same_runs():
    f, p = _quadratic(_A), 4
    rho = curvature.spectral_density(f, jnp.zeros(p), key=2, num_vectors=6, num_steps=p)
    per_run = p * np.sum(rho.weights * rho.nodes, axis=1)  # Hutchinson's zᵀAz of each run's Rademacher start
    assert np.all(np.min(np.abs(per_run[:, None] - _ZAZ[None]), axis=1) < 1e-3 * np.abs(_ZAZ).max())
    assert np.ptp(per_run) > 0
    assert rho.trace == pytest.approx(per_run.mean(), rel=1e-12)
    assert rho.trace_stderr == pytest.approx(_stderr(per_run), rel=1e-9)
    m2 = np.sum(rho.weights * rho.nodes**2, axis=1)
    assert rho.moment2_stderr == pytest.approx(_stderr(m2), rel=1e-9)
    # full depth (P steps): every node with weight is an eigenvalue of A
    lam = np.linalg.eigvalsh(_A)
    live = rho.nodes[rho.weights > 1e-6]
    assert np.all(np.min(np.abs(live[:, None] - lam[None]), axis=1) < 1e-3)
    np.testing.assert_allclose(rho.weights.sum(1), 1.0, rtol=1e-5)


def test_dense_hessian_with_a_partial_last_chunk():
    a = np.arange(25.0).reshape(5, 5) / 10
    a = a + a.T
    np.testing.assert_allclose(curvature.hessian(_quadratic(a), jnp.zeros(5), chunk_size=3), a, rtol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# generative, classification, surfaces
# ----------------------------------------------------------------------------------------------------------


def test_diagonal_gaussian_fit_is_the_population_variance_plus_reg():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 3)) * [1.0, 2.0, 0.5]
    y = np.repeat([0, 1, 2], [8, 10, 12])
    model = generative.fit(x, y, "diagonal", reg=0.5)
    for k in range(3):
        np.testing.assert_allclose(model.means[k], x[y == k].mean(0), rtol=1e-5)
        np.testing.assert_allclose(model.covariance[k], x[y == k].var(0) + 0.5, rtol=1e-5)
    np.testing.assert_allclose(model.priors, [8 / 30, 10 / 30, 12 / 30], rtol=1e-6)


def test_bernoulli_naive_bayes_matches_sklearn():
    from sklearn.naive_bayes import BernoulliNB

    rng = np.random.default_rng(6)
    x = (rng.random((40, 5)) < 0.4).astype(np.float32)
    y = rng.integers(0, 3, 40)
    model = generative.fit_bernoulli(x, y, alpha=1.0)
    ref = BernoulliNB(alpha=1.0).fit(x, y)
    np.testing.assert_allclose(model.feature_probs, np.exp(ref.feature_log_prob_), rtol=1e-5)
    np.testing.assert_allclose(model.priors, np.exp(ref.class_log_prior_), rtol=1e-5)


def test_to_linear_with_unequal_priors_matches_the_posterior():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0.0, 1.0, (6, 2)), rng.normal(1.5, 1.0, (14, 2))])
    y = np.repeat([0, 1], [6, 14])
    model = generative.fit(x, y, "shared")
    w, b = generative.to_linear(model)
    np.testing.assert_allclose(
        jax.nn.sigmoid(x @ np.asarray(w) + float(b)), generative.predict_proba(model, x)[:, 1], rtol=1e-4
    )


def test_closed_form_gradients_match_autodiff():
    rng = np.random.default_rng(8)
    x = jnp.asarray(rng.normal(size=(7, 3)), jnp.float32)
    y = jnp.array([1, 0, 1, 1, 0, 0, 1])
    w, b = jnp.array([0.3, -0.2, 0.5]), jnp.asarray(0.1)
    ce = jax.grad(lambda w, b: losses.binary_cross_entropy(x @ w + b, y), argnums=(0, 1))(w, b)
    sq = jax.grad(lambda w, b: losses.mse(jax.nn.sigmoid(x @ w + b), y.astype(jnp.float32)), argnums=(0, 1))(w, b)
    for got, expected in (
        (classification.cross_entropy_gradient(w, b, x, y), ce),
        (classification.mse_gradient(w, b, x, y), sq),
    ):
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-7)


def test_trajectory_records_each_point_with_its_loss_and_gradient():
    eta, theta0 = 0.003, np.array([-1.2, 1.0], np.float32)
    traj = surfaces.trajectory(surfaces.crescent, optim.sgd(eta), theta0, steps=4)
    np.testing.assert_array_equal(traj.theta[0], theta0)
    for t in range(5):
        np.testing.assert_allclose(traj.loss[t], surfaces.crescent(traj.theta[t]), rtol=1e-6)
        np.testing.assert_allclose(traj.grad[t], jax.grad(surfaces.crescent)(traj.theta[t]), rtol=1e-6)
    np.testing.assert_allclose(traj.theta[1:], traj.theta[:-1] - eta * traj.grad[:-1], rtol=1e-6)


def test_double_well_critical_points_and_elongated_curvatures():
    grad, hess = jax.grad(surfaces.double_well), jax.hessian(surfaces.double_well)
    kinds = []
    for t1 in surfaces.double_well_critical_points():
        point = jnp.array([t1, 0.0])
        np.testing.assert_allclose(grad(point), 0.0, atol=1e-5)
        kinds.append(curvature.classify_eigenvalues(*np.linalg.eigvalsh(hess(point))[[0, -1]], 1e-6))
    assert kinds == ["local_minimum", "saddle_point", "local_minimum"]
    np.testing.assert_allclose(
        jax.hessian(surfaces.elongated)(jnp.zeros(2)), np.diag(surfaces.ELONGATED_CURVATURE), rtol=1e-6
    )
