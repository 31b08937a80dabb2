"""Data: shipped files and their provenance, loaders, splits, standardization, synthetic sets, bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jax
import numpy as np
import pytest
from sklearn import datasets

import jaxml.data as data

SOURCES = Path(data.__file__).parent / "files" / "SOURCES.md"


def test_shipped_files_match_the_sha256_in_sources_md():
    text = SOURCES.read_text()
    for name, digest in data.SHA256.items():
        assert digest in text, f"{name}'s digest is not documented in SOURCES.md"
        raw = (SOURCES.parent / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == digest


def test_covid_loader_shapes_and_target():
    ds = data.load("covid")
    assert ds.x.shape == (2699, 116) and ds.y.shape == (2699,)
    # the target is day 5's tested_positive, the last column of the raw file
    header, rows = data.read_csv("covid.train.csv")
    assert header[-1] == "tested_positive"
    np.testing.assert_allclose(ds.y[:3], [float(r[-1]) for r in rows[:3]])
    assert ds.feature_names[-1] == "worried_finances_d5" and "tested_positive_d4" in ds.feature_names
    test = data.load_covid("test")
    assert test.x.shape == (1078, 116) and np.all(np.isnan(test.y))


@pytest.mark.parametrize(
    "name, loader",
    [
        ("digits", datasets.load_digits),
        ("diabetes", datasets.load_diabetes),
        ("breast_cancer", datasets.load_breast_cancer),
    ],
)
def test_sklearn_sets_through_one_api(name, loader):
    ds = data.load(name)
    ref = loader()
    np.testing.assert_array_equal(ds.x, ref.data)
    np.testing.assert_array_equal(ds.y, ref.target)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="expected one of"):
        data.load("mnist")
    with pytest.raises(ValueError, match="unknown data file"):
        data.read_file("../../etc/passwd")


def test_train_test_split_is_a_partition_and_reproducible():
    x = np.arange(100.0)[:, None]
    y = np.arange(100)
    (xa, ya), (xb, yb) = data.train_test_split(x, y, key=jax.random.PRNGKey(0), test_fraction=0.25)
    assert len(yb) == 25 and len(ya) == 75
    assert sorted(np.r_[ya, yb].tolist()) == list(range(100))
    np.testing.assert_array_equal(xa[:, 0], ya)
    (_, ya2), _ = data.train_test_split(x, y, key=jax.random.PRNGKey(0), test_fraction=0.25)
    (_, ya3), _ = data.train_test_split(x, y, key=jax.random.PRNGKey(1), test_fraction=0.25)
    np.testing.assert_array_equal(ya, ya2)
    assert not np.array_equal(ya, ya3)
    with pytest.raises(ValueError, match="test_fraction"):
        data.train_test_split(x, y, key=0, test_fraction=1.5)


def test_standardizer_uses_training_statistics_only():
    ds = data.load("diabetes")
    (xa, _), (xb, _), scaler = data.split_standardized(ds, key=0)
    np.testing.assert_allclose(xa.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(xa.std(0), 1, atol=1e-12)
    assert np.abs(xb.mean(0)).max() > 1e-3  # the test part is scaled with the training statistics
    raw_train, _ = data.train_test_split(ds.x, ds.y, key=0)
    np.testing.assert_allclose(scaler.mean, raw_train[0].mean(0))
    np.testing.assert_allclose(scaler.inverse(xa), raw_train[0], atol=1e-12)
    constant = data.fit_standardizer(np.ones((5, 2)))
    np.testing.assert_array_equal(constant.transform(np.ones((2, 2))), 0.0)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([[1.0, np.nan]], "NaN"),
        ([], "empty"),
        ([[1.0, 2.0], [3.0]], "ragged"),
        ([["a", "b"]], "numeric"),
        (np.zeros((2, 2, 2)), "2-D"),
    ],
)
def test_bad_data_raises_value_error_naming_the_problem(bad, match):
    with pytest.raises(ValueError, match=match):
        data.as_float_matrix(bad)


def test_split_rejects_mismatched_targets():
    with pytest.raises(ValueError, match="rows"):
        data.train_test_split(np.zeros((10, 2)), np.zeros(9), key=0)


def test_synthetic_generators_are_reproducible():
    x1, y1 = data.xor(jax.random.PRNGKey(0), 10, noise=0.05)
    x2, y2 = data.xor(jax.random.PRNGKey(0), 10, noise=0.05)
    np.testing.assert_array_equal(x1, x2)
    # XOR's label is the parity of the corner each point came from
    corners = np.round(x1).astype(int)
    np.testing.assert_array_equal(y1, corners[:, 0] ^ corners[:, 1])
    x, y = data.noisy_regression_1d(3, n=50, noise=0.0)
    np.testing.assert_allclose(y, np.sin(x) + 0.3 * x)
    bx, by = data.piecewise_linear_target()
    assert np.all(np.diff(bx) > 0) and bx.shape == by.shape
