"""Models against NumPy forward passes, closed forms, finite differences and scikit-learn; one example or a
batch (vmap, per-example gradients); a flax module in the trainer."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree
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


# ------------------------------------------------------------------------------------------------------------
# One example or a batch: vmap over examples, per-example gradients, the scalar-output squeeze


def _every_model():
    """(name, model, params, X): every model with an apply, and a batch X of 5 examples in its input shape."""
    key = jax.random.PRNGKey(4)
    x3 = jax.random.normal(key, (5, 3))
    x1 = jax.random.normal(jax.random.PRNGKey(5), (5,))
    cases = [
        ("linear", models.linear(3), x3),
        ("linear_out2", models.linear(3, out_features=2), x3),
        ("linear_1_feature", models.linear(1), x1),
        ("polynomial", models.polynomial(3), x1),
        ("polynomial_degree_1", models.polynomial(1), x1),
        ("sigmoid_sum", models.sigmoid_sum(3, 4), x3),
        ("relu_sum", models.relu_sum(3, 4), x3),
        ("mlp", models.mlp(3, [4, 4]), x3),
        ("mlp_out1", models.mlp(3, [4], out_features=1), x3),
        ("mlp_out2", models.mlp(3, [4], out_features=2), x3),
        ("mlp_1_feature", models.mlp(1, [4]), x1),
        ("conditional_linear", models.conditional_linear(3, 3), (jnp.array([0, 2, 1, 1, 0]), x3)),
        ("conditional_linear_1_feature", models.conditional_linear(2, 1), (jnp.array([0, 1, 1, 0, 1]), x1)),
    ]
    out = []
    for name, model, x in cases:
        # random (not the zero init of linear models), so that a wrong row or feature order shows
        params = jax.tree_util.tree_map(lambda a: jax.random.normal(jax.random.PRNGKey(6), a.shape), model.init(0))
        out.append((name, model, params, x))
    return out


@pytest.mark.parametrize("case", _every_model(), ids=lambda c: c[0])
def test_vmap_over_examples_equals_the_batch_apply(case):
    _, model, params, x = case
    batch = model.apply(params, x)
    np.testing.assert_allclose(jax.vmap(lambda e: model.apply(params, e))(x), batch, rtol=1e-6, atol=1e-6)
    # one example at a time, eagerly (not traced): example n's output is row n of the batch's
    for n in range(5):
        one = jax.tree_util.tree_map(lambda a, n=n: a[n], x)
        got = model.apply(params, one)
        assert got.shape == batch.shape[1:]
        np.testing.assert_allclose(got, batch[n], rtol=1e-6, atol=1e-6)


def test_piecewise_linear_apply_on_one_input_and_under_vmap():
    params = models.piecewise_linear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
    grid = jnp.array([-1.0, 0.5, 2.0, 5.0])
    expected = np.interp(grid, [0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
    np.testing.assert_allclose(jax.vmap(lambda e: models.piecewise_linear_apply(params, e))(grid), expected)
    assert models.piecewise_linear_apply(params, grid[1]).shape == ()
    np.testing.assert_allclose(models.piecewise_linear_apply(params, grid[1]), 1.0)


def test_one_example_output_shapes_and_values():
    x = np.array([1.0, 2.0, 3.0])
    p = {"w": jnp.array([[1.0], [2.0], [3.0]]), "b": jnp.array([0.5])}
    assert models.linear(3).apply(p, x).shape == ()
    np.testing.assert_allclose(models.linear(3).apply(p, x), 1 + 4 + 9 + 0.5)
    assert models.linear(3, out_features=1).apply(p, x).shape == (1,)
    assert models.mlp(3, [4], out_features=2).apply(models.mlp(3, [4], out_features=2).init(0), x).shape == (2,)
    for factory in (models.sigmoid_sum, models.relu_sum):
        model = factory(3, 4)
        assert model.apply(model.init(0), x).shape == ()


def test_mlp_out_features_none_is_the_squeezed_out_features_1():
    x = jax.random.normal(jax.random.PRNGKey(7), (6, 3))
    scalar, wide = models.mlp(3, [4]), models.mlp(3, [4], out_features=1)
    params = scalar.init(0)  # the same parameter shapes: the output layer has width 1 either way
    assert scalar.apply(params, x).shape == (6,) and scalar.apply(params, x[0]).shape == ()
    assert wide.apply(params, x).shape == (6, 1) and wide.apply(params, x[0]).shape == (1,)
    np.testing.assert_array_equal(wide.apply(params, x)[:, 0], scalar.apply(params, x))
    # the NumPy forward pass of the ReLU MLP
    expected = np.maximum(np.asarray(x) @ params[0]["w"] + params[0]["b"], 0) @ params[1]["w"] + params[1]["b"]
    np.testing.assert_allclose(wide.apply(params, x), expected, rtol=1e-5, atol=1e-6)


def test_one_feature_models_read_a_1d_x_as_a_batch_and_a_scalar_as_one_example():
    p = {"w": jnp.array([[2.0]]), "b": jnp.array([1.0])}
    model = models.linear(1)
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(model.apply(p, x), 2 * x + 1)  # (N,): N examples, as before
    np.testing.assert_array_equal(model.apply(p, x[:, None]), 2 * x + 1)  # (N, 1): the same batch
    assert model.apply(p, x[2]).shape == () and float(model.apply(p, x[2])) == 5.0  # (): one example
    assert model.apply(p, x[:1]).shape == (1,)  # (1,): a batch of one, the shape of its targets y[:1]
    # vmap over (N, 1) hands each example over as a (1,) batch: the outputs stack to (N, 1) (documented)
    np.testing.assert_array_equal(jax.vmap(lambda e: model.apply(p, e))(x[:, None]), (2 * x + 1)[:, None])
    # polynomial of degree 1 is a 1-feature linear model on [x]: the same three readings
    poly = models.polynomial(1)
    assert poly.apply(p, x).shape == (3,) and poly.apply(p, x[2]).shape == () and poly.apply(p, x[:1]).shape == (1,)


def test_conditional_linear_one_example_and_its_shape_errors():
    model = models.conditional_linear(2, 1)
    params = {"w": jnp.array([[1.0], [-1.0]]), "b": jnp.array([0.0, 10.0])}
    for x in (jnp.array(2.0), jnp.array([2.0])):  # the scalar category makes (1,) one example
        got = model.apply(params, (jnp.array(1), x))
        assert got.shape == () and float(got) == 8.0
    with pytest.raises(ValueError, match=r"category and x.*got category \(\) and x \(3,\)"):
        model.apply(params, (jnp.array(1), jnp.ones(3)))
    with pytest.raises(ValueError, match=r"category and x.*got category \(2,\) and x \(\)"):
        model.apply(params, (jnp.array([0, 1]), jnp.array(2.0)))
    wide = models.conditional_linear(2, 3)
    with pytest.raises(ValueError, match=r"\(\) and \(3,\) for one example.*got category \(2,\) and x \(3,\)"):
        wide.apply(wide.init(0), (jnp.array([0, 1]), jnp.ones(3)))


@pytest.mark.parametrize("shape", [(), (2,), (4,), (4, 2), (2, 3, 3), (0, 3)])
def test_apply_rejects_shapes_that_fit_neither_one_example_nor_a_batch(shape):
    model = models.linear(3)
    with pytest.raises(ValueError, match=r"^x (must|contains|is)") as err:
        model.apply(model.init(0), np.ones(shape))
    if shape != (0, 3):  # an empty x is refused as empty before its shape is read
        assert "(3,) for one example or (N, 3) for a batch" in str(err.value)
        assert f"got {shape}" in str(err.value)


@pytest.mark.parametrize("shape", [(4, 2), (2, 1, 1)])
def test_one_feature_apply_rejects_other_shapes_naming_the_1_feature_forms(shape):
    for model in (models.linear(1), models.polynomial(2), models.mlp(1, [3])):
        with pytest.raises(ValueError, match=r"x must have shape \(\) for one example or \(N,\) or \(N, 1\)"):
            model.apply(model.init(0), np.ones(shape))


def test_polynomial_features_of_one_input():
    np.testing.assert_allclose(models.polynomial_features(np.float32(-2.0), 3), [-2.0, 4.0, -8.0])
    with pytest.raises(ValueError, match=r"x must have shape \(\) for one input"):
        models.polynomial_features(np.ones((2, 2)), 3)


def _per_example_grads(model, params, x, y):
    loss = lambda p, xn, yn: losses.mse(model.apply(p, xn), yn)  # xn (d,), yn (): one example
    return jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, x, y)


def _check_mean_is_the_batch_gradient(model, params, x, y, per_example):
    batch = jax.grad(lambda p: losses.mse(model.apply(p, x), y))(params)
    mean = jax.tree_util.tree_map(lambda g: g.mean(axis=0), per_example)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12), mean, batch)


def test_per_example_gradients_of_linear_match_the_closed_form(x64):
    rng = np.random.default_rng(8)
    x, y = jnp.asarray(rng.normal(size=(6, 3))), jnp.asarray(rng.normal(size=6))
    model = models.linear(3)
    params = {"w": jnp.asarray(rng.normal(size=(3, 1))), "b": jnp.asarray(rng.normal(size=1))}
    g = _per_example_grads(model, params, x, y)
    # ∂/∂θ (wᵀxₙ + b − yₙ)² = 2(wᵀxₙ + b − yₙ)·[xₙ, 1]
    r = np.asarray(x) @ np.asarray(params["w"])[:, 0] + float(params["b"][0]) - np.asarray(y)
    np.testing.assert_allclose(g["w"][:, :, 0], 2 * r[:, None] * np.asarray(x), rtol=1e-12)
    np.testing.assert_allclose(g["b"][:, 0], 2 * r, rtol=1e-12)
    _check_mean_is_the_batch_gradient(model, params, x, y, g)


def test_per_example_gradients_of_mlp_match_finite_differences(x64):
    model = models.mlp(3, [4], activation=jnp.tanh)
    params = model.init(9)
    x = jax.random.normal(jax.random.PRNGKey(10), (5, 3), dtype=jnp.float64)
    y = jnp.arange(5.0)
    g = _per_example_grads(model, params, x, y)
    theta, unravel = ravel_pytree(params)
    # central differences of the N per-example losses (yₙ − ŷₙ)², from the batch forward pass: (N, P)
    each = lambda t: np.asarray((model.apply(unravel(t), x) - y) ** 2)
    eps = 1e-6
    fd = np.stack([(each(theta + eps * e) - each(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)], axis=1)
    flat = np.stack([ravel_pytree(jax.tree_util.tree_map(lambda a, n=n: a[n], g))[0]
                     for n in range(5)])  # fmt: skip
    np.testing.assert_allclose(flat, fd, rtol=1e-6, atol=1e-8)
    _check_mean_is_the_batch_gradient(model, params, x, y, g)
