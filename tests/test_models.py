"""Models against NumPy forward passes, closed forms and scikit-learn; a flax module in the trainer."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads
from sklearn.linear_model import Ridge

from jaxml import losses, models, train


def test_hard_sigmoid_closed_form_and_two_relus():
    x = np.linspace(-6, 6, 1201)
    expected = np.where(x < -2.5, 0.0, np.where(x > 2.5, 1.0, 0.2 * x + 0.5))
    np.testing.assert_allclose(models.hard_sigmoid(x), expected, atol=1e-7)
    two_relus = jax.nn.relu(0.2 * x + 0.5) - jax.nn.relu(0.2 * x - 0.5)
    np.testing.assert_allclose(two_relus, expected, atol=1e-7)


def test_piecewise_linear_construction_is_exact():
    with jax.enable_x64(True):
        bx = np.array([-3.0, -1.0, 0.5, 2.0, 3.5])
        by = np.array([1.0, -0.5, 1.5, 0.5, 2.0])
        params = models.piecewise_linear(bx, by)
        grid = np.linspace(-6, 6, 4001)
        np.testing.assert_allclose(models.piecewise_linear_apply(params, grid), np.interp(grid, bx, by), atol=1e-12)
        assert params.c.shape == (4,)


@pytest.mark.parametrize(
    "bx, by", [([0.0, 0.0], [1.0, 2.0]), ([1.0], [1.0]), ([0.0, 1.0], [1.0]), ([0.0, np.nan], [0.0, 1.0])]
)
def test_piecewise_linear_rejects_bad_breakpoints(bx, by):
    with pytest.raises(ValueError, match="breakpoints"):
        models.piecewise_linear(bx, by)


def test_linear_and_mlp_match_numpy_forward():
    key = jax.random.PRNGKey(0)
    x = np.asarray(jax.random.normal(key, (7, 3)))
    model = models.mlp(3, [5, 4], out_features=2, activation=jnp.tanh)
    params = model.init(key)
    h = x
    for layer in params[:-1]:
        h = np.tanh(h @ np.asarray(layer["w"]) + np.asarray(layer["b"]))
    expected = h @ np.asarray(params[-1]["w"]) + np.asarray(params[-1]["b"])
    np.testing.assert_allclose(model.apply(params, x), expected, rtol=1e-5, atol=1e-6)
    scalar = models.mlp(3, [4])
    assert scalar.apply(scalar.init(key), x).shape == (7,)
    lin = models.linear(3)
    p = {"w": jnp.array([[1.0], [2.0], [3.0]]), "b": jnp.array([0.5])}
    np.testing.assert_allclose(lin.apply(p, x), x @ [1.0, 2.0, 3.0] + 0.5, rtol=1e-5)


def test_sigmoid_and_relu_sums_match_the_lecture_formula():
    key = jax.random.PRNGKey(1)
    x = np.asarray(jax.random.normal(key, (6, 2)))
    for factory, act in (
        (models.sigmoid_sum, lambda r: 1 / (1 + np.exp(-r))),
        (models.relu_sum, lambda r: np.maximum(r, 0)),
    ):
        model = factory(2, 5)
        p = jax.tree_util.tree_map(np.asarray, model.init(key))
        expected = p["b"] + act(x @ p["hidden"]["w"] + p["hidden"]["b"]) @ p["c"]
        np.testing.assert_allclose(model.apply(p, x), expected, rtol=1e-5, atol=1e-6)


def test_polynomial_features():
    x = np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(models.polynomial_features(x, 3), np.stack([x, x**2, x**3], 1))
    with pytest.raises(ValueError, match="degree"):
        models.polynomial_features(x, 0)


def test_conditional_linear_is_one_line_per_category():
    model = models.conditional_linear(3, 2)
    params = {"w": jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), "b": jnp.array([0.0, 1.0, -1.0])}
    cat = np.array([0, 1, 2, 1])
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [0.5, 0.5]])
    expected = [params["b"][c] + x[i] @ np.asarray(params["w"][c]) for i, c in enumerate(cat)]
    np.testing.assert_allclose(model.apply(params, (cat, x)), expected)
    with pytest.raises(TypeError, match="category"):
        model.apply(params, (cat.astype(float), x))


def test_models_validate_arguments_and_inputs():
    with pytest.raises(ValueError, match="in_features"):
        models.linear(0)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        models.mlp(3, [4, -1])
    model = models.linear(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        model.apply(model.init(jax.random.PRNGKey(0)), jnp.zeros((4, 2)))


def test_mlp_gradients_match_finite_differences():
    with jax.enable_x64(True):
        model = models.mlp(3, [4], activation=jax.nn.sigmoid)
        params = model.init(jax.random.PRNGKey(2))
        x = jax.random.normal(jax.random.PRNGKey(3), (5, 3))
        y = jnp.arange(5.0)
        check_grads(lambda p: losses.mse(model.apply(p, x), y), (params,), order=2, modes=["rev"])


def test_least_squares_matches_numpy_and_ridge_matches_sklearn():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(50, 4))
        y = x @ [1.0, -2.0, 0.5, 3.0] + 0.7 + 0.1 * rng.normal(size=50)
        p = models.least_squares(jnp.asarray(x), jnp.asarray(y))
        coef, *_ = np.linalg.lstsq(np.c_[x, np.ones(50)], y, rcond=None)
        np.testing.assert_allclose(np.r_[p["w"][:, 0], p["b"]], coef, rtol=1e-10)
        # sklearn's Ridge minimizes Σ r² + α‖w‖², ours mean r² + λ‖w‖²: α = λN.
        lam = 0.3
        ridge = Ridge(alpha=lam * 50).fit(x, y)
        p = models.least_squares(jnp.asarray(x), jnp.asarray(y), l2=lam)
        np.testing.assert_allclose(p["w"][:, 0], ridge.coef_, rtol=1e-8)
        np.testing.assert_allclose(p["b"][0], ridge.intercept_, rtol=1e-8)


def test_flax_module_plugs_into_the_trainer():
    class TwoLayer(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(1)(nn.tanh(nn.Dense(8)(x)))[:, 0]

    module = TwoLayer()
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 2))
    y = jnp.sin(x[:, 0]) + x[:, 1]
    model = models.Model(init=lambda key: module.init(key, x[:1]), apply=module.apply)
    params = model.init(jax.random.PRNGKey(1))
    objective = train.supervised(model.apply, losses.mse, l2=1e-4)
    result = train.fit(objective, params, optax.adam(0.05), (x, y), key=0, epochs=60, batch_size=16)
    history = result.history["train_loss"]
    assert history[-1] < 0.1 * history[0]
    # the L2 mask recognised flax's "bias" leaves
    flat = jax.tree_util.tree_leaves_with_path(losses.default_l2_mask(params))
    assert {jax.tree_util.keystr(k): v for k, v in flat}["['params']['Dense_0']['bias']"] is False
