"""Losses against their formulas (NumPy), optax, finite differences, and their error messages."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from jax.test_util import check_grads

from jaxml import losses

finite = st.floats(-50, 50, allow_nan=False, width=32)


# A few sizes only: every new shape costs JAX a compilation, and the formulas do not depend on N.
sizes = st.sampled_from([1, 3, 8])


def pairs():
    return sizes.flatmap(
        lambda n: st.tuples(arrays(np.float32, (n,), elements=finite), arrays(np.float32, (n,), elements=finite))
    )


@given(pairs())
def test_mae_mse_match_formula_and_optax(pt):
    p, t = pt
    r = p.astype(np.float64) - t
    np.testing.assert_allclose(losses.mae(p, t), np.mean(np.abs(r)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses.mse(p, t), np.mean(r**2), rtol=1e-5, atol=1e-4)
    # optax.l2_loss is ½r² per element.
    np.testing.assert_allclose(losses.mse(p, t), 2 * np.mean(optax.l2_loss(p, t)), rtol=1e-5, atol=1e-4)


@given(pairs(), st.floats(0.1, 10))
def test_huber_matches_optax_and_piecewise_formula(pt, delta):
    p, t = pt
    r = np.abs(p.astype(np.float64) - t)
    expected = np.mean(np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)))
    np.testing.assert_allclose(losses.huber(p, t, delta), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        losses.huber(p, t, delta), np.mean(optax.huber_loss(p, t, delta=delta)), rtol=1e-5, atol=1e-4
    )


def test_huber_is_continuous_at_delta_unlike_the_notes():
    delta = 1.0
    eps = 1e-6
    inside = losses.huber(jnp.array([delta - eps]), jnp.array([0.0]), delta)
    outside = losses.huber(jnp.array([delta + eps]), jnp.array([0.0]), delta)
    assert abs(float(inside) - float(outside)) < 1e-5
    # The notes' form jumps: r² = 1 just inside, |r| − ½ = ½ just outside.
    assert abs((1 - eps) ** 2 - ((1 + eps) - 0.5)) > 0.4


@given(
    sizes.flatmap(
        lambda n: st.tuples(
            arrays(np.float32, (n,), elements=st.floats(-30, 30, width=32)),
            arrays(np.int32, (n,), elements=st.integers(0, 1)),
        )
    )
)
def test_binary_cross_entropy_matches_formula_and_optax(zl):
    z, y = zl
    z64 = z.astype(np.float64)
    sig = 1 / (1 + np.exp(-z64))
    expected = np.mean(-(y * np.log(sig) + (1 - y) * np.log1p(-sig)))
    np.testing.assert_allclose(losses.binary_cross_entropy(z, y), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        losses.binary_cross_entropy(z, y), np.mean(optax.sigmoid_binary_cross_entropy(z, y)), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("z", [1e4, -1e4])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_binary_cross_entropy_finite_for_huge_logits(z, y):
    logits, labels = jnp.array([z]), jnp.array([y])
    value, grad = jax.value_and_grad(losses.binary_cross_entropy)(logits, labels)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    wrong = (z > 0) != (y > 0)
    np.testing.assert_allclose(value, abs(z) if wrong else 0.0, rtol=1e-6)
    np.testing.assert_allclose(grad, [1.0 / 1 * (1.0 if z > 0 else 0.0) - y], atol=1e-6)  # σ(z) − y


@given(sizes, st.sampled_from([2, 5]), st.data())
def test_softmax_cross_entropy_int_and_one_hot(n, k, data):
    logits = data.draw(arrays(np.float32, (n, k), elements=finite))
    labels = data.draw(arrays(np.int32, (n,), elements=st.integers(0, k - 1)))
    z = logits.astype(np.float64)
    lse = np.log(np.sum(np.exp(z - z.max(1, keepdims=True)), 1)) + z.max(1)
    expected = np.mean(lse - z[np.arange(n), labels])
    one_hot = np.eye(k, dtype=np.float32)[labels]
    np.testing.assert_allclose(losses.softmax_cross_entropy(logits, labels), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(losses.softmax_cross_entropy(logits, one_hot), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(logits, labels),
        np.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_cross_entropy_on_probabilities_equals_softmax_form():
    z = np.array([[0.5, -1.0, 2.0], [3.0, 0.1, -0.4]])
    labels = np.array([1, 0])
    probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    expected = -np.mean(np.log(probs[np.arange(2), labels]))
    np.testing.assert_allclose(losses.cross_entropy(probs, labels), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.cross_entropy(probs, np.eye(3)[labels]), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.softmax_cross_entropy(z, labels), expected, rtol=1e-6)


def test_softmax_cross_entropy_large_logits_finite():
    logits = jnp.array([[1e4, 0.0, -1e4]])
    value, grad = jax.value_and_grad(losses.softmax_cross_entropy)(logits, jnp.array([1]))
    np.testing.assert_allclose(value, 1e4, rtol=1e-6)
    assert np.all(np.isfinite(grad))


def test_zero_one_and_accuracy():
    scores = jnp.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    labels = jnp.array([0, 0, 0])
    np.testing.assert_allclose(losses.zero_one(scores, labels), 1 / 3)
    np.testing.assert_allclose(losses.accuracy(scores, labels), 2 / 3)
    np.testing.assert_allclose(losses.zero_one(jnp.array([1.0, -1.0, 2.0]), jnp.array([1, 1, 0])), 2 / 3)


@pytest.mark.parametrize("fn", [losses.mae, losses.mse, losses.huber, losses.binary_cross_entropy])
def test_gradients_match_finite_differences(fn):
    with jax.enable_x64(True):
        p = jnp.array([0.3, -1.7, 2.2, 0.05])
        t = jnp.array([0.0, 1.0, 1.0, 0.0]) if fn is losses.binary_cross_entropy else jnp.array([0.1, -1.0, 0.4, 3.0])
        check_grads(lambda q: fn(q, t), (p,), order=2, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_softmax_cross_entropy_gradient_fd():
    with jax.enable_x64(True):
        z = jnp.array([[0.3, -1.0, 2.0], [1.0, 1.5, -0.5]])
        check_grads(lambda q: losses.softmax_cross_entropy(q, jnp.array([2, 0])), (z,), order=2, modes=["rev"])


@pytest.mark.parametrize("fn", [losses.mae, losses.mse, losses.huber, losses.binary_cross_entropy])
def test_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        fn(jnp.zeros((4, 1)), jnp.zeros((4,)))


def test_softmax_label_shape_error():
    with pytest.raises(ValueError, match="labels"):
        losses.softmax_cross_entropy(jnp.zeros((4, 3)), jnp.zeros((5,), jnp.int32))


def test_l2_penalty_excludes_biases_by_default():
    params = [{"w": jnp.array([[1.0, 2.0]]), "b": jnp.array([10.0])}, {"kernel": jnp.array([3.0]), "bias": jnp.ones(2)}]
    np.testing.assert_allclose(losses.l2_penalty(params), 1 + 4 + 9)
    everything = jax.tree_util.tree_map(lambda _: True, params)
    np.testing.assert_allclose(losses.l2_penalty(params, everything), 1 + 4 + 9 + 100 + 2)
    with pytest.raises(ValueError, match="mask"):
        losses.l2_penalty(params, [True])


def test_huber_rejects_nonpositive_delta():
    with pytest.raises(ValueError, match="delta"):
        losses.huber(jnp.zeros(2), jnp.zeros(2), delta=0.0)
