"""Models from other libraries in jaxml's trainer and curvature tools: the recipes of the jaxml.models docstring.

Equinox: ``eqx.partition`` splits a module into θ (its float arrays) and the static rest; the objective puts them
back together with ``eqx.combine``. Flax: a ``flax.linen`` params dict goes straight in. Oracles: a hand-written
optax loop over the same (full) batches, and ``jax.hessian`` of the objective of the flattened θ.
"""

from __future__ import annotations

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from jaxml import curvature, losses, train

EPOCHS = 15


def _data(n: int = 24, d: int = 3) -> tuple[jax.Array, jax.Array]:
    x = jax.random.normal(jax.random.PRNGKey(0), (n, d))
    return x, jnp.sin(x[:, 0]) + 0.5 * x[:, 1] - x[:, 2]


def _optax_loop(objective, params, optimizer, batch, epochs):
    """The oracle: full-batch optax steps by hand; the loss before each step is the trainer's epoch loss."""
    state, seen = optimizer.init(params), []
    value_and_grad = jax.jit(jax.value_and_grad(objective))  # compiled alone, outside any scan or while loop
    for _ in range(epochs):
        loss, grads = value_and_grad(params, batch)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        seen.append(float(loss))
    return params, np.array(seen)


def _assert_trees_close(a, b, **tol):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    jax.tree_util.tree_map(lambda u, v: np.testing.assert_allclose(u, v, **tol), a, b)


def _equinox_recipe(d: int = 3):
    """The docstring's recipe: (params, static, objective) of a small equinox MLP."""
    net = eqx.nn.MLP(in_size=d, out_size="scalar", width_size=4, depth=1, activation=jnp.tanh,
                     key=jax.random.PRNGKey(1))  # fmt: skip
    params, static = eqx.partition(net, eqx.is_inexact_array)
    apply = lambda p, x: jax.vmap(eqx.combine(p, static))(x)  # an equinox module maps one example
    return params, static, train.supervised(apply, losses.mse)


def test_equinox_module_trains_in_fit_like_a_hand_written_optax_loop():
    x, y = _data()
    params, static, objective = _equinox_recipe()
    optimizer = optax.sgd(0.1)
    # full batch (batch_size=None): one step per epoch, so the oracle needs no batch order
    result = train.fit(objective, params, optimizer, (x, y), key=0, epochs=EPOCHS, batch_size=None)
    history = result.history["train_loss"]
    assert history[-1] < 0.8 * history[0]
    expected, expected_losses = _optax_loop(objective, params, optimizer, (x, y), EPOCHS)
    np.testing.assert_allclose(history, expected_losses, rtol=1e-6, atol=1e-6)
    _assert_trees_close(result.params, expected, rtol=1e-6, atol=1e-6)
    # the trained module: the static part put back, a callable equinox MLP again
    net = eqx.combine(result.params, static)
    np.testing.assert_allclose(jax.vmap(net)(x), jax.vmap(eqx.combine(expected, static))(x), rtol=1e-5, atol=1e-6)


def test_equinox_hessian_matches_jax_hessian_of_the_flat_parameters(x64):
    x, y = (a.astype(jnp.float64) for a in _data(n=8))
    params, _, objective = _equinox_recipe()
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params)
    theta, unravel = ravel_pytree(params)  # ravel_pytree skips the None fields of the partitioned module
    expected = jax.jit(jax.hessian(lambda t: objective(unravel(t), (x, y))))(theta)  # compiled: eager is slow
    got = curvature.hessian(objective, params, data=(x, y))
    assert got.shape == (theta.size, theta.size) == (21, 21)
    assert np.abs(expected).max() > 1e-2  # tanh: a curved objective, not a vacuous comparison of zeros
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_flax_params_dict_goes_straight_into_fit_like_a_hand_written_optax_loop():
    x, y = _data()
    module = nn.Dense(1)
    params = module.init(jax.random.PRNGKey(2), x[:1])  # {"params": {"kernel": (3, 1), "bias": (1,)}}
    objective = train.supervised(lambda p, xb: module.apply(p, xb)[..., 0], losses.mse)
    optimizer = optax.sgd(0.1)
    result = train.fit(objective, params, optimizer, (x, y), key=0, epochs=EPOCHS, batch_size=None)
    history = result.history["train_loss"]
    assert history[-1] < 0.8 * history[0]
    expected, expected_losses = _optax_loop(objective, params, optimizer, (x, y), EPOCHS)
    np.testing.assert_allclose(history, expected_losses, rtol=1e-6, atol=1e-6)
    _assert_trees_close(result.params, expected, rtol=1e-6, atol=1e-6)
