# ruff: noqa: E501 — one row of the table per line reads better than wrapped calls
"""Bad inputs at the public doors of losses, models, generative, classification, data and surfaces (issue 10).

Each row of :data:`CASES` is (id, call, exception type, a substring naming the argument); the call must raise
that exception with the substring in its message — a clear error, never a silent wrong answer or a raw XLA
trace. The trainer, curvature, optimizer and CLI tables live with their own tests.

Under ``jit`` values cannot be inspected, so the second half checks the promise made there instead: an invalid
label (or probability row, or δ) gives NaN, never a plausible finite number, and valid inputs give exactly the
eager value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import _checks, classification, generative, losses, models, surfaces, train
from jaxml import data as jdata
from jaxml.data import pokemon

NAN, INF = float("nan"), float("inf")
X3 = np.ones((4, 3), np.float32)  # four examples, three features
X_NAN = np.array([[1.0, NAN, 0.0]] * 4, np.float32)
GX = np.array([[0.0, 0.1], [0.2, -0.3], [-0.1, 0.4], [2.0, 2.1], [2.3, 1.7], [1.8, 2.2]])
GY = np.array([0, 0, 0, 1, 1, 1])


def _gauss() -> generative.GaussianModel:
    return generative.fit(GX, GY, "shared")


def _linear_params(d: int = 3) -> Any:
    return models.linear(d).init(0)


def _apply_conditional(category: Any, inputs: Any = None) -> Any:
    model = models.conditional_linear(3, 2)
    return model.apply(model.init(0), inputs if inputs is not None else (category, np.ones((2, 2))))


def _objective(loss: str, labels: Any, out: int | None = None) -> Any:
    model = models.linear(3, out)
    return classification.objective(model.apply, loss)(model.init(0), (X3[:2], np.asarray(labels)))


def _fit_subsets(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "model": models.linear(3, 3),
        "loss": "softmax",
        "x": X3,
        "y": np.array([0, 1, 2, 1]),
        "masks": np.ones((2, 4)),
        "key": 0,
        "epochs": 1,
        "optimizer": optax.sgd(0.1),
    }
    args.update(overrides)
    return classification.fit_subsets(**args)


CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # --- losses: issue 10's reproductions
    ("sce_label_5", lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([5, 0])), ValueError, "labels"),
    ("sce_label_-1", lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([-1, 0])), ValueError, "labels"),
    ("ce_not_probs", lambda: losses.cross_entropy(np.array([[2.0, -1.0]]), np.array([0])), ValueError, "probs"),
    ("ce_rows_not_1", lambda: losses.cross_entropy(np.array([[0.9, 0.9]]), np.array([0])), ValueError, "probs"),
    ("bce_label_3", lambda: losses.binary_cross_entropy(np.array([0.1, 0.2]), np.array([0, 3])), ValueError, "labels"),
    ("huber_delta_-1_array", lambda: losses.huber(np.ones(2), np.zeros(2), delta=jnp.array(-1.0)), ValueError, "delta"),
    ("sce_empty", lambda: losses.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, int)), ValueError, "logits"),
    ("mse_empty", lambda: losses.mse(np.zeros(0), np.zeros(0)), ValueError, "pred"),
    # --- losses: systematic
    ("huber_delta_0", lambda: losses.huber(np.ones(2), np.zeros(2), delta=0.0), ValueError, "delta"),
    ("huber_delta_nan", lambda: losses.huber(np.ones(2), np.zeros(2), delta=NAN), ValueError, "delta"),
    ("huber_delta_str", lambda: losses.huber(np.ones(2), np.zeros(2), delta="1"), TypeError, "delta"),
    ("huber_delta_vector", lambda: losses.huber(np.ones(2), np.zeros(2), delta=np.ones(2)), ValueError, "delta"),
    ("mse_nan_pred", lambda: losses.mse(np.array([NAN, 1.0]), np.zeros(2)), ValueError, "pred"),
    ("mse_inf_target", lambda: losses.mse(np.zeros(2), np.array([INF, 1.0])), ValueError, "target"),
    ("mae_shape", lambda: losses.mae(np.zeros((4, 1)), np.zeros(4)), ValueError, "pred"),
    ("mae_strings", lambda: losses.mae(np.array(["a"]), np.array(["b"])), TypeError, "pred"),
    ("mse_complex", lambda: losses.mse(np.ones(2, complex), np.ones(2)), TypeError, "pred"),
    ("sce_nan_logits", lambda: losses.softmax_cross_entropy(np.array([[NAN, 0.0]]), np.array([0])), ValueError, "logits"),
    ("sce_float_labels", lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), ValueError, "labels"),
    ("sce_soft_not_dist", lambda: losses.softmax_cross_entropy(np.zeros((1, 2)), np.array([[0.7, 0.7]])), ValueError, "labels"),
    ("sce_no_class_axis", lambda: losses.softmax_cross_entropy(np.float32(1.0), np.array(0)), ValueError, "logits"),
    ("ce_label_2", lambda: losses.cross_entropy(np.array([[0.5, 0.5]]), np.array([2])), ValueError, "labels"),
    ("ce_eps_negative", lambda: losses.cross_entropy(np.array([[0.5, 0.5]]), np.array([0]), eps=-1.0), ValueError, "eps"),
    ("ce_nan_probs", lambda: losses.cross_entropy(np.array([[NAN, 0.5]]), np.array([0])), ValueError, "probs"),
    ("bce_nan_logits", lambda: losses.binary_cross_entropy(np.array([NAN]), np.array([1])), ValueError, "logits"),
    ("bce_shape", lambda: losses.binary_cross_entropy(np.zeros((3, 1)), np.zeros(3)), ValueError, "logits"),
    ("bce_label_-1", lambda: losses.binary_cross_entropy(np.zeros(2), np.array([-1.0, 0.0])), ValueError, "labels"),
    ("zero_one_label_5", lambda: losses.zero_one(np.zeros((2, 3)), np.array([5, 0])), ValueError, "labels"),
    ("zero_one_binary_2", lambda: losses.zero_one(np.array([1.0, -1.0]), np.array([0, 2])), ValueError, "labels"),
    ("zero_one_float_multi", lambda: losses.zero_one(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError, "labels"),
    ("accuracy_nan", lambda: losses.accuracy(np.array([NAN, 1.0]), np.array([0, 1])), ValueError, "scores"),
    ("l2_mask_count", lambda: losses.l2_penalty({"w": np.ones(2)}, mask=[True, False]), ValueError, "mask"),
    ("l2_nan_params", lambda: losses.l2_penalty({"w": np.array([NAN])}), ValueError, "params"),
    # --- models
    ("mlp_hidden_int", lambda: models.mlp(3, hidden=4), TypeError, "hidden"),
    ("mlp_hidden_zero", lambda: models.mlp(3, [4, 0]), ValueError, "hidden[1]"),
    ("mlp_in_float", lambda: models.mlp(3.0, [4]), TypeError, "in_features"),
    ("mlp_activation", lambda: models.mlp(3, [4], activation="relu"), TypeError, "activation"),
    ("polynomial_0", lambda: models.polynomial(0), ValueError, "degree"),
    ("polynomial_features_-1", lambda: models.polynomial_features(np.ones(3), -1), ValueError, "degree"),
    ("linear_in_0", lambda: models.linear(0), ValueError, "in_features"),
    ("linear_out_bool", lambda: models.linear(3, True), TypeError, "out_features"),
    ("sigmoid_sum_units_0", lambda: models.sigmoid_sum(3, 0), ValueError, "units"),
    ("relu_sum_in_float", lambda: models.relu_sum(2.5, 3), TypeError, "in_features"),
    ("linear_other_arch", lambda: models.linear(3).apply(_linear_params(4), X3), ValueError, "params"),
    ("mlp_other_width", lambda: models.mlp(3, [4]).apply(models.mlp(3, [8]).init(0), X3), ValueError, "params"),
    ("mlp_other_depth", lambda: models.mlp(3, [4]).apply(models.mlp(3, [4, 4]).init(0), X3), ValueError, "params"),
    ("linear_empty_params", lambda: models.linear(3).apply({}, X3), ValueError, "params"),
    ("linear_nan_x", lambda: models.linear(3).apply(_linear_params(), X_NAN), ValueError, "x"),
    ("linear_x_shape", lambda: models.linear(3).apply(_linear_params(), np.ones((4, 2))), ValueError, "x"),
    ("linear_x_empty", lambda: models.linear(3).apply(_linear_params(), np.ones((0, 3))), ValueError, "x"),
    ("init_str_key", lambda: models.linear(3).init("seed"), TypeError, "key"),
    ("init_float_key", lambda: models.mlp(3, [2]).init(1.5), TypeError, "key"),
    ("init_key_batch", lambda: models.mlp(3, [2]).init(jax.random.split(jax.random.key(0), 2)), ValueError, "key"),
    ("conditional_category_5", lambda: _apply_conditional(np.array([5, 0])), ValueError, "category"),
    ("conditional_category_-1", lambda: _apply_conditional(np.array([-1, 0])), ValueError, "category"),
    ("conditional_category_float", lambda: _apply_conditional(np.array([0.0, 1.0])), TypeError, "category"),
    ("conditional_not_pair", lambda: _apply_conditional(None, inputs=np.ones((2, 2))), TypeError, "inputs"),
    ("conditional_rows", lambda: _apply_conditional(np.array([0, 1, 2])), ValueError, "category"),
    ("least_squares_nan_x", lambda: models.least_squares(X_NAN, np.ones(4)), ValueError, "x"),
    ("least_squares_nan_y", lambda: models.least_squares(X3, np.array([1.0, NAN, 0.0, 0.0])), ValueError, "y"),
    ("least_squares_l2_-1", lambda: models.least_squares(X3, np.ones(4), l2=-1.0), ValueError, "l2"),
    ("least_squares_empty", lambda: models.least_squares(np.ones((0, 3)), np.ones(0)), ValueError, "x"),
    ("least_squares_y_shape", lambda: models.least_squares(X3, np.ones(3)), ValueError, "y"),
    ("piecewise_nan", lambda: models.piecewise_linear([0.0, NAN], [0.0, 1.0]), ValueError, "breakpoints_x"),
    ("piecewise_decreasing", lambda: models.piecewise_linear([1.0, 0.0], [0.0, 1.0]), ValueError, "breakpoints_x"),
    ("piecewise_apply_type", lambda: models.piecewise_linear_apply({"a": 1}, np.ones(2)), TypeError, "params"),
    ("hard_sigmoid_nan", lambda: models.hard_sigmoid(np.array([NAN])), ValueError, "x"),
    # --- generative
    ("fit_label_5", lambda: generative.fit(GX, np.array([0, 0, 0, 1, 1, 5]), num_classes=2), ValueError, "y"),
    ("fit_label_-1", lambda: generative.fit(GX, np.array([0, 0, 0, 1, 1, -1])), ValueError, "y"),
    ("fit_nan_x", lambda: generative.fit(np.where(GX > 2.2, NAN, GX), GY), ValueError, "x"),
    ("fit_inf_x", lambda: generative.fit(np.where(GX > 2.2, INF, GX), GY, "shared"), ValueError, "x"),
    ("fit_empty", lambda: generative.fit(np.ones((0, 2)), np.ones(0, int), num_classes=1), ValueError, "x"),
    ("fit_reg_-1", lambda: generative.fit(GX, GY, reg=-1.0), ValueError, "reg"),
    ("fit_reg_nan", lambda: generative.fit(GX, GY, reg=NAN), ValueError, "reg"),
    ("fit_reg_vector", lambda: generative.fit(GX, GY, reg=np.ones(2)), ValueError, "reg"),
    ("fit_covariance", lambda: generative.fit(GX, GY, "spherical"), ValueError, "covariance"),
    ("fit_weights_-1", lambda: generative.fit(GX, GY, sample_weight=-np.ones(6)), ValueError, "sample_weight"),
    ("fit_weights_nan", lambda: generative.fit(GX, GY, sample_weight=np.full(6, NAN)), ValueError, "sample_weight"),
    ("fit_weights_shape", lambda: generative.fit(GX, GY, sample_weight=np.ones(5)), ValueError, "sample_weight"),
    ("fit_num_classes_0", lambda: generative.fit(GX, GY, num_classes=0), ValueError, "num_classes"),
    ("fit_y_strings", lambda: generative.fit(GX, np.array(list("aaabbb"))), TypeError, "y"),
    ("fit_y_shape", lambda: generative.fit(GX, GY[:5]), ValueError, "y"),
    ("bernoulli_alpha_-1", lambda: generative.fit_bernoulli(GX > 0, GY, alpha=-1.0), ValueError, "alpha"),
    ("bernoulli_not_binary", lambda: generative.fit_bernoulli(GX, GY), ValueError, "x"),
    ("predict_proba_nan", lambda: generative.predict_proba(_gauss(), np.array([[NAN, 0.0]])), ValueError, "x"),
    ("predict_inf", lambda: generative.predict(_gauss(), np.array([[INF, 0.0]])), ValueError, "x"),
    ("predict_log_proba_shape", lambda: generative.predict_log_proba(_gauss(), np.ones((2, 3))), ValueError, "x"),
    ("predict_not_model", lambda: generative.predict({"means": 0}, GX), TypeError, "model"),
    ("predict_nan_model", lambda: generative.predict(_gauss()._replace(means=jnp.full((2, 2), NAN)), GX), ValueError, "model.means"),
    ("log_likelihood_bernoulli", lambda: generative.log_likelihood(generative.fit_bernoulli(GX > 0, GY), GX), TypeError, "model"),
    ("to_linear_full", lambda: generative.to_linear(generative.fit(GX, GY, "full")), ValueError, "model"),
    # --- classification
    ("objective_loss_name", lambda: classification.objective(models.linear(3).apply, "hinge"), ValueError, "loss"),
    ("objective_l2_-1", lambda: classification.objective(models.linear(3).apply, l2=-1.0), ValueError, "l2"),
    ("objective_apply", lambda: classification.objective("linear"), TypeError, "apply"),
    ("binary_objective_label_2", lambda: _objective("cross_entropy", [0, 2]), ValueError, "labels"),
    ("mse_objective_label_2", lambda: _objective("mse", [0, 2]), ValueError, "labels"),
    ("regression_objective_-1", lambda: _objective("regression", [-1, 1]), ValueError, "labels"),
    ("softmax_objective_label_5", lambda: _objective("softmax", [5, 0], out=3), ValueError, "labels"),
    ("per_example_label_2", lambda: classification.per_example_loss("cross_entropy")(np.zeros(2), np.array([0, 2])), ValueError, "labels"),
    ("probabilities_nan", lambda: classification.probabilities(np.array([NAN])), ValueError, "logits"),
    ("ce_gradient_y_2", lambda: classification.cross_entropy_gradient(np.ones(3), 0.0, X3, np.array([0, 1, 2, 0])), ValueError, "y"),
    ("ce_gradient_w_shape", lambda: classification.cross_entropy_gradient(np.ones(2), 0.0, X3, np.zeros(4)), ValueError, "w"),
    ("mse_gradient_nan_x", lambda: classification.mse_gradient(np.ones(3), 0.0, X_NAN, np.zeros(4)), ValueError, "x"),
    ("distance_features_nan", lambda: classification.distance_features(np.array([[NAN, 0.0]])), ValueError, "x"),
    ("boundary_line_w_0", lambda: classification.boundary_line(np.zeros(2), 0.0, -np.ones(2), np.ones(2)), ValueError, "w"),
    ("boundary_line_points", lambda: classification.boundary_line(np.ones(2), 0.0, -np.ones(2), np.ones(2), points=1), ValueError, "points"),
    ("boundary_line_box", lambda: classification.boundary_line(np.ones(2), 0.0, np.ones(2), -np.ones(2)), ValueError, "lo"),
    ("hidden_features_params", lambda: classification.hidden_features({"w": 1}, X3), TypeError, "params"),
    ("loss_surface_objective", lambda: classification.loss_surface(None, lambda a, b: a, (X3, X3)), TypeError, "objective_fn"),
    ("fit_subsets_label_5", lambda: _fit_subsets(y=np.array([0, 1, 5, 1])), ValueError, "y"),
    ("fit_subsets_binary_2", lambda: _fit_subsets(model=models.linear(3), loss="cross_entropy", y=np.array([0, 2, 1, 1])), ValueError, "y"),
    ("fit_subsets_empty_mask", lambda: _fit_subsets(masks=np.array([[1.0, 1, 0, 0], [0, 0, 0, 0]])), ValueError, "masks"),
    ("fit_subsets_key", lambda: _fit_subsets(key="0"), TypeError, "key"),
    ("fit_subsets_nan_x", lambda: _fit_subsets(x=X_NAN), ValueError, "x"),
    ("fit_subsets_model", lambda: _fit_subsets(model=models.linear(3).apply), TypeError, "model"),
    # --- data
    ("split_nan_x", lambda: jdata.train_test_split(np.array([[NAN], [1.0], [2.0]]), np.arange(3), key=0), ValueError, "x"),
    ("split_nan_y", lambda: jdata.train_test_split(np.ones((3, 1)), np.array([NAN, 1.0, 2.0]), key=0), ValueError, "y"),
    ("split_key_str", lambda: jdata.train_test_split(np.ones((3, 1)), np.arange(3), key="0"), TypeError, "key"),
    ("split_fraction_1", lambda: jdata.train_test_split(np.ones((3, 1)), np.arange(3), key=0, test_fraction=1.0), ValueError, "test_fraction"),
    ("split_y_rows", lambda: jdata.train_test_split(np.ones((3, 1)), np.arange(2), key=0), ValueError, "y"),
    ("split_empty", lambda: jdata.train_test_split(np.ones((0, 2)), np.ones(0), key=0), ValueError, "x"),
    ("split_strings", lambda: jdata.train_test_split(np.array(["a", "b"]), np.arange(2), key=0), TypeError, "x"),
    ("xor_n_0", lambda: jdata.xor(0, n_per_corner=0), ValueError, "n_per_corner"),
    ("xor_noise_-1", lambda: jdata.xor(0, noise=-1.0), ValueError, "noise"),
    ("xor_key_float", lambda: jdata.xor(0.5), TypeError, "key"),
    ("noisy_n_0", lambda: jdata.noisy_regression_1d(0, n=0), ValueError, "n"),
    ("noisy_noise_nan", lambda: jdata.noisy_regression_1d(0, noise=NAN), ValueError, "noise"),
    ("noisy_high_le_low", lambda: jdata.noisy_regression_1d(0, low=1.0, high=1.0), ValueError, "high"),
    ("noisy_fn", lambda: jdata.noisy_regression_1d(0, fn="sin"), TypeError, "fn"),
    ("as_float_matrix_inf", lambda: jdata.as_float_matrix([[1.0, INF]]), ValueError, "x"),
    ("standardizer_nan", lambda: jdata.fit_standardizer([[1.0], [NAN]]), ValueError, "x"),
    ("transform_nan", lambda: jdata.fit_standardizer([[1.0], [2.0]]).transform([[NAN]]), ValueError, "x"),
    ("inverse_columns", lambda: jdata.fit_standardizer([[1.0], [2.0]]).inverse(np.ones((2, 3))), ValueError, "z"),
    ("split_standardized_ds", lambda: jdata.split_standardized((X3, np.ones(4)), key=0), TypeError, "ds"),
    ("split_standardized_n_train", lambda: jdata.split_standardized(jdata.load("diabetes"), key=0, n_train=0), ValueError, "n_train"),
    ("piecewise_target_nan", lambda: jdata.piecewise_linear_target((0.0, NAN), (1.0, 2.0)), ValueError, "breakpoints_x"),
    ("pokemon_cutoff_float", lambda: pokemon.water_vs_normal(cutoff=400.5), TypeError, "cutoff"),
    ("pokemon_class1", lambda: pokemon.type_split("Watr", "Normal"), ValueError, "class1"),
    ("pokemon_features", lambda: pokemon.water_vs_normal("eight"), ValueError, "features"),
    ("pokemon_include_mega", lambda: pokemon.water_vs_normal(include_mega="yes"), TypeError, "include_mega"),
    # --- surfaces
    ("elongated_theta_3", lambda: surfaces.elongated(np.ones(3)), ValueError, "theta"),
    ("crescent_nan", lambda: surfaces.crescent(np.array([NAN, 0.0])), ValueError, "theta"),
    ("trajectory_steps_-1", lambda: surfaces.trajectory(surfaces.saddle, optax.sgd(0.1), np.zeros(2), -1), ValueError, "steps"),
    ("trajectory_steps_float", lambda: surfaces.trajectory(surfaces.saddle, optax.sgd(0.1), np.zeros(2), 2.0), TypeError, "steps"),
    ("trajectory_theta0_nan", lambda: surfaces.trajectory(surfaces.saddle, optax.sgd(0.1), np.array([NAN, 0.0]), 2), ValueError, "theta0"),
    ("trajectory_theta0_shape", lambda: surfaces.trajectory(surfaces.saddle, optax.sgd(0.1), np.zeros(3), 2), ValueError, "theta0"),
    ("trajectory_optimizer", lambda: surfaces.trajectory(surfaces.saddle, "adam", np.zeros(2), 2), TypeError, "optimizer"),
    ("trajectory_f", lambda: surfaces.trajectory(None, optax.sgd(0.1), np.zeros(2), 2), TypeError, "f"),
    ("on_grid_shapes", lambda: surfaces.on_grid(surfaces.saddle)(np.zeros((2, 2)), np.zeros((3, 2))), ValueError, "X"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_an_error_naming_the_argument(call, error, names):
    with pytest.raises(error) as info:
        call()
    assert names in str(info.value), f"message does not name {names!r}: {info.value}"


def test_the_table_is_large_and_its_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 80


# ---------------------------------------------------------------------------------------------------------- jit


def _is_nan(value: Any) -> bool:
    return bool(np.all(np.isnan(np.asarray(value))))


LOGITS = jnp.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5]])


@pytest.mark.parametrize(
    "fn, args",
    [
        (losses.softmax_cross_entropy, (LOGITS, jnp.array([5, 0]))),
        (losses.softmax_cross_entropy, (LOGITS, jnp.array([-1, 0]))),
        (losses.softmax_cross_entropy, (LOGITS, jnp.array([[0.7, 0.7, 0.0], [1.0, 0.0, 0.0]]))),
        (losses.cross_entropy, (jnp.array([[2.0, -1.0]]), jnp.array([0]))),
        (losses.cross_entropy, (jnp.array([[0.9, 0.9]]), jnp.array([0]))),
        (losses.cross_entropy, (jnp.array([[0.5, 0.5]]), jnp.array([2]))),
        (losses.binary_cross_entropy, (jnp.array([0.1, 0.2]), jnp.array([0, 3]))),
        (losses.binary_cross_entropy, (jnp.array([0.1, 0.2]), jnp.array([0.0, -0.5]))),
        (losses.zero_one, (LOGITS, jnp.array([5, 0]))),
        (losses.accuracy, (jnp.array([1.0, -1.0]), jnp.array([0, 2]))),
        (lambda p, t, d: losses.huber(p, t, d), (jnp.ones(2), jnp.zeros(2), jnp.array(-1.0))),
    ],
    ids=["sce_5", "sce_-1", "sce_soft", "ce_negative", "ce_rows", "ce_label_2", "bce_3", "bce_-0.5", "zero_one_5",
         "accuracy_binary_2", "huber_delta_-1"],
)  # fmt: skip
def test_under_jit_an_invalid_input_gives_nan_not_a_number(fn, args):
    assert _is_nan(jax.jit(fn)(*args))


@pytest.mark.parametrize(
    "fn, args",
    [
        (losses.softmax_cross_entropy, (LOGITS, jnp.array([2, 0]))),
        (losses.softmax_cross_entropy, (LOGITS, jax.nn.softmax(LOGITS[::-1]))),
        (losses.cross_entropy, (jax.nn.softmax(LOGITS), jnp.array([1, 2]))),
        (losses.binary_cross_entropy, (jnp.array([0.1, -2.0]), jnp.array([0.0, 0.3]))),
        (losses.zero_one, (LOGITS, jnp.array([0, 0]))),
        (losses.huber, (jnp.array([0.5, 3.0]), jnp.zeros(2))),
    ],
)
def test_under_jit_valid_inputs_give_the_eager_value(fn, args):
    assert float(jax.jit(fn)(*args)) == float(fn(*args))


def test_gradient_of_a_valid_loss_is_unchanged_by_the_nan_guard():
    # Oracle: the closed form ∂/∂z mean[logsumexp(z) − z_y] = (softmax(z) − onehot(y)) / N.
    labels = jnp.array([2, 0])
    expected = (jax.nn.softmax(LOGITS) - jax.nn.one_hot(labels, 3)) / 2
    np.testing.assert_allclose(jax.grad(losses.softmax_cross_entropy)(LOGITS, labels), expected, rtol=1e-6)


def test_under_vmap_only_the_invalid_example_is_nan():
    each = classification.per_example_loss("cross_entropy")
    out = jax.jit(each)(jnp.array([0.5, 0.5, -1.0]), jnp.array([1, 2, 0]))
    assert np.isfinite(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])


def test_conditional_linear_under_jit_gives_nan_for_an_unknown_category_not_zero():
    model = models.conditional_linear(3, 2)
    params = {"w": jnp.ones((3, 2)), "b": jnp.arange(3.0)}
    out = jax.jit(model.apply)(params, (jnp.array([5, 1]), jnp.ones((2, 2))))
    assert np.isnan(out[0]) and float(out[1]) == 3.0  # row 1: b₁ + w₁ᵀx = 1 + 2


@pytest.mark.parametrize("loss, labels, out", [("cross_entropy", [0, 2], None), ("softmax", [5, 0], 3)])
def test_classification_objectives_under_jit_give_nan_for_invalid_labels(loss, labels, out):
    model = models.linear(3, out)
    objective = classification.objective(model.apply, loss)
    assert _is_nan(jax.jit(objective)(model.init(0), (jnp.ones((2, 3)), jnp.array(labels))))


def test_the_trainer_refuses_to_train_a_softmax_classifier_on_label_5():
    model = models.linear(3, 3)
    x = jax.random.normal(jax.random.PRNGKey(0), (8, 3))
    y = jnp.array([0, 1, 2, 5, 0, 1, 2, 0])
    objective = classification.objective(model.apply, "softmax")
    # Named before training (not "training diverged ... try a smaller learning rate", as under jit it would be).
    with pytest.raises(ValueError, match=r"labels in data must be integers in 0…K−1 = 0…2 .* got values 0…5"):
        train.fit(objective, model.init(0), optax.sgd(0.1), (x, y), key=0, epochs=3, progress=False)


def test_generative_fit_under_jit_does_not_drop_a_label_out_of_range():
    fit = jax.jit(generative.fit, static_argnames="num_classes")
    model = fit(GX, np.array([0, 0, 0, 1, 1, 5]), num_classes=2)
    assert _is_nan(model.means) and _is_nan(model.covariance) and _is_nan(model.priors)
    valid = fit(GX, GY, num_classes=2)
    # the traced fit pools its blocks in JAX, the eager one on the host: equal up to summation order
    np.testing.assert_allclose(valid.means, generative.fit(GX, GY).means, rtol=1e-6)


def test_fit_bernoulli_under_jit_gives_nan_for_a_label_out_of_range():
    fit = jax.jit(generative.fit_bernoulli, static_argnames="num_classes")
    model = fit((GX > 0).astype(float), np.array([0, 0, 0, 1, 1, 2]), num_classes=2)
    assert _is_nan(model.feature_probs)


def test_predict_under_jit_gives_minus_one_for_a_nan_row():
    model = _gauss()
    labels = jax.jit(generative.predict)(model, jnp.array([[NAN, 0.0], [0.0, 0.0]]))
    assert labels.tolist() == [-1, 0]


# ---------------------------------------------------------------------------------------------------- keys alike


def _same(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


@pytest.mark.parametrize("seed", [3, np.int64(3), np.uint32(3), jax.random.PRNGKey(3), jax.random.key(3)])
def test_int_seeds_and_keys_are_accepted_alike(seed):
    # Oracle: the raw PRNGKey(3) path, which every form must reproduce bit for bit.
    ref = jax.random.PRNGKey(3)
    model = models.mlp(2, [3])
    assert _same(model.init(seed), model.init(ref))
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    assert _same(jdata.train_test_split(x, y, key=seed), jdata.train_test_split(x, y, key=ref))
    assert _same(jdata.xor(seed, 2), jdata.xor(ref, 2))
    assert _same(jdata.noisy_regression_1d(seed, 5), jdata.noisy_regression_1d(ref, 5))
    perm = np.asarray(jax.random.permutation(ref, 10))
    assert _same(jdata.train_test_split(x, y, key=seed)[1][1], y[perm[:2]])


@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, -(2**63) - 1])
def test_a_seed_past_int64_is_a_value_error_not_an_overflow(seed):
    with pytest.raises(ValueError, match="signed 64-bit"):
        _checks.key(seed)


# ------------------------------------------------------------------------------------------------------- _checks


def test_finite_fast_path_does_not_confuse_overflow_with_inf():
    big = np.array([1e308, 1e308])  # the sum overflows, the values are finite
    assert _checks.finite(big, "x") is big
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values \(first at index \(1,\): inf\)"):
        _checks.finite(np.array([1.0, INF]), "x")
    with pytest.raises(ValueError, match="first at index"):
        _checks.finite(jnp.array([[1.0, NAN]]), "x")


def test_tree_shapes_names_the_leaf():
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape \(3, 1\)"):
        _checks.tree_shapes({"w": np.ones((2, 1))}, {"w": np.ones((3, 1))}, "params")
    # lists and tuples count alike
    assert _checks.tree_shapes((np.ones(2),), [np.zeros(2)], "params")
