"""The critical-point experiments (course §3) in their quick variant: every claim's verdict as declared
(run_quick), and their numbers checked against independent computations (closed forms, numpy's eigh of the
returned Hessians/eigenvalues, scipy's statistics)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_quick
from scipy import stats


def test_saddle_toy_reproduces_the_lecture(tmp_path):
    r = run_quick("saddle_toy", tmp_path)
    m, lecture = r.metrics, r.lecture
    for key, value in lecture.items():
        assert m[key] == pytest.approx(value, abs=1e-12), key
    # independent: numpy's eigendecomposition of the returned Hessian, and the closed form L = (1 − w₁w₂)²
    lam, vecs = np.linalg.eigh(r.data["hessian"])
    np.testing.assert_allclose(lam, [-2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(vecs[:, 0]), [2**-0.5, 2**-0.5], atol=1e-12)
    u = r.data["escape"]
    assert (1 - u[0] * u[1]) ** 2 == pytest.approx(m["loss_after_escape"], abs=1e-12)
    # along the unit u₋, L(t) = (1 − t²/2)², so L − (1 − t²) = t⁴/4 exactly
    t, along = r.data["along"]
    np.testing.assert_allclose(along[0], (1 - t**2 / 2) ** 2, atol=1e-12)
    np.testing.assert_allclose(along[1], (1 + t**2 / 2) ** 2, atol=1e-12)
    assert m["quadratic_model_max_error"] == pytest.approx(m["quadratic_radius"] ** 4 / 4, rel=1e-9)
    # gradient descent: stuck at the saddle, stalls walking into it, escapes after a nudge along u
    assert m["gd_from_saddle_final_loss"] == 1.0
    assert m["gd_toward_saddle_final_loss"] == pytest.approx(1.0, abs=1e-3)
    assert m["gd_after_nudge_final_loss"] < 1e-8
    assert m["surface_vs_objective_max_diff"] == 0.0
    # random nudges: each replicate's path starts 10⁻² from the saddle and ends on the valley w₁w₂ = 1
    paths = r.data["random_paths"]
    assert paths.shape[0] == len(r.replicates["decades_below_threshold"]) >= 10
    np.testing.assert_allclose(np.linalg.norm(paths[:, 0], axis=1), 1e-2, rtol=1e-9)
    final = (1 - paths[:, -1, 0] * paths[:, -1, 1]) ** 2
    np.testing.assert_allclose(
        r.replicates["decades_below_threshold"], np.log10(1.0 / np.maximum(final, 1e-30)) - 6, rtol=1e-6, atol=1e-6
    )


def test_minimum_ratio_counts_match_the_eigenvalues(tmp_path):
    r = run_quick("minimum_ratio", tmp_path)
    m = r.metrics
    points = r.data["points"]
    assert m["networks"] == len(points) >= 10
    assert m["critical_points"] == sum(q["grad"] <= r.data["grad_tol"] for q in points)
    for q in points:
        lam = q["eigenvalues"]
        # the h + 1 structural zeros are projected out; H annihilates them to rounding
        assert q["structural"] == q["width"] + 1 and lam.size == q["params"] - q["structural"]
        assert q["params"] == 27 * q["width"] + 10 and q["structural_residual"] < 1e-10
        assert np.all(np.diff(lam) >= 0)
        tol = max(np.sqrt(np.finfo(np.float64).eps) * np.abs(lam).max(), q["grad"])
        assert q["ratio"] == pytest.approx(np.mean(lam > tol))
        assert q["negative"] == np.sum(lam < -tol) and q["zero"] == np.sum(np.abs(lam) <= tol)
        assert q["clear_negative"] == np.sum(lam < -10 * tol)
        assert q["climbed"] == (q["loss"] > q["loss_trained"])
    counted = [q for q in points if q["counted"]]
    assert m["counted_points"] == len(counted) == len(r.replicates["clear_saddle_5x_minus_4"])
    # no two counted points of one width share a loss: duplicates are dropped
    for i, a in enumerate(counted):
        assert all(a["width"] != b["width"] or abs(a["loss"] - b["loss"]) > 1e-6 * (1 + a["loss"]) for b in counted[:i])
    saddle = np.array([q["clear_negative"] > 0 for q in counted])
    np.testing.assert_array_equal(r.replicates["clear_saddle_5x_minus_4"], 5 * saddle - 4)
    loss = np.array([q["loss"] for q in counted])
    ratio = np.array([q["ratio"] for q in counted])
    expected = -np.sign(loss - np.median(loss)) * np.sign(ratio - np.median(ratio))
    np.testing.assert_array_equal(r.replicates["loss_ratio_concordance"], expected)
    assert m["spearman_loss_ratio"] == pytest.approx(stats.spearmanr(loss, ratio)[0])
    assert m["max_minimum_ratio"] == pytest.approx(ratio.max())


def test_minimum_ratio_structural_null_space_is_exact():
    """The softmax's shift symmetry: along the output bias + c·1 and each hidden unit's outgoing weights + c·1 the
    loss is constant, so the dense Hessian (numpy, from jax.hessian of the flat loss) annihilates the basis."""
    import jax
    import jax.numpy as jnp

    from experiments.minimum_ratio import structural_null_space
    from jaxml import curvature, losses, models, train

    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        model = models.mlp(5, [3], 4, activation=jnp.tanh)
        params = model.init(jax.random.key(0))
        x, y = jnp.asarray(rng.normal(size=(30, 5))), jnp.asarray(rng.integers(0, 4, 30))
        ce = train.supervised(model.apply, losses.softmax_cross_entropy)
        flat, unravel = curvature.ravel(params)
        h = np.asarray(jax.hessian(lambda t: ce(unravel(t), (x, y)))(flat))
        null = structural_null_space(params)
    assert null.shape == (flat.size, 4)
    np.testing.assert_allclose(null.T @ null, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(h @ null, 0.0, atol=1e-12)
    assert np.sum(np.abs(np.linalg.eigvalsh(h)) < 1e-12) >= 4


def test_hessian_spectrum_matches_dense_checks(tmp_path):
    r = run_quick("hessian_spectrum", tmp_path)
    m = r.metrics
    dense = r.data["dense"]
    assert dense.size == m["params"] and np.all(np.diff(dense) >= 0)
    assert m["trace_dense"] == pytest.approx(float(np.sum(dense)))
    assert m["lambda_max_trained"] == pytest.approx(dense[-1], rel=1e-8)
    # SLQ's trace samples and their standard error, recomputed from the returned quadrature
    rho = r.data["density_trained"]
    samples = m["params"] * np.sum(rho.nodes * rho.weights, axis=1)
    np.testing.assert_allclose(samples, r.data["slq_trace_samples"])
    assert m["trace_slq_stderr"] == pytest.approx(stats.sem(samples))
    # the replicate draws: margins 3 − |z| against the dense trace (numpy's sum of the eigh eigenvalues)
    for name in ("slq_z_margin", "hutchinson_z_margin"):
        margins = r.replicates[name]
        assert len(margins) >= 10 and np.all(margins <= 3.0)
    assert m["trace_reference"] == pytest.approx(float(np.sum(dense)))
    # the Wasserstein distance, recomputed: the SLQ quadrature measure against the dense eigenvalues
    w1 = stats.wasserstein_distance(rho.nodes.ravel(), dense, u_weights=rho.weights.ravel())
    assert m["slq_wasserstein_vs_dense"] == pytest.approx(w1)
    assert m["bulk_fraction_dense"] == pytest.approx(np.mean(np.abs(dense) <= 0.01 * dense[-1]))
    for d in (r.data["density_init"], r.data["density_trained"]):
        assert np.trapezoid(d.density, d.grid) == pytest.approx(1.0, abs=1e-6)
        np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, atol=1e-10)
    # the top eigenvalue is tracked through training: init, every checkpoint, end
    epochs, tops = r.data["tops"]
    assert epochs[0] == 0 and np.all(np.diff(epochs) > 0) and np.all(tops > 0)
    assert tops[-1] == pytest.approx(m["lambda_max_trained"])
    # Lanczos through train.fit and the dense spectrum of fit_sweep's first network: the same run
    assert tops[-1] == pytest.approx(dense[-1], rel=1e-6)
    # the per-network effects, recounted from each network's eigenvalues (init, trained) with numpy
    spectra = r.data["spectra"]
    assert len(spectra) == m["networks"] >= 10 and spectra[0][1] is dense
    p, c = int(m["params"]), int(m["classes"])
    drop, margin = [], []
    for e0, e1 in spectra:
        assert e0.size == e1.size == p and np.all(np.diff(e0) >= 0) and np.all(np.diff(e1) >= 0)
        cut = -0.01 * e0.max()
        drop.append(np.count_nonzero(e0 < cut) - np.count_nonzero(e1 < cut))
        bulk = np.count_nonzero(np.abs(e1) <= 0.01 * e1.max()) - int(np.ceil(0.9 * p))
        out = np.count_nonzero(e1 > 0.1 * e1.max())
        margin.append(min(bulk, out - 1, 2 * c - out) + 1)
    np.testing.assert_array_equal(r.replicates["negative_count_drop"], drop)
    np.testing.assert_array_equal(r.replicates["bulk_outlier_margin"], margin)
    assert np.asarray(r.replicates["negative_count_drop"]).dtype.kind == "i"
    assert m["lambda_min_trained_min"] == pytest.approx(min(e1[0] for _, e1 in spectra))


def test_hessian_spectrum_closed_form_hessian_matches_jax_hessian():
    """The experiment's closed-form Hessian of a ReLU MLP's mean cross-entropy (its per-network spectra) has
    the eigenvalues of ``jax.hessian`` of the loss (numpy's eigvalsh), at an initialization and at scaled weights
    where most ReLUs switch and the softmax saturates."""
    import jax
    import jax.flatten_util
    import jax.numpy as jnp

    from experiments.hessian_spectrum import _mlp_hessian
    from jaxml import losses, models

    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        x, y = jnp.asarray(rng.uniform(0, 1, (50, 6))), jnp.asarray(rng.integers(0, 4, 50))
        model = models.mlp(6, [5], 4, activation=jax.nn.relu)
        for scale in (1.0, 4.0):
            params = jax.tree.map(lambda a, s=scale: s * a, model.init(jax.random.key(1)))
            flat, unravel = jax.flatten_util.ravel_pytree(params)
            loss = lambda t, u=unravel: losses.softmax_cross_entropy(model.apply(u(t), x), y)  # noqa: E731
            h_jax = jax.hessian(loss)(flat)
            h = np.asarray(_mlp_hessian(params, x, y))
            assert h.shape == (flat.size, flat.size)
            np.testing.assert_allclose(h, h.T, atol=1e-14)
            np.testing.assert_allclose(
                np.linalg.eigvalsh(h), np.linalg.eigvalsh(np.asarray(h_jax)), atol=1e-12 * np.abs(h_jax).max()
            )


def test_slq_trace_samples_are_exact_for_a_diagonal_hessian():
    """Why hessian_spectrum's SLQ trace once sat 50% from the dense one (3 start vectors): sampling error, not
    normalisation. For a diagonal H and a Rademacher start v (vᵢ² = 1), each run's P·Σᵢτᵢθᵢ = P·vᵀHv/‖v‖² is
    exactly tr(H); a Gaussian or unnormalised start, or mis-normalised weights, would break this."""
    import jax
    import jax.numpy as jnp

    from jaxml import curvature

    d_np = np.random.default_rng(0).uniform(-1.0, 3.0, 40)
    with jax.enable_x64(True):
        d = jnp.asarray(d_np)
        rho = curvature.spectral_density(
            lambda t: 0.5 * jnp.sum(d * t**2), jnp.zeros(40), key=jax.random.key(3), num_vectors=5, num_steps=12
        )
    samples = 40 * np.sum(rho.nodes * rho.weights, axis=1)
    np.testing.assert_allclose(samples, d_np.sum(), rtol=1e-12)
    # the smoothed density's mean is the same number, against numpy's eigenvalues of the dense diagonal
    lam = np.linalg.eigvalsh(np.diag(d_np))
    assert np.trapezoid(rho.grid * rho.density, rho.grid) * 40 == pytest.approx(lam.sum(), rel=1e-9)
