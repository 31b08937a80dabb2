"""The critical-point experiments (SCOPE §3) in --quick mode, their numbers checked against the lecture and
against independent computations (numpy on the returned Hessians/eigenvalues, dense traces)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_quick


def test_saddle_toy_reproduces_the_lecture(tmp_path):
    r = run_quick("saddle_toy", tmp_path)
    m, lecture = r.metrics, r.lecture
    for key, value in lecture.items():
        assert m[key] == pytest.approx(value, abs=1e-12), key
    # independent: numpy's eigendecomposition of the returned Hessian
    lam, vecs = np.linalg.eigh(r.data["hessian"])
    np.testing.assert_allclose(lam, [-2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(vecs[:, 0]), [2**-0.5, 2**-0.5], atol=1e-12)
    # gradient descent: stuck at the saddle, stalls walking into it, escapes after a nudge along u
    assert m["gd_from_saddle_final_loss"] == 1.0
    assert m["gd_toward_saddle_final_loss"] == pytest.approx(1.0, abs=1e-3)
    assert m["gd_after_nudge_final_loss"] < 1e-8
    assert m["surface_vs_objective_max_diff"] == 0.0


def test_minimum_ratio_finds_saddles_not_minima(tmp_path):
    r = run_quick("minimum_ratio", tmp_path)
    m = r.metrics
    points = r.data["points"]
    assert m["networks"] == len(points) >= 6
    assert m["critical_points"] >= 1
    assert m["median_grad_norm_at_points"] < m["median_grad_norm_after_training"]
    for q in points:
        lam = q["eigenvalues"]
        assert lam.size == q["params"] and np.all(np.diff(lam) >= 0)
        tol = max(np.sqrt(np.finfo(np.float64).eps) * np.abs(lam).max(), q["grad"])
        assert q["ratio"] == pytest.approx(np.mean(lam > tol))
        assert q["negative"] == np.sum(lam < -tol)
        if q["kind"] == "local_minimum":
            assert q["negative"] == 0 and q["zero"] == 0
        if q["kind"] == "saddle_point":
            assert 0 < q["ratio"] < 1
    assert m["true_minima"] == sum(q["kind"] == "local_minimum" for q in points)
    assert m["max_minimum_ratio"] < 1.0  # the lecture: no trained network sat at a true minimum


def test_hessian_spectrum_matches_dense_checks(tmp_path):
    r = run_quick("hessian_spectrum", tmp_path)
    m = r.metrics
    assert m["top5_max_rel_error_vs_dense"] < 1e-8
    assert m["lambda_max_trained"] == pytest.approx(m["lambda_max_dense"], rel=1e-8)
    assert abs(m["trace_hutchinson"] - m["trace_dense"]) <= 5 * m["trace_hutchinson_stderr"]
    assert m["train_accuracy"] > 0.9
    for rho in (r.data["density_init"], r.data["density_trained"]):
        assert np.trapezoid(rho.density, rho.grid) == pytest.approx(1.0, abs=1e-6)
    # the top eigenvalue is tracked through training: init, every checkpoint, end
    epochs, tops = r.data["tops"]
    assert epochs[0] == 0 and np.all(np.diff(epochs) > 0) and np.all(tops > 0)
    assert tops[-1] == pytest.approx(m["lambda_max_trained"])
