"""The critical-point experiments (SCOPE §3) in their quick variant: every claim's verdict as declared
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


def test_minimum_ratio_counts_match_the_eigenvalues(tmp_path):
    r = run_quick("minimum_ratio", tmp_path)
    m = r.metrics
    points = r.data["points"]
    assert m["networks"] == len(points) >= 6
    assert m["critical_points"] == sum(q["grad"] <= r.data["grad_tol"] for q in points) >= 5
    for q in points:
        lam = q["eigenvalues"]
        assert lam.size == q["params"] == 27 * q["width"] + 10 and np.all(np.diff(lam) >= 0)
        tol = max(np.sqrt(np.finfo(np.float64).eps) * np.abs(lam).max(), q["grad"])
        assert q["ratio"] == pytest.approx(np.mean(lam > tol))
        assert q["negative"] == np.sum(lam < -tol) and q["zero"] == np.sum(np.abs(lam) <= tol)
        if q["kind"] == "saddle_point":
            assert q["negative"] > 0 and 0 < q["ratio"] < 1
        if q["robust"]:
            assert q["grad"] <= 1e-6 and np.all(np.abs(lam[np.abs(lam) > tol]) >= 10 * tol)
    crit = [q for q in points if q["critical"]]
    assert m["no_negative_eigenvalue"] == sum(q["negative"] == 0 for q in crit)
    assert m["saddle_points"] == sum(q["kind"] == "saddle_point" for q in crit)
    rho, p = stats.spearmanr([q["loss"] for q in crit], [q["ratio"] for q in crit])
    assert m["spearman_loss_ratio"] == pytest.approx(rho) and m["spearman_p_value"] == pytest.approx(p)
    assert m["max_minimum_ratio"] == pytest.approx(max(q["ratio"] for q in crit))


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
