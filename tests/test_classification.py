"""jaxml.classification (logistic / softmax regression through the trainer) and the Pokémon loader, against
closed forms, finite differences, scikit-learn and the data set's documented counts (course §2.1–2.11)."""

from __future__ import annotations

import csv

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads
from sklearn.linear_model import LogisticRegression

from jaxml import classification, data, losses, models, train
from jaxml.data import fit_standardizer
from jaxml.data.pokemon import FEATURE_SETS, STATS, load_pokemon, load_pokemon_dataset, water_vs_normal

pytestmark = pytest.mark.usefixtures("x64")  # float64 throughout (the shared fixture in conftest.py)


def binary_data(seed: int = 0, n: int = 120, d: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x @ rng.normal(size=d) + 0.8 * rng.normal(size=n) > 0).astype(np.int32)  # overlapping classes
    return x, y


def f64(params):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), params)


# ----------------------------------------------------------------------------------------------- objectives


def test_cross_entropy_gradient_is_the_lecture_formula():
    x, y = binary_data(1)
    model = models.linear(3)
    params = {"w": jnp.array([[0.3], [-0.2], [0.5]]), "b": jnp.array([0.1])}
    objective = classification.objective(model.apply, "cross_entropy")
    g = jax.grad(objective)(params, (x, y))
    gw, gb = classification.cross_entropy_gradient(params["w"][:, 0], params["b"][0], x, y)
    # ∂L/∂wᵢ = −(1/N) Σ (ŷⁿ − f(xⁿ)) xᵢⁿ — linear regression's form.
    np.testing.assert_allclose(g["w"][:, 0], gw, rtol=1e-12)
    np.testing.assert_allclose(g["b"][0], gb, rtol=1e-12)
    f = 1 / (1 + np.exp(-(x @ np.asarray(params["w"])[:, 0] + 0.1)))
    np.testing.assert_allclose(gw, -(x.T @ (y - f)) / len(y), rtol=1e-12)
    check_grads(lambda p: objective(p, (x, y)), (params,), order=1, modes=("rev",))


def test_mse_gradient_is_the_lecture_formula():
    x, y = binary_data(2)
    model = models.linear(3)
    params = {"w": jnp.array([[2.0], [-1.0], [0.5]]), "b": jnp.array([-0.3])}
    objective = classification.objective(model.apply, "mse")
    g = jax.grad(objective)(params, (x, y))
    gw, gb = classification.mse_gradient(params["w"][:, 0], params["b"][0], x, y)
    np.testing.assert_allclose(g["w"][:, 0], gw, rtol=1e-12)
    np.testing.assert_allclose(g["b"][0], gb, rtol=1e-12)
    f = 1 / (1 + np.exp(-(x @ np.asarray(params["w"])[:, 0] - 0.3)))
    np.testing.assert_allclose(gw, x.T @ (2 * (f - y) * f * (1 - f)) / len(y), rtol=1e-12)
    # σ + square error: the value is the mean of (σ(z) − ŷ)².
    np.testing.assert_allclose(objective(params, (x, y)), np.mean((f - y) ** 2), rtol=1e-12)
    check_grads(lambda p: objective(p, (x, y)), (params,), order=1, modes=("rev",))


def test_mse_gradient_vanishes_far_from_the_target():
    # A class-1 point predicted f ≈ 0: square error's gradient ≈ 0, cross-entropy's ≈ −x.
    x, y = np.array([[1.0, 1.0]]), np.array([1])
    w, b = jnp.array([-8.0, -8.0]), jnp.array(0.0)
    assert float(jnp.linalg.norm(classification.mse_gradient(w, b, x, y)[0])) < 1e-6
    np.testing.assert_allclose(classification.cross_entropy_gradient(w, b, x, y)[0], [-1.0, -1.0], atol=1e-6)


def test_per_example_loss_and_regression_objective():
    x, y = binary_data(3)
    z = jnp.asarray(x[:, 0])
    each = classification.per_example_loss("cross_entropy")(z, y)
    np.testing.assert_allclose(jnp.mean(each), losses.binary_cross_entropy(z, y), rtol=1e-12)
    # Classification as regression: squared error against targets ±1.
    model = models.linear(3)
    params = models.least_squares(jnp.asarray(x), jnp.asarray(2.0 * y - 1.0))
    obj = classification.objective(model.apply, "regression")
    np.testing.assert_allclose(obj(params, (x, y)), np.mean((np.asarray(model.apply(params, x)) - (2 * y - 1)) ** 2))
    # The least-squares solution is the minimum: the objective's gradient vanishes there.
    g = jax.grad(obj)(params, (x, y))
    assert max(float(jnp.max(jnp.abs(v))) for v in jax.tree_util.tree_leaves(g)) < 1e-10
    with pytest.raises(ValueError, match="loss must be one of"):
        classification.objective(model.apply, "hinge")


# ----------------------------------------------------------------------------------------------- training


def test_logistic_regression_matches_sklearn_on_pokemon():
    split = water_vs_normal("six")
    scaler = fit_standardizer(split.x_train)
    xtr, xte = scaler.transform(split.x_train), scaler.transform(split.x_test)
    model = models.linear(6)
    result = train.fit(
        classification.objective(model.apply, "cross_entropy"),
        f64(model.init(jax.random.PRNGKey(0))),
        optax.adam(0.05),
        (xtr, split.y_train),
        key=0,
        epochs=3000,
        progress=False,
    )
    # C=np.inf is scikit-learn's spelling of penalty=None (deprecated in 1.8).
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100000).fit(xtr, split.y_train)
    np.testing.assert_allclose(result.params["w"][:, 0], sk.coef_[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.params["b"][0], sk.intercept_[0], rtol=1e-4, atol=1e-5)
    ours = float(losses.accuracy(model.apply(result.params, xte), split.y_test))
    assert ours == pytest.approx(sk.score(xte, split.y_test))
    assert round(100 * ours) == 79  # the lecture's logistic-regression accuracy


def test_softmax_regression_matches_sklearn_with_l2():
    ds = data.load("digits")
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(ds.y))[:300]
    x, y = ds.x[keep] / 16.0, ds.y[keep]
    c = 1.0
    # scikit-learn: ½‖W‖² + C Σₙ ℓₙ; ours: (1/N) Σₙ ℓₙ + λ Σ W² ⇒ λ = 1/(2CN).
    lam = 1.0 / (2 * c * len(y))
    model = models.linear(64, 10)
    result = train.fit(
        classification.objective(model.apply, "softmax", l2=lam),
        f64(model.init(jax.random.PRNGKey(0))),
        optax.adam(optax.cosine_decay_schedule(0.05, 3000)),  # a decaying η settles at the optimum
        (x, y),
        key=0,
        epochs=3000,
        progress=False,
    )
    sk = LogisticRegression(C=c, tol=1e-12, max_iter=100000).fit(x, y)
    np.testing.assert_allclose(result.params["w"].T, sk.coef_, atol=1e-5)
    probs = classification.probabilities(model.apply(result.params, x))
    np.testing.assert_allclose(probs, sk.predict_proba(x), atol=1e-5)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-12)


def test_accuracy_metric_binary_and_multiclass():
    model = models.linear(2)
    params = {"w": jnp.array([[1.0], [0.0]]), "b": jnp.array([0.0])}
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0], [-0.5, 3.0]])
    y = np.array([1, 0, 0, 0])
    assert float(classification.accuracy_metric(model.apply)(params, (x, y))) == pytest.approx(0.75)
    multi = models.linear(2, 3)
    p3 = {"w": jnp.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "b": jnp.zeros(3)}
    y3 = np.argmax(x @ np.asarray(p3["w"]), 1)
    assert float(classification.accuracy_metric(multi.apply)(p3, (x, y3))) == 1.0


def test_fit_subsets_equals_separate_fits():
    x, y = binary_data(4, n=80)
    rng = np.random.default_rng(5)
    masks = np.zeros((2, 80))
    subsets = [rng.choice(80, size=s, replace=False) for s in (25, 80)]
    for r, idx in enumerate(subsets):
        masks[r, idx] = 1.0
    model = models.linear(3)
    opt = optax.sgd(0.5)
    for standardize in (False, True):
        fitted = classification.fit_subsets(
            model, "cross_entropy", x, y, masks, key=0, epochs=200, optimizer=opt, l2=1e-3, standardize=standardize
        )
        for r, idx in enumerate(subsets):
            xs = x[idx]
            if standardize:
                xs = (xs - xs.mean(0)) / xs.std(0)  # the subset's own statistics
            alone = train.fit(
                classification.objective(model.apply, "cross_entropy", l2=1e-3),
                f64(model.init(jax.random.PRNGKey(0))),
                opt,
                (xs, y[idx]),
                key=0,
                epochs=200,
                progress=False,
            )
            run = jax.tree_util.tree_map(lambda a, r=r: a[r], fitted.params)
            np.testing.assert_allclose(run["w"], alone.params["w"], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(run["b"], alone.params["b"], rtol=1e-9, atol=1e-12)
        logits = fitted.logits(model.apply, x)
        assert logits.shape == (2, 80)
    with pytest.raises(ValueError, match="masks must have shape"):
        classification.fit_subsets(model, "cross_entropy", x, y, masks[:, :10], key=0, epochs=1, optimizer=opt)


# ----------------------------------------------------------------------------------------------- XOR pieces


def test_distance_features_of_the_xor_corners():
    corners = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    r2 = np.sqrt(2.0)
    np.testing.assert_allclose(
        classification.distance_features(corners), [[0.0, r2], [r2, 0.0], [1.0, 1.0], [1.0, 1.0]], atol=1e-15
    )
    with pytest.raises(ValueError, match="same d"):
        classification.distance_features(corners, centers=[[0.0, 0.0, 0.0]])


def test_cascade_is_logistic_units_feeding_a_logistic_unit():
    net = classification.cascade(2, 2)
    params = f64(net.init(jax.random.PRNGKey(3)))
    x = np.random.default_rng(6).normal(size=(10, 2))
    h = 1 / (1 + np.exp(-(x @ np.asarray(params[0]["w"]) + np.asarray(params[0]["b"]))))
    np.testing.assert_allclose(classification.hidden_features(params, x), h, rtol=1e-12)
    z = h @ np.asarray(params[1]["w"])[:, 0] + np.asarray(params[1]["b"])[0]
    np.testing.assert_allclose(net.apply(params, x), z, rtol=1e-12)


def test_loss_surface_and_boundary_line():
    x, y = binary_data(7, d=2)
    model = models.linear(2)
    obj = classification.objective(model.apply, "cross_entropy")
    to_params = lambda a, b: {"w": jnp.stack([a, b])[:, None], "b": jnp.zeros(1)}
    surface = classification.loss_surface(obj, to_params, (x, y))
    grid_x, grid_y = np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-1, 1, 3))
    values = surface(grid_x, grid_y)
    expected = [[float(obj(to_params(jnp.array(a), jnp.array(b)), (x, y))) for a, b in zip(ra, rb)]
                for ra, rb in zip(grid_x, grid_y)]  # fmt: skip
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    w, b = np.array([1.0, -2.0]), 0.5
    px, py = classification.boundary_line(w, b, np.array([-3.0, -3.0]), np.array([3.0, 3.0]))
    assert px.size > 100
    np.testing.assert_allclose(w[0] * px + w[1] * py + b, 0.0, atol=1e-12)
    assert np.all((np.abs(px) <= 3) & (np.abs(py) <= 3))
    with pytest.raises(ValueError, match="nonzero"):
        classification.boundary_line(np.zeros(2), 0.0, np.zeros(2), np.ones(2))


# ----------------------------------------------------------------------------------------------- Pokémon data


def test_pokemon_table_is_the_shipped_file():
    table = load_pokemon()
    assert len(table.number) == 800
    # Total is the sum of the six stats in every row.
    np.testing.assert_array_equal(table.column("Total"), sum(table.column(s) for s in STATS))
    with open(data.__path__[0] + "/files/pokemon.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["Name"] for r in rows] == table.name.tolist()
    assert int(table.mega.sum()) == sum("Mega " in r["Name"] for r in rows)
    with pytest.raises(ValueError, match="column must be one of"):
        table.column("Name")


def test_pokemon_lecture_split():
    table = load_pokemon()
    for features, names in FEATURE_SETS.items():
        split = water_vs_normal(features, table=table)
        assert split.feature_names == names
        assert split.x_train.shape == (140, len(names)) and split.x_test.shape == (70, len(names))
        assert (int(split.y_train.sum()), int((split.y_train == 0).sum())) == (79, 61)
        assert (int(split.y_test.sum()), int((split.y_test == 0).sum())) == (33, 37)
    split = water_vs_normal("two", table=table)
    assert split.class_names == ("Normal", "Water")
    # SOURCES.md: Mega forms included, 5 Water + 2 Normal of them in the training set.
    mega = np.array(["Mega " in n for n in split.names_train])
    assert (int(split.y_train[mega].sum()), int((split.y_train[mega] == 0).sum())) == (5, 2)
    assert "Squirtle" in split.names_train and "Psyduck" in split.names_train
    # The training rows are the first 445 rows of the file.
    type1 = table.type1[:445]
    assert int(((type1 == "Water") | (type1 == "Normal")).sum()) == 140
    no_mega = water_vs_normal("two", include_mega=False, table=table)
    assert (len(no_mega.y_train), int(no_mega.y_train.sum())) == (133, 74)
    either = water_vs_normal("two", by="either", table=table)
    assert len(either.y_train) > 140
    custom = water_vs_normal(["Speed", "HP"], table=table)
    np.testing.assert_array_equal(custom.x_train[:, 1], water_vs_normal(["HP"], table=table).x_train[:, 0])


def test_pokemon_bad_arguments():
    with pytest.raises(ValueError, match="features must be"):
        water_vs_normal("eight")
    with pytest.raises(ValueError, match="features must be column names"):
        water_vs_normal(["Defense", "Name"])
    with pytest.raises(ValueError, match="by must be"):
        water_vs_normal(by="type2")
    with pytest.raises(TypeError, match="cutoff"):
        water_vs_normal(cutoff=399.5)


def test_pokemon_dataset_via_load():
    ds = load_pokemon_dataset()
    assert ds.x.shape == (210, 6) and int(ds.y.sum()) == 112
    assert ds.feature_names == STATS and ds.target_names == ("Normal", "Water")
    via_load = data.load("pokemon")
    np.testing.assert_array_equal(via_load.x, ds.x)
