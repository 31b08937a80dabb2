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

    r = run_quick("linear_regression", tmp_path)
    m = r.metrics
    # each replicate's split comes from the second-level key path seed → replicate → (split, outliers, ...)
    replicate_keys = jax.random.split(jax.random.PRNGKey(0), r.data["config"].replicates)
    train_mse, test_mse, test_mae, edge = [], [], [], []
    for key in replicate_keys:
        k_split = jax.random.split(key, 4)[0]
        (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(data.load("covid"), key=k_split, features=FEATURES)
        oracle = LinearRegression().fit(x_tr, y_tr)
        train_mse.append(np.mean((oracle.predict(x_tr) - y_tr) ** 2))
        test_mse.append(np.mean((oracle.predict(x_te) - y_te) ** 2))
        test_mae.append(np.mean(np.abs(oracle.predict(x_te) - y_te)))
        design = np.c_[x_tr, np.ones(len(x_tr))].astype(np.float64)
        edge.append(2.0 / np.linalg.eigvalsh(2 * design.T @ design / len(design))[-1])  # η_c = 2/λmax(H)
    assert m["least_squares_train_mse"] == pytest.approx(np.mean(train_mse), rel=1e-3)
    assert m["least_squares_test_mse"] == pytest.approx(np.mean(test_mse), rel=1e-3)
    assert m["test_mae_least_squares_clean"] == pytest.approx(np.mean(test_mae), rel=1e-3)
    np.testing.assert_allclose(r.data["eta_edge"], edge, rtol=1e-4)
    assert m["gd_train_mse"] == pytest.approx(m["least_squares_train_mse"], rel=1e-3)
    # the sweep's largest η sits above the closed-form edge and its second largest below it
    assert r.data["factors"][-1] > 1.0 > r.data["factors"][-2]
    assert r.replicates["log10_edge_margin"].shape == (len(replicate_keys),)


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
    # the effect, per initialization: min of ln(error fewest / error most) over RMS and max; the first one from the
    # plotted fits of the first initialization, recomputed here on the grid with numpy
    target = _smooth(grid)
    for family in ("sigmoid", "relu"):
        effects = r.replicates[f"{family}_log_error_drop_fewest_to_most"]
        assert len(effects) == r.data["replicates"] >= 10
        few, most = (r.data["fits"][(family, n)] - target for n in (units[0], units[-1]))
        rms_ratio = np.sqrt(np.mean(few**2) / np.mean(most**2))
        max_ratio = np.max(np.abs(few)) / np.max(np.abs(most))
        assert effects[0] == pytest.approx(np.log(min(rms_ratio, max_ratio)), rel=1e-6)


def test_depth_overfitting(tmp_path):
    r = run_quick("depth_overfitting", tmp_path)
    m = r.metrics
    n = len(r.replicates["heldout_deepest_minus_linear"])
    assert n >= 10
    oracle_train, oracle_held = [], []
    for key in jax.random.split(jax.random.PRNGKey(0), n):  # the experiment's splits, one per replicate
        (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(data.load("covid"), key=key, n_train=200)
        oracle = LinearRegression().fit(x_tr, y_tr)  # depth 0 is the closed-form optimum, not a trained model
        oracle_train.append(np.mean((oracle.predict(x_tr) - y_tr) ** 2))
        oracle_held.append(np.mean((oracle.predict(x_te) - y_te) ** 2))
    assert m["train_mse_depth_0"] == pytest.approx(np.mean(oracle_train), rel=1e-2, abs=1e-3)
    assert m["heldout_mse_depth_0"] == pytest.approx(np.mean(oracle_held), rel=1e-2)
    train_loss = [np.mean(t) for t, _ in r.data["by_depth"]]
    assert train_loss[-1] < 0.1 * train_loss[0]
    # the paired effects are the per-split differences the tables average
    held = [np.asarray(v) for _, v in r.data["by_depth"]]
    assert np.allclose(r.replicates["heldout_deepest_minus_linear"], held[-1] - held[0])


def test_regularization(tmp_path):
    r = run_quick("regularization", tmp_path)
    ds = data.load("covid")
    config = r.data["config"]
    rows_a, rows_b = r.data["rows_lambda"]
    assert rows_a.shape[1] == config.n_train and not set(rows_a[0]) & set(rows_b[0])
    for draw in range(3):
        xa, ya, xb, yb = ds.x[rows_a[draw]], ds.y[rows_a[draw]], ds.x[rows_b[draw]], ds.y[rows_b[draw]]
        mse = []
        for i, lam in enumerate(r.data["lambdas"]):
            if lam == 0:
                assert r.data["lambda_train_mae"][draw, i] < 1e-6  # 100 rows, 116 features: λ = 0 interpolates
                mse.append(0.0)
                continue
            # ours: mean squared error + λ‖w‖²; scikit-learn's Ridge: summed squared error + α‖w‖², so α = Nλ
            oracle = Ridge(alpha=len(ya) * lam).fit(xa, ya)
            train_mae = np.mean(np.abs(oracle.predict(xa) - ya))
            assert r.data["lambda_train_mae"][draw, i] == pytest.approx(train_mae, rel=1e-3)
            test_mae = np.mean(np.abs(oracle.predict(xb) - yb))
            assert r.data["lambda_test_mae"][draw, i] == pytest.approx(test_mae, rel=1e-3)
            assert r.data["lambda_norm"][draw, i] == pytest.approx(np.linalg.norm(oracle.coef_), rel=1e-3)
            mse.append(np.mean((oracle.predict(xa) - ya) ** 2))
        assert np.all(np.diff(mse) >= 0)  # the oracle's training MSE never falls with λ either
    # the degree table against numpy's polyfit on the same 10 standardized rows, for a few draws
    tr, te = r.data["rows_small"]
    col = ds.feature_names.index(config.feature_1d)
    for draw in range(5):
        xt, yt, xv, yv = ds.x[tr[draw], col], ds.y[tr[draw]], ds.x[te[draw], col], ds.y[te[draw]]
        z, zv = (xt - xt.mean()) / xt.std(), (xv - xt.mean()) / xt.std()
        test_mae = []
        for i, d in enumerate(config.degrees):
            coef = np.polyfit(z, yt, d)
            fit = np.polyval(coef, z)
            assert r.data["degree_train_mae"][draw, i] == pytest.approx(np.mean(np.abs(fit - yt)), rel=1e-4, abs=1e-6)
            assert r.data["degree_train_mse"][draw, i] == pytest.approx(np.mean((fit - yt) ** 2), rel=1e-4, abs=1e-9)
            test_mae.append(np.mean(np.abs(np.polyval(coef, zv) - yv)))
        effects = r.replicates["log10_top_over_best_lower_minus_log10_2"]
        assert effects[draw] == pytest.approx(np.log10(test_mae[-1] / min(test_mae[:-1]) / 2), rel=1e-3, abs=1e-6)
    assert len(r.replicates["log10_top_over_best_lower_minus_log10_2"]) == config.replicates
    assert set(r.lecture) <= set(r.metrics)


def test_conditional_linear(tmp_path):
    r = run_quick("conditional_linear", tmp_path)
    m, reps = r.metrics, r.replicates
    assert len(reps["train_mae_shared_minus_conditional"]) >= 10
    assert m["conditional_train_mae"] < m["single_train_mae"]
    assert m["conditional_test_mae"] < m["single_test_mae"]
    # the oracle: per-state least squares with scikit-learn on every split, as the experiment draws them
    ds = data.load("covid")
    state = np.argmax(ds.x[:, :37], axis=1)
    feature = ds.x[:, ds.feature_names.index("cli_d5")]
    closed = []
    for key in jax.random.split(jax.random.PRNGKey(0), len(reps["train_mae_shared_minus_conditional"])):
        (xs, y), _ = data.train_test_split(np.c_[state, feature], ds.y, key=key)
        sq = [
            (LinearRegression().fit(xs[xs[:, 0] == s, 1:], y[xs[:, 0] == s]).predict(xs[xs[:, 0] == s, 1:])
             - y[xs[:, 0] == s]) ** 2
            for s in np.unique(xs[:, 0])
        ]  # fmt: skip
        closed.append(np.mean(np.concatenate(sq)))
    assert m["conditional_mse_closed_form"] == pytest.approx(np.mean(closed), rel=1e-4)
    assert m["conditional_mse_trained"] == pytest.approx(m["conditional_mse_closed_form"], rel=0.01)
    assert m["lecture_train_ratio"] == pytest.approx(3.8 / 31.9)
    assert m["lecture_test_ratio"] == pytest.approx(14.3 / 35.0)
