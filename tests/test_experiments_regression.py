"""The regression experiments in their quick variant: declared verdicts, and their numbers against oracles."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from helpers import run_quick
from sklearn.linear_model import LinearRegression, Ridge

from jaxml import data


def test_linear_regression(tmp_path):
    from experiments.linear_regression import FEATURES

    m = run_quick("linear_regression", tmp_path).metrics
    k_split = jax.random.split(jax.random.PRNGKey(0), 4)[0]
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(data.load("covid"), key=k_split, features=FEATURES)
    oracle = LinearRegression().fit(x_tr, y_tr)
    assert m["least_squares_train_mse"] == pytest.approx(np.mean((oracle.predict(x_tr) - y_tr) ** 2), rel=1e-3)
    assert m["least_squares_test_mse"] == pytest.approx(np.mean((oracle.predict(x_te) - y_te) ** 2), rel=1e-3)
    assert m["test_mae_least_squares_clean"] == pytest.approx(np.mean(np.abs(oracle.predict(x_te) - y_te)), rel=1e-3)
    assert m["gd_train_mse"] == pytest.approx(m["least_squares_train_mse"], rel=1e-3)


def test_sigmoid_sum(tmp_path):
    from experiments.sigmoid_sum import _smooth

    r = run_quick("sigmoid_sum", tmp_path)
    units = r.data["units"]
    assert len(units) >= 5
    # n hard sigmoids through n + 1 equally spaced knots are the linear interpolant: numpy's np.interp
    grid = r.data["grid"]
    for n, err in zip(units, r.data["errors"]["hard sigmoids (construction)"]):
        knots = np.linspace(-5, 5, n + 1)
        assert err == pytest.approx(np.max(np.abs(np.interp(grid, knots, _smooth(knots)) - _smooth(grid))), rel=1e-4)
    # the trained sums' RMS and max errors fall with the units (the claims) and end far below where they start
    for label in ("sigmoid sum (trained)", "ReLU sum (trained)"):
        for e in (np.asarray(r.data["rms"][label]), np.asarray(r.data["errors"][label])):
            assert np.all(np.diff(e) < 0), (label, e)
            assert e[-1] < 0.05 * e[0]


def test_depth_overfitting(tmp_path):
    r = run_quick("depth_overfitting", tmp_path)
    m = r.metrics
    (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(data.load("covid"), key=jax.random.PRNGKey(0), n_train=200)
    oracle = LinearRegression().fit(x_tr, y_tr)  # depth 0 is the closed-form optimum, not a trained model
    assert m["train_mse_depth_0"] == pytest.approx(np.mean((oracle.predict(x_tr) - y_tr) ** 2), rel=1e-2, abs=1e-3)
    assert m["heldout_mse_depth_0"] == pytest.approx(np.mean((oracle.predict(x_te) - y_te) ** 2), rel=1e-2)
    train_loss = [t for t, _ in r.data["by_depth"]]
    assert train_loss[-1] < 0.1 * train_loss[0]


def test_regularization(tmp_path):
    r = run_quick("regularization", tmp_path)
    ds = data.load("covid")
    (xa, ya), (xb, yb) = data.train_test_split(ds.x, ds.y, key=jax.random.fold_in(jax.random.PRNGKey(0), 1))
    xa, ya = xa[:100], ya[:100]
    for lam, train_mae, test_mae, _ in r.data["lambda_rows"]:
        if lam == 0:
            assert train_mae < 1e-6  # 100 rows, 116 features: λ = 0 interpolates
            continue
        # ours: mean squared error + λ‖w‖²; scikit-learn's Ridge: summed squared error + α‖w‖², so α = Nλ
        oracle = Ridge(alpha=len(ya) * lam).fit(xa, ya)
        assert train_mae == pytest.approx(np.mean(np.abs(oracle.predict(xa) - ya)), rel=1e-3)
        assert test_mae == pytest.approx(np.mean(np.abs(oracle.predict(xb) - yb)), rel=1e-3)
    norms = [row[3] for row in r.data["lambda_rows"]]
    assert all(np.diff(norms) < 0)
    # the degree table against numpy's polyfit on the same 10 standardized rows
    perm = np.asarray(jax.random.permutation(jax.random.PRNGKey(0), len(ds.y)))
    col = ds.feature_names.index("cli_d5")
    xt = ds.x[perm[:10], col]
    z = (xt - xt.mean()) / xt.std()
    for d, train_mae, _ in r.data["degree_rows"]:
        fit = np.polyval(np.polyfit(z, ds.y[perm[:10]], d), z)
        assert train_mae == pytest.approx(np.mean(np.abs(fit - ds.y[perm[:10]])), rel=1e-4, abs=1e-6)
    assert set(r.lecture) <= set(r.metrics)


def test_conditional_linear(tmp_path):
    m = run_quick("conditional_linear", tmp_path).metrics
    assert m["conditional_train_mae"] < m["single_train_mae"]
    assert m["conditional_test_mae"] < m["single_test_mae"]
    assert m["conditional_mse_trained"] == pytest.approx(m["conditional_mse_closed_form"], rel=0.01)
    assert m["lecture_train_ratio"] == pytest.approx(3.8 / 31.9)
    assert m["lecture_test_ratio"] == pytest.approx(14.3 / 35.0)
