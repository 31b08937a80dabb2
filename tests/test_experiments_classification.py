"""The classification experiments (course §2) in quick mode, their numbers checked against independent oracles
(scikit-learn, NumPy least squares, closed forms, the lecture's published values)."""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import pytest
from helpers import run_quick
from scipy.stats import norm
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression

import experiments
from experiments import generative_vs_discriminative as gvd
from jaxml import classification, data
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
            cache[name] = run_quick(name, out)  # checks the figures are PNGs and every claim's declared verdict
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_claims_and_finite_metrics(run, name):
    result = run(name)
    bad = {k: v for k, v in result.metrics.items() if v is not None and not np.isfinite(v)}
    assert not bad, f"non-finite metrics: {bad}"  # a threshold never reached is None, never NaN or ∞
    for v in result.claims:  # every number a verdict read is one the run reports
        assert all(result.metrics[k] == x for k, x in v.numbers.items())


def test_classification_as_regression(run):
    r = run("classification_as_regression")
    m, near = r.metrics, r.data["near"]
    module = experiments.load("classification_as_regression")
    config = module.Config().quick()
    # Every draw again, with NumPy least squares and scikit-learn's logistic regression (no penalty) as oracles.
    fewer, punished, tilts = [], [], []
    for i, key in enumerate(jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)):
        xi, yi = module.make_data(key, config.n_per_class, config.n_far, config.far_center)
        if i == 0:  # the figures' draw
            np.testing.assert_array_equal(xi, r.data["x"])
        design, target = np.c_[xi, np.ones(len(xi))], 2.0 * yi - 1.0
        coef_all = np.linalg.lstsq(design, target, rcond=None)[0]
        coef_near = np.linalg.lstsq(design[near], target[near], rcond=None)[0]
        reg, reg_near = (int(np.sum((design @ c > 0) == yi)) for c in (coef_all, coef_near))
        logistic = round(len(yi) * LogisticRegression(C=np.inf, max_iter=10000).fit(xi, yi).score(xi, yi))
        fewer.append(min(logistic - reg, reg_near - reg))
        scores = design[~near] @ coef_near
        near_err = np.mean((design[near] @ coef_near - target[near]) ** 2)
        punished.append(np.sum((scores > 0) * (scores - 1.0) ** 2) / scores.size - near_err)
        cos = coef_all[:2] @ coef_near[:2] / np.linalg.norm(coef_all[:2]) / np.linalg.norm(coef_near[:2])
        tilts.append(np.degrees(np.arccos(cos)))
    effect = r.replicates["fewer_correct_than_logistic_and_near_only"]
    assert effect.dtype.kind == "i" and len(effect) == config.replicates  # integer counts, one per draw
    np.testing.assert_allclose(effect, fewer, atol=1)  # our Adam fit vs scikit-learn: at most one point apart
    np.testing.assert_allclose(r.replicates["far_correct_minus_near_squared_error"], punished, rtol=1e-8)
    assert m["boundary_tilt_degrees"] == pytest.approx(np.mean(tilts), abs=1e-6)
    assert np.min(fewer) > 0  # the oracles see the tilt cost points on every quick draw too
    assert m["zero_one_max_gradient_norm"] == 0.0 and m["zero_one_distinct_values"] >= 2


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
    # With equal priors the four numbers are the lecture's as a set per feature count, two of them in place.
    equal = [m[f"test_accuracy_{k}_equal_priors"] for k in ("two_full", "two_shared", "six_full", "six_shared")]
    assert sorted(round(v) for v in equal[:2]) == [47, 54]
    assert [round(v) for v in equal[2:]] == [64, 73]
    assert (m["equal_priors_exact_in_place"], m["equal_priors_exact_any_order"]) == (2, 4)
    # Logistic regression: scikit-learn (C=inf, i.e. no penalty) on the standardized six stats, and the lecture.
    mean, std = six.x_train.mean(0), six.x_train.std(0)
    sk = LogisticRegression(C=np.inf, max_iter=10000).fit((six.x_train - mean) / std, six.y_train)
    assert m["test_accuracy_logistic"] == pytest.approx(100 * sk.score((six.x_test - mean) / std, six.y_test))
    assert round(m["test_accuracy_logistic"]) == 79
    # The bootstrap interval of a proportion of 70 has the normal approximation's width, roughly.
    for name in ("two_full", "six_shared", "logistic"):
        p = m[f"test_accuracy_{name}"] / 100
        half = 1.96 * 100 * math.sqrt(p * (1 - p) / 70)
        assert m[f"boot_hi_{name}"] - m[f"boot_lo_{name}"] == pytest.approx(2 * half, rel=0.2)
    assert m["to_linear_max_gap"] < 1e-12
    assert m["test_accuracy_seven_shared_equal_priors_reg"] == pytest.approx(m["test_accuracy_six_shared_equal_priors"])
    assert "singular" in r.data["singular"]
    assert r.lecture["test_accuracy_two_full"] == 47.0
    # Chance on the lecture's split: the best constant answer is the test set's majority (Normal, 37 of 70).
    water = np.mean(two.y_test)
    assert m["majority_baseline_lecture_split"] == pytest.approx(100 * max(water, 1 - water))
    assert m["training_majority_lecture_split"] == pytest.approx(100 * np.mean(two.y_test == 1))
    # The random splits: scikit-learn's QDA/LDA on the first splits' training rows give the same counts.
    counts, masks, (x6, y6) = r.data["split_counts"], r.data["split_masks"], r.data["pool"]
    assert masks.shape == (experiments.load("pokemon_generative").Config().quick().replicates, len(y6))
    assert np.all(masks.sum(1) == 140) and np.all((masks * y6).sum(1) == 75)  # stratified: 75 Water, 65 Normal
    for i in range(3):
        tr, te = masks[i] == 1, masks[i] == 0
        for tag, cols in (("two", [2, 4]), ("six", slice(None))):
            xs = x6[:, cols]
            qda = QuadraticDiscriminantAnalysis().fit(xs[tr], y6[tr])
            assert counts[f"{tag}_full"][i] == round(qda.score(xs[te], y6[te]) * 70)
            lda = LinearDiscriminantAnalysis(solver="lsqr").fit(xs[tr], y6[tr])
            assert counts[f"{tag}_shared"][i] == round(lda.score(xs[te], y6[te]) * 70)
        assert counts["majority"][i] == np.sum(y6[te] == 1)  # Water is every training set's majority
    for key, e in r.replicates.items():
        assert e.dtype.kind == "i" and len(e) == len(masks), key


def test_naive_bayes_toy(run):
    m = run("naive_bayes_toy").metrics
    assert abs(m["naive_bayes_p_c1_given_11"] - 3 / 7) < 1e-14
    assert m["logistic_p_c1_given_11"] > 0.5
    # scikit-learn's unpenalized logistic regression on the 13 points also puts (1,1) in C₁.
    toy = experiments.load("naive_bayes_toy")
    x, y = toy.toy_data()
    assert LogisticRegression(C=np.inf, max_iter=10000).fit(x, y).predict_proba([[1.0, 1.0]])[0, 1] > 0.5
    # Both claims are exact: no seed enters, so another seed gives the same numbers to the last bit.
    other = toy.compute(dataclasses.replace(toy.Config().quick(), seed=5)).metrics
    assert other == m


def test_synthetic_gaussians_meet_their_bayes_rate():
    # The generator's Bayes classifier scores Φ(Δ/2) (scipy) on a large fresh sample; Δ is the Mahalanobis
    # distance between the class means.
    x, y, w, b = gvd.independent_gaussians(np.random.default_rng(3), 200_000, 30, 2.5)
    assert gvd.bayes_accuracy(2.5) == pytest.approx(norm.cdf(1.25), abs=1e-12)
    assert np.mean(((x @ w + b) > 0) == y) == pytest.approx(norm.cdf(1.25), abs=0.004)
    mu1 = x[y == 1].mean(0) - x[y == 0].mean(0)
    var = np.r_[x[y == 1] - x[y == 1].mean(0), x[y == 0] - x[y == 0].mean(0)].var(0)
    assert math.sqrt(np.sum(mu1**2 / var)) == pytest.approx(2.5, abs=0.03)


def test_generative_vs_discriminative(run):
    r = run("generative_vs_discriminative")
    m, sizes = r.metrics, r.data["sizes"]
    for tag in ("breast_cancer", "gaussian"):
        for name, accs in r.data[tag].items():
            assert accs.shape == (len(sizes[tag]), gvd.Config().quick().replicates)
            assert np.all((accs > 0.4) & (accs <= 1.0)), name
            assert accs[-1].mean() >= accs[0].mean() - 0.02, name  # more data does not hurt on average
    # The effects are integer counts of test rows, one per split, paired on the same split.
    quick = gvd.Config().quick()
    for key, e in r.replicates.items():
        n = quick.real_small_replicates if key == "breast_cancer_naive_bayes_lead_small_n" else quick.replicates
        assert e.dtype.kind == "i" and e.shape == (n,), key
    counts = r.data["counts"]["breast_cancer"]
    best_gen = np.maximum(counts[gvd.NB][-1], counts[gvd.SHARED][-1])
    np.testing.assert_array_equal(
        r.replicates["breast_cancer_logistic_minus_best_generative_largest_n"], counts[gvd.LOGISTIC][-1] - best_gen
    )
    # Logistic regression at the largest n against scikit-learn's on stratified subsets of the same size.
    x, y = data.load("breast_cancer").x, data.load("breast_cancer").y
    rng, n = np.random.default_rng(0), sizes["breast_cancer"][-1]
    sk = []
    for _ in range(5):
        p = rng.permutation(len(y))
        tr, te = p[:n], p[n:]
        mu, sd = x[tr].mean(0), x[tr].std(0)
        # our mean loss + λ‖w‖² is scikit-learn's summed loss + ‖w‖²/(2C) with C = 1/(2nλ)
        fit = LogisticRegression(C=1 / (2 * n * gvd.Config().l2), max_iter=5000).fit((x[tr] - mu) / sd, y[tr])
        sk.append(fit.score((x[te] - mu) / sd, y[te]))
    assert m["breast_cancer_logistic_acc_largest_n"] == pytest.approx(np.mean(sk), abs=0.03)
    assert m["breast_cancer_logistic_acc_largest_n"] > 0.95
    assert m["gaussian_bayes_accuracy"] == pytest.approx(norm.cdf(1.25))
    # No model beats the Bayes classifier on the same test rows by more than chance.
    for accs in r.data["gaussian"].values():
        assert accs.mean(1).max() < m["gaussian_bayes_classifier_test_accuracy"] + 0.01


def test_mse_vs_cross_entropy(run):
    r = run("mse_vs_cross_entropy")
    m, reps = r.metrics, r.replicates
    module = experiments.load("mse_vs_cross_entropy")
    config = module.Config().quick()
    x, y = module.make_data(np.random.default_rng(config.seed), config.n)
    with jax.enable_x64(True):  # as in compute: the starts are drawn in float64
        starts = module.draw_starts(jax.random.PRNGKey(config.seed), config)
    assert len(starts) == config.replicates >= 10
    # The lecture's closed-form gradients in NumPy at every start: f = σ(wᵀx), CE −Σ(ŷ − f)x, SE Σ2(f − ŷ)f(1 − f)x
    # (means over the examples).
    f = 1.0 / (1.0 + np.exp(-(x @ starts.T)))  # (N, R)
    per_example = lambda coef: np.linalg.norm((coef[:, :, None] * x[:, None, :]).mean(0), axis=1)  # (R,)
    g_ce = per_example(-(y[:, None] - f))
    g_se = per_example(2 * (f - y[:, None]) * f * (1 - f))
    np.testing.assert_allclose(reps["log10_gradient_ratio_minus_log10_20"], np.log10(g_ce / g_se / 20), rtol=1e-9)
    assert np.all(g_ce > 20 * g_se)  # every far start: the square error's gradient is tiny
    assert m["accuracy_at_start"] == pytest.approx(np.mean((x @ starts.T > 0) == y[:, None]))
    assert np.mean((x @ starts.T > 0) == y[:, None], axis=0).max() < 0.5  # most predictions wrong at every start
    # Cross-entropy's optimum separates these classes well (scikit-learn, no bias, no penalty); ours gets there.
    sk = LogisticRegression(C=np.inf, fit_intercept=False, max_iter=10000).fit(x, y).score(x, y)
    assert m["cross_entropy_final_accuracy"] == pytest.approx(sk, abs=0.02)
    assert m["mse_final_accuracy"] < 0.5  # stalled on the plateau in the quick run
    assert reps["stall_margin_points"].dtype.kind == "i" and np.all(reps["stall_margin_points"] > 0)
    # Not reached is None (printed "—"), never a sentinel number of epochs.
    reach = r.data["reach"]["square error"]
    assert all(e is None or 1 <= e <= config.epochs for e in reach) and None in reach
    assert m["mse_starts_reached_90pct_of_best"] == sum(e is not None for e in reach)
    assert m["cross_entropy_starts_reached_90pct_of_best"] == config.replicates
    assert m["cross_entropy_median_epochs_to_90pct_of_best"] <= config.epochs / 5
    assert m["closed_form_gradient_max_gap"] < 1e-10


def test_softmax(run):
    r = run("softmax")
    m = r.metrics
    config = experiments.load("softmax").Config().quick()
    keys = jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)
    sk_counts, lda_counts = [], []
    for key in keys[:3]:  # the first three replicates' splits, rebuilt from their keys
        split_key = jax.random.split(key, 4)[0]
        (x_tr, y_tr), (x_te, y_te), _ = data.split_standardized(
            data.load("digits"), key=split_key, test_fraction=config.test_fraction
        )
        # scikit-learn's multinomial logistic regression with the same penalty (C = 1/(2λN)) on the same split.
        sk = LogisticRegression(C=1 / (2 * config.l2 * len(y_tr)), max_iter=5000).fit(x_tr, y_tr)
        sk_counts.append(int((sk.predict(x_te) == y_te).sum()))
        # the shared-Σ Gaussian is LDA (shrinkage aside): the same order of accuracy
        lda_counts.append(int((LinearDiscriminantAnalysis().fit(x_tr, y_tr).predict(x_te) == y_te).sum()))
    n_test = len(y_te)
    ours = np.asarray(r.replicates["correct_minus_90_percent"][:3]) + math.ceil(0.9 * n_test)
    np.testing.assert_allclose(ours, sk_counts, atol=0.03 * n_test)
    gauss = ours - np.asarray(r.replicates["softmax_minus_gaussian_correct"][:3])
    np.testing.assert_allclose(gauss, lda_counts, atol=0.05 * n_test)
    assert r.replicates["correct_minus_90_percent"].dtype.kind == "i"  # counts stay integers
    assert m["probability_row_sum_gap"] < 1e-5 and m["probability_min"] > 0
    assert m["gaussian_softmax_form_max_gap"] < 1e-8


def test_xor(run):
    r = run("xor")
    m, reps = r.metrics, r.replicates
    config = experiments.load("xor").Config().quick()
    n = 4 * config.n_per_corner
    for effect in reps.values():  # integer counts, one per draw
        assert effect.dtype.kind == "i" and len(effect) == config.replicates
    # Every draw again with scikit-learn (no penalty): no line classifies XOR; on the distance features one does,
    # and our logistic regression on them gets as many points right as scikit-learn's, within two.
    hand_sk = []
    for i, key in enumerate(jax.random.split(jax.random.PRNGKey(config.seed), config.replicates)):
        x, y = data.xor(key, config.n_per_corner, config.noise)
        if i == 0:  # the figures' draw
            np.testing.assert_allclose(x, r.data["x"], rtol=1e-6)
        assert LogisticRegression(C=np.inf, max_iter=10000).fit(x, y).score(x, y) < 0.8
        xt = np.asarray(classification.distance_features(x))
        hand_sk.append(round(n * LogisticRegression(C=np.inf, max_iter=100000).fit(xt, y).score(xt, y)))
    needed = math.ceil(0.9 * n)
    assert np.all(reps["hand_made_correct_minus_90_percent"] + needed >= np.array(hand_sk) - 2)
    assert np.all(reps["raw_correct_below_80_percent"] > 0)
    # The first draw's best cascade: a fresh scikit-learn logistic regression on its learned x′ separates XOR.
    learned, y0 = r.data["learned_features"], r.data["y"]
    assert LogisticRegression(C=np.inf, max_iter=100000).fit(learned, y0).score(learned, y0) >= 0.9
    solved = reps["cascade_starts_solved"]
    assert np.all((solved >= 0) & (solved <= config.starts))
    assert m["cascade_solve_rate"] == pytest.approx(solved.sum() / (config.starts * config.replicates))
