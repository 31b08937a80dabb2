"""Silent wrong answers and obscure errors a fuzz of bad inputs found (issue 24), one test per fix.

Each test names the fix it guards. Oracles: ``jax.random.PRNGKey`` with x64 on (for seeds), NumPy and closed
forms (standardizing), the float32 fit of the same values (bfloat16 features), JAX's own exception types.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import _checks, classification, curvature, generative, losses, models, train
from jaxml import data as jdata
from jaxml.curvature import _core

GX = np.array([[0.0, 0.1], [0.2, -0.3], [-0.1, 0.4], [2.0, 2.1], [2.3, 1.7], [1.8, 2.2]])
GY = np.array([0, 0, 0, 1, 1, 1])

# ------------------------------------------------------------------------------------ seeds: the whole int64 range

SEEDS = [0, 1, 5, 2**31, 2**32 - 1, 2**32, 2**32 + 5, 2**40 + 7, 2**63 - 1, -1, -7, -(2**31) - 1, -(2**63)]


def _prngkey_x64(seed: int) -> list[int]:
    """The oracle: JAX's own PRNGKey with x64 on, which keeps both 32-bit halves of an int64 seed."""
    with jax.enable_x64(True):
        return np.asarray(jax.random.key_data(jax.random.PRNGKey(seed))).tolist()


@pytest.mark.parametrize("x64", [False, True])
def test_an_int_seed_gives_the_x64_prngkey_with_x64_on_or_off(x64):
    with jax.enable_x64(x64):
        for seed in SEEDS:
            assert np.asarray(_checks.raw_key(seed)).tolist() == _prngkey_x64(seed), seed
        batch = np.asarray(_checks.keys(np.array(SEEDS, np.int64)))
        assert batch.tolist() == [_prngkey_x64(s) for s in SEEDS]
        assert np.asarray(_checks.keys(SEEDS)).tolist() == batch.tolist()


def test_seed_2_32_no_longer_wraps_to_seed_0_with_x64_off():
    with jax.enable_x64(False):
        assert not np.array_equal(_checks.raw_key(2**32), _checks.raw_key(0))
        x0, _ = jdata.noisy_regression_1d(0, n=5)
        x1, _ = jdata.noisy_regression_1d(2**32, n=5)
        assert not np.array_equal(x0, x1)


def test_seeds_below_2_32_still_give_prngkey_so_existing_results_are_unchanged():
    with jax.enable_x64(False):
        for seed in [0, 1, 42, 2**31, 2**32 - 1]:
            assert np.array_equal(_checks.raw_key(seed), jax.random.PRNGKey(seed))
            assert np.array_equal(_checks.keys(np.array([seed]))[0], jax.random.PRNGKey(seed))


@pytest.mark.parametrize("x64", [False, True])
def test_traced_seeds_give_the_same_keys_as_concrete_ones(x64):
    with jax.enable_x64(x64):
        seeds = [0, 5, -1, -7, 2**31 - 1] + ([2**32 + 5, -(2**40)] if x64 else [])
        dtype = jnp.int64 if x64 else jnp.int32
        one = jax.jit(lambda s: jax.random.key_data(_checks.key(s)))
        many = jax.jit(_checks.keys)
        assert [np.asarray(one(jnp.asarray(s, dtype))).tolist() for s in seeds] == [_prngkey_x64(s) for s in seeds]
        assert np.asarray(many(jnp.asarray(seeds, dtype))).tolist() == [_prngkey_x64(s) for s in seeds]


def test_a_uint64_seed_batch_past_int64_is_a_value_error():
    with pytest.raises(ValueError, match=r"keys\[1\] as an int seed must fit in a signed 64-bit integer"):
        _checks.keys(np.array([0, 2**63], np.uint64))


# ----------------------------------------------------------------------------------- integers from numpy and 0-d


@pytest.mark.parametrize("value", [np.int64(3), np.int32(3), np.array(3), jnp.array(3), np.uint8(3)])
def test_positive_int_returns_a_python_int_for_numpy_and_0d_integers(value):
    out = _checks.positive_int(value, "epochs")
    assert type(out) is int and out == 3 and out.bit_length() == 2
    assert type(_checks.integer(value, "n", low=0)) is int


@pytest.mark.parametrize("value", [3.0, np.float64(3.0), np.array(3.0)])
def test_positive_int_still_refuses_floats_even_integral_ones(value):
    with pytest.raises(TypeError, match="epochs must be an integer"):
        _checks.positive_int(value, "epochs")


def test_fit_accepts_numpy_integer_epochs():
    model = models.linear(2)
    objective = train.supervised(model.apply, losses.mse)
    x, y = np.ones((4, 2), np.float32), np.ones(4, np.float32)
    result = train.fit(objective, model.init(0), optax.sgd(0.1), (x, y), key=0, epochs=np.int64(3), progress=False)
    reference = train.fit(objective, model.init(0), optax.sgd(0.1), (x, y), key=0, epochs=3, progress=False)
    np.testing.assert_array_equal(result.params["w"], reference.params["w"])


# ------------------------------------------------------------------- JAX's tracer errors keep their type and text


def test_an_objective_branching_on_a_tracer_raises_jax_own_error_through_fit():
    def objective(p, b):
        return 1.0 if jnp.sum(p) > 1 else 0.0

    with pytest.raises((jax.errors.TracerBoolConversionError, jax.errors.ConcretizationTypeError)) as info:
        train.fit(objective, jnp.ones(2), optax.sgd(0.1), (np.ones((4, 2)),), key=0, epochs=1, progress=False)
    assert "Attempted boolean conversion of traced array" in str(info.value)  # JAX's text, printable


def test_np_asarray_of_traced_params_raises_jax_own_error():
    def objective(p, b):
        return jnp.sum(jnp.asarray(np.asarray(p)))

    with pytest.raises(jax.errors.TracerArrayConversionError) as info:
        _checks.scalar_output(objective, (jnp.ones(2), jnp.ones(2)), "objective")
    assert "__array__" in str(info.value) or "numpy" in str(info.value)


def test_a_plain_type_error_still_gets_the_arguments_in_front():
    def objective(p, b):
        return jnp.sum(p @ b)  # (2,) @ (3,): shapes of another model

    with pytest.raises(TypeError, match=r"objective failed on arguments shaped .*float32\[2\]"):
        _checks.scalar_output(objective, (jnp.ones(2), jnp.ones(3)), "objective")


def test_curvature_keeps_jax_tracer_errors_by_type_not_by_text():
    with pytest.raises(jax.errors.TracerBoolConversionError):
        _core.check_scalar_objective(lambda w: 1.0 if jnp.sum(w) > 1 else jnp.sum(w), jnp.ones(2), None)
    with pytest.raises(TypeError, match=r"f could not be called as f\(params, batch\)"):
        _core.check_scalar_objective(lambda w: jnp.sum(w), jnp.ones(2), (np.ones((3, 1)),))


# ------------------------------------------------------------------------------------------------------ data


def test_fit_standardizer_does_not_overflow_the_std_of_huge_columns():
    x = np.array([[1e200, 1.0], [-1e200, 2.0], [0.0, 3.0]])
    scaler = jdata.fit_standardizer(x)
    # Closed form: column 0 has mean 0 and std 1e200·√(2/3); column 1 is NumPy's (no overflow there).
    np.testing.assert_allclose(scaler.mean, [0.0, 2.0])
    np.testing.assert_allclose(scaler.std, [1e200 * math.sqrt(2 / 3), np.std([1.0, 2.0, 3.0])], rtol=1e-15)
    z = scaler.transform(x)
    np.testing.assert_allclose(z[:, 0], [math.sqrt(1.5), -math.sqrt(1.5), 0.0], rtol=1e-15)
    # and against NumPy on the scaled column
    np.testing.assert_allclose(z[:, 0], (x[:, 0] / 1e200 - 0.0) / np.std(x[:, 0] / 1e200), rtol=1e-14)


def test_fit_standardizer_near_the_largest_float_and_on_ordinary_data_is_numpy_bit_for_bit():
    huge = np.array([[1e308], [-1.7e308]])
    np.testing.assert_allclose(jdata.fit_standardizer(huge).transform(huge)[:, 0], [1.0, -1.0], rtol=1e-15)
    x = np.random.default_rng(0).normal(size=(50, 4)) * np.array([1e-3, 1.0, 7.0, 1e4]) + 3.0
    scaler = jdata.fit_standardizer(x)
    assert np.array_equal(scaler.mean, x.mean(0)) and np.array_equal(scaler.std, x.std(0))


def test_noisy_regression_raises_naming_fn_and_x_where_it_is_not_finite():
    with pytest.raises(ValueError, match=r"fn \(log\) is not finite at \d+ of the 50 x .* at x = -") as info:
        jdata.noisy_regression_1d(0, n=50, fn=np.log)
    x, _ = jdata.noisy_regression_1d(0, n=50, noise=0.0)
    assert f"{x[np.flatnonzero(x <= 0)[0]]:.6g}" in str(info.value)  # the first x ≤ 0 drawn, where log is nan/-inf


# ------------------------------------------------------------------------------------------------ curvature


def _sqrt(w):
    return jnp.sum(jnp.sqrt(w))


def _abs15(w):  # finite f and ∇f at 0, infinite second derivative
    return jnp.sum(jnp.abs(w) ** 1.5)


ENTRY_POINTS = {
    "hessian": lambda f, p, **kw: curvature.hessian(f, p, **kw),
    "hvp": lambda f, p, **kw: curvature.hvp(f, p, jnp.ones_like(p), **kw),
    "top_eigenvalues": lambda f, p, **kw: curvature.top_eigenvalues(f, p, 1, **kw),
    "bottom_eigenvalues": lambda f, p, **kw: curvature.bottom_eigenvalues(f, p, 1, **kw),
    "eigenpairs": lambda f, p, **kw: curvature.eigenpairs(f, p, 1, **kw),
    "spectral_density": lambda f, p, **kw: curvature.spectral_density(f, p, num_vectors=2, num_steps=3, **kw),
    "hutchinson_trace": lambda f, p, **kw: curvature.hutchinson_trace(f, p, max_samples=20, **kw),
    "classify_critical_point": lambda f, p, **kw: curvature.classify_critical_point(f, p, **kw),
    "classify_critical_point_lanczos": lambda f, p, **kw: curvature.classify_critical_point(
        f, p, dense_threshold=2, k=1, **kw
    ),
    "find_critical_point": lambda f, p, **kw: curvature.find_critical_point(f, p, **kw),
}


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_curvature_at_a_point_where_the_loss_is_nan_raises_naming_params(name):
    with pytest.raises(ValueError, match=r"not finite \(NaN or inf\) at params"):
        ENTRY_POINTS[name](_sqrt, -jnp.ones(4))


@pytest.mark.parametrize("name", [n for n in ENTRY_POINTS if n != "find_critical_point"])
def test_curvature_where_only_the_hessian_is_infinite_raises_naming_params(name):
    with pytest.raises(ValueError, match=r"(Hessian|H·v|zᵀHz|eigenvalue).* not finite \(NaN or inf\) at params"):
        ENTRY_POINTS[name](_abs15, jnp.zeros(4))


@pytest.mark.parametrize("name", ["hessian", "hvp", "top_eigenvalues", "hutchinson_trace", "spectral_density"])
def test_curvature_with_batched_data_at_a_nan_point_raises_naming_params(name):
    def f(w, batch):
        return jnp.mean(jnp.sqrt(w[None, :] * batch[0]))

    with pytest.raises(ValueError, match=r"not finite \(NaN or inf\) at params"):
        ENTRY_POINTS[name](f, -jnp.ones(4), data=(np.ones((6, 4)),), batch_size=4)


def test_curvature_at_a_finite_point_is_unchanged_by_the_checks():
    w = jnp.array([1.0, 4.0])
    np.testing.assert_allclose(curvature.hessian(_sqrt, w), np.diag(-0.25 * np.asarray(w) ** -1.5), rtol=1e-6)


# ------------------------------------------------------------------------------------------------ generative


def test_predict_proba_refuses_negative_priors_instead_of_returning_nan():
    model = generative.fit(GX, GY, "shared")
    for priors in ([-0.5, 1.5], [0.3, 0.3]):
        bad = model._replace(priors=jnp.array(priors))
        for predict in (generative.predict_proba, generative.predict, generative.predict_log_proba):
            with pytest.raises(ValueError, match=r"model\.priors"):
                predict(bad, GX)


def test_fit_upcasts_bfloat16_and_float16_features_to_float32():
    reference = generative.fit(np.asarray(jnp.asarray(GX, jnp.bfloat16), np.float32), GY)  # the same values
    for x in (jnp.asarray(GX, jnp.bfloat16), np.asarray(jnp.asarray(GX, jnp.bfloat16), np.float16)):
        model = generative.fit(x, GY)
        assert model.means.dtype == jnp.float32
        np.testing.assert_allclose(model.means, reference.means, rtol=1e-6)
        np.testing.assert_allclose(model.covariance, reference.covariance, rtol=1e-5, atol=1e-7)


NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues −1 and 3


@pytest.mark.parametrize("x", [GX, jnp.asarray(GX, jnp.float32)], ids=["host", "device"])
def test_a_covariance_that_is_not_positive_definite_is_a_value_error_naming_the_class(x):
    shared = generative.fit(GX, GY, "shared")
    full = generative.fit(GX, GY, "full")
    with pytest.raises(ValueError, match=r"model\.covariance: the shared covariance is not positive definite.*reg"):
        generative.predict_proba(shared._replace(covariance=jnp.asarray(NOT_PD[None], jnp.float32)), x)
    bad_full = full._replace(covariance=full.covariance.at[1].set(jnp.asarray(NOT_PD, full.covariance.dtype)))
    with pytest.raises(ValueError, match=r"the covariance of class 1 is not positive definite"):
        generative.predict(bad_full, x)
    diag = generative.fit(GX, GY, "diagonal")
    with pytest.raises(ValueError, match=r"model\.covariance must hold positive variances: class 0"):
        generative.predict(diag._replace(covariance=-diag.covariance), x)
    with pytest.raises(ValueError, match="not positive definite"):
        generative.to_linear(shared._replace(covariance=jnp.asarray(NOT_PD[None], jnp.float32)))


def test_generative_validation_lives_in_checks():
    assert not [n for n in vars(generative) if n.startswith("_check") and n != "_checks"]  # the module itself
    assert generative.SingularCovarianceError is _checks.SingularCovarianceError
    assert issubclass(generative.SingularCovarianceError, ValueError)


# ------------------------------------------------------------------------------------------------------ losses


@pytest.mark.parametrize("loss", [losses.mse, losses.mae, losses.huber])
def test_regression_losses_refuse_bools_naming_the_argument(loss):
    with pytest.raises(TypeError, match="pred must hold numbers"):
        loss(np.array([True, False]), np.array([1.0, 0.0]))
    with pytest.raises(TypeError, match="target must hold numbers"):
        loss(np.array([1.0, 0.0]), np.array([True, False]))


def test_classification_losses_refuse_bool_predictions_and_accept_bool_labels():
    with pytest.raises(TypeError, match="logits must hold numbers"):
        losses.binary_cross_entropy(np.array([True, False]), np.array([1, 0]))
    with pytest.raises(TypeError, match="logits must hold numbers"):
        losses.softmax_cross_entropy(np.array([[True, False]]), np.array([0]))
    with pytest.raises(TypeError, match="probs must hold numbers"):
        losses.cross_entropy(np.array([[True, False]]), np.array([0]))
    with pytest.raises(TypeError, match="scores must hold numbers"):
        losses.zero_one(np.array([True, False]), np.array([1, 0]))
    z = np.array([1.5, -0.5])
    assert float(losses.binary_cross_entropy(z, np.array([True, False]))) == float(
        losses.binary_cross_entropy(z, np.array([1.0, 0.0]))
    )


def test_lists_of_numbers_are_arrays_to_the_losses():
    pred, target = [1.0, 2.0, 4.0], [1.0, 3.0, 1.0]
    assert float(losses.mse(pred, target)) == pytest.approx(np.mean((np.array(pred) - target) ** 2))
    assert float(losses.mae(pred, target)) == pytest.approx(np.mean(np.abs(np.array(pred) - target)))


def test_list_data_in_the_trainer_is_a_type_error_saying_to_convert():
    model = models.linear(1)
    objective = train.supervised(model.apply, losses.mse)
    with pytest.raises(TypeError, match=r"data holds 6 Python numbers .* np\.asarray"):
        train.fit(objective, model.init(0), optax.sgd(0.1), ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), key=0, epochs=1)


def test_check_targets_names_softmax_labels_1_to_k():
    with pytest.raises(ValueError) as info:
        losses.check_targets(losses.softmax_cross_entropy, np.arange(1, 11), (10, 10))
    assert str(info.value).startswith(
        "labels in data must be integers in 0…K−1 = 0…9 for softmax cross-entropy with K = 10 outputs; got values 1…10"
    )
    with pytest.raises(ValueError, match=r"0…K−1 = 0…2 for cross-entropy with K = 3 outputs; got values 0…3"):
        losses.check_targets(losses.cross_entropy, np.array([0, 3]), (2, 3))
    with pytest.raises(ValueError, match=r"labels in data must lie in \[0, 1\]"):  # one-hot rows: probabilities
        losses.check_targets(losses.softmax_cross_entropy, np.array([[2.0, -1.0]]), (1, 2))


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "regression"])
def test_check_targets_names_plus_minus_one_binary_labels(loss):
    fn = classification._loss_fn(loss)
    with pytest.raises(ValueError, match=r"binary labels in data must be 0 or 1 .*got -1 and 1 — map ±1 labels with"):
        losses.check_targets(fn, np.array([-1, 1, 1, -1]), (4,))
    losses.check_targets(fn, np.array([0.0, 0.3, 1.0]), (3,))  # soft labels are fine


def test_check_targets_is_silent_for_other_losses_valid_labels_and_traced_labels():
    assert losses.check_targets(losses.mse, np.array([-1, 5]), (2,)) is None
    assert losses.check_targets(lambda z, y: 0.0, np.array([-1, 5]), (2,)) is None
    assert losses.check_targets(losses.softmax_cross_entropy, np.arange(10), (10, 10)) is None
    jax.jit(lambda y: losses.check_targets(losses.softmax_cross_entropy, y, (2, 3)) or y)(jnp.array([5, 7]))


def test_losses_called_eagerly_check_labels_through_check_targets():
    with pytest.raises(ValueError, match=r"^labels must be integers in 0…K−1 = 0…9 .* got values 1…10"):
        losses.softmax_cross_entropy(jnp.zeros((10, 10)), jnp.arange(1, 11))
    with pytest.raises(ValueError, match=r"^binary labels must be 0 or 1 .* map ±1 labels with \(y \+ 1\) / 2"):
        losses.binary_cross_entropy(jnp.zeros(2), jnp.array([-1, 1]))
    model = models.linear(3)
    for name in ("mse", "regression"):
        with pytest.raises(ValueError, match="map ±1 labels"):
            classification.objective(model.apply, name)(model.init(0), (jnp.ones((2, 3)), jnp.array([1, -1])))
