"""The regression experiments in their quick variant, with their numbers checked."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_quick


def test_linear_regression(tmp_path):
    m = run_quick("linear_regression", tmp_path).metrics
    assert m["gd_train_mse"] == pytest.approx(m["least_squares_train_mse"], rel=1e-3)
    assert m["test_mae_mse_with_outliers"] > 2 * m["test_mae_mae_with_outliers"]
    assert m["test_mae_huber_with_outliers"] < 1.2 * m["test_mae_least_squares_clean"]


def test_sigmoid_sum(tmp_path):
    r = run_quick("sigmoid_sum", tmp_path)
    assert r.metrics["construction_max_error"] < 1e-5
    assert r.metrics["two_relu_minus_hard_sigmoid_max_error"] < 1e-6
    errors = r.data["errors"]["hard sigmoids (construction)"]
    n = r.data["units"]
    # piecewise-linear interpolation error of a smooth curve falls like 1/n²
    assert errors[-1] < errors[0] * (n[0] / n[-1]) ** 2 * 4


def test_depth_overfitting(tmp_path):
    r = run_quick("depth_overfitting", tmp_path)
    train_loss = [t for t, _ in r.data["by_depth"]]
    heldout = [v for _, v in r.data["by_depth"]]
    assert train_loss[-1] < 0.1 * train_loss[0]  # deeper fits the training set far better ...
    assert heldout[-1] > 10 * train_loss[-1]  # ... and far worse on held-out data than on its training set


def test_regularization(tmp_path):
    r = run_quick("regularization", tmp_path)
    rows = r.data["lambda_rows"]
    train, test = [row[1] for row in rows], [row[2] for row in rows]
    assert train[0] < 1e-6  # λ = 0 interpolates 100 rows with 116 features
    assert all(np.diff(train) > 0)  # training error grows with λ
    assert min(test) < test[0] and min(test) < test[-1]  # the U shape
    norms = [row[3] for row in rows]
    assert all(np.diff(norms) < 0)
    degree_test = [row[2] for row in r.data["degree_rows"]]
    assert degree_test[-1] > 3 * min(degree_test)
    assert set(r.lecture) <= set(r.metrics)


def test_conditional_linear(tmp_path):
    m = run_quick("conditional_linear", tmp_path).metrics
    assert m["conditional_train_mae"] < m["single_train_mae"]
    assert m["conditional_test_mae"] < m["single_test_mae"]
    assert m["conditional_mse_trained"] == pytest.approx(m["conditional_mse_closed_form"], rel=0.01)
