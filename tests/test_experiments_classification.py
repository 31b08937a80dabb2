"""The classification experiments (SCOPE §2) in quick mode, their numbers checked against independent oracles
(scikit-learn, closed forms, the lecture's published values)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_quick
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression

import experiments
from jaxml.data.pokemon import water_vs_normal

NAMES = (
    "classification_as_regression",
    "pokemon_generative",
    "naive_bayes_toy",
    "generative_vs_discriminative",
    "mse_vs_cross_entropy",
    "softmax",
    "xor",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("classification")
    cache = {}

    def get(name: str):
        if name not in cache:
            assert experiments.load(name).SECTION.startswith("2.")
            cache[name] = run_quick(name, out)  # also checks every figure is a PNG
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_figures_exist(run, name):
    result = run(name)
    assert all(np.isfinite(v) or np.isnan(v) for v in result.metrics.values())


def test_classification_as_regression(run):
    m = run("classification_as_regression").metrics
    assert m["logistic_accuracy"] >= 0.99
    assert m["regression_near_only_accuracy"] >= 0.99
    assert m["regression_accuracy"] < m["logistic_accuracy"] - 0.03  # far points pull the boundary
    assert m["zero_one_gradient_norm"] == 0.0


def _sk_accuracy(model, split) -> float:
    return 100 * model.fit(split.x_train, split.y_train).score(split.x_test, split.y_test)


def test_pokemon_generative(run):
    r = run("pokemon_generative")
    m = r.metrics
    assert (m["n_train"], m["n_train_water"], m["n_test"], m["n_test_water"]) == (140, 79, 70, 33)
    assert m["mu1_defense"] == pytest.approx(75.0, abs=0.05) and m["mu1_sp_def"] == pytest.approx(71.3, abs=0.05)
    assert m["sigma1_defense_defense"] == pytest.approx(874, abs=0.5)
    assert m["sigma1_defense_sp_def"] == pytest.approx(327, abs=0.5)
    assert m["sigma1_sp_def_sp_def"] == pytest.approx(929, abs=0.5)
    # Our accuracies against scikit-learn's QDA (1/Nₖ since 1.8) and LDA(lsqr), same split and priors.
    two, six = water_vs_normal("two"), water_vs_normal("six")
    for split, tag in ((two, "two"), (six, "six")):
        for priors, suffix in ((None, ""), ([0.5, 0.5], "_equal_priors")):
            qda = QuadraticDiscriminantAnalysis(priors=priors)
            lda = LinearDiscriminantAnalysis(solver="lsqr", priors=priors)
            assert m[f"test_accuracy_{tag}_full{suffix}"] == pytest.approx(_sk_accuracy(qda, split))
            assert m[f"test_accuracy_{tag}_shared{suffix}"] == pytest.approx(_sk_accuracy(lda, split))
    # With equal priors the four Gaussian accuracies are the lecture's four numbers (47, 54, 64, 73).
    equal = [m[f"test_accuracy_{k}_equal_priors"] for k in ("two_full", "two_shared", "six_full", "six_shared")]
    assert sorted(round(v) for v in equal[:2]) == [47, 54]
    assert [round(v) for v in equal[2:]] == [64, 73]
    # Logistic regression: scikit-learn (C=inf, i.e. no penalty) on the standardized six stats, and the lecture.
    mean, std = six.x_train.mean(0), six.x_train.std(0)
    sk = LogisticRegression(C=np.inf, max_iter=10000).fit((six.x_train - mean) / std, six.y_train)
    assert m["test_accuracy_logistic"] == pytest.approx(100 * sk.score((six.x_test - mean) / std, six.y_test))
    assert round(m["test_accuracy_logistic"]) == 79
    assert m["to_linear_max_gap"] < 1e-12
    assert m["test_accuracy_seven_shared_equal_priors_reg"] == pytest.approx(m["test_accuracy_six_shared_equal_priors"])
    assert "singular" in r.data["singular"]
    assert m["lecture_values_inside_bootstrap_95"] >= 4
    assert r.lecture["test_accuracy_two_full"] == 47.0


def test_naive_bayes_toy(run):
    m = run("naive_bayes_toy").metrics
    assert abs(m["naive_bayes_p_c1_given_11"] - 3 / 7) < 1e-14
    assert m["logistic_p_c1_given_11"] > 0.5


def test_generative_vs_discriminative(run):
    r = run("generative_vs_discriminative")
    sizes = r.data["sizes"]
    for tag in ("breast_cancer", "gaussian"):
        for name, accs in r.data[tag].items():
            assert accs.shape[0] == len(sizes)
            assert np.all((accs > 0.4) & (accs <= 1.0)), name
            assert accs[-1].mean() >= accs[0].mean() - 0.02, name  # more data does not hurt on average
    assert r.metrics[f"breast_cancer_logistic_acc_n{sizes[-1]}"] > 0.93
    # The synthetic task's Bayes accuracy is Φ(2.5/2) ≈ 0.894: no model may exceed it by more than chance.
    assert all(r.data["gaussian"][k].mean(1).max() < 0.894 + 0.03 for k in r.data["gaussian"])


def test_mse_vs_cross_entropy(run):
    m = run("mse_vs_cross_entropy").metrics
    assert m["cross_entropy_final_accuracy"] > 0.8
    assert m["mse_final_accuracy"] < 0.5  # stalled on the plateau
    assert m["cross_entropy_gradient_norm_at_start"] > 10 * m["mse_gradient_norm_at_start"]
    assert m["closed_form_gradient_max_gap"] < 1e-10


def test_softmax(run):
    m = run("softmax").metrics
    assert m["softmax_test_accuracy"] > 0.9
    assert m["shared_gaussian_test_accuracy"] > 0.9
    assert m["probability_row_sum_gap"] < 1e-5


def test_xor(run):
    m = run("xor").metrics
    assert m["logistic_raw_accuracy"] <= 0.75  # no line separates XOR
    assert m["logistic_hand_made_accuracy"] >= 0.95
    assert m["cascade_accuracy"] >= 0.99
    assert m["cascade_seeds_solved"] >= 1
