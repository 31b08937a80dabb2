"""Float hyper-parameters are runtime values of the trainer's compiled program (issue 13).

Every :mod:`jaxml.optim` optimizer is a pytree whose leaves are its η, β, λ, α, ε, so :func:`jaxml.train.fit`
passes it into its compiled runner as an argument: a second ``fit`` with another η (or β, λ) and another epoch
count in the same power-of-two bucket traces nothing and compiles nothing. Oracles: ``chex.assert_max_traces``
on a pass-through link of the optimizer (traced once per trace of the runner), ``jax.monitoring``'s XLA
compile events (none during the later runs), and for the numbers a hand-written full-batch loop with optax's
own optimizer (sgd, heavy ball, Adam), or with the same jaxml optimizer held as a constant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import xla_compiles

from jaxml import losses, models, optim, surfaces, train
from jaxml.optim.combine import pytree_fn

N, D = 48, 3


@functools.cache  # one objective object for the module: runners are cached by it
def problem() -> tuple[Callable, Any, tuple[jax.Array, jax.Array]]:
    x = jax.random.normal(jax.random.PRNGKey(0), (N, D))
    y = jnp.sin(x @ jnp.array([1.0, -2.0, 0.5]))
    model = models.mlp(D, [5], activation=jnp.tanh)
    return train.supervised(model.apply, losses.mse), model.init(jax.random.PRNGKey(1)), (x, y)




def counted_link(max_traces: int) -> optax.GradientTransformationExtraArgs:
    """uᵗ ↦ uᵗ, a pytree with no leaves whose update raises once traced more than ``max_traces`` times."""
    chex.clear_trace_counter()

    @chex.assert_max_traces(n=max_traces)
    def update(updates: Any, state: Any, params: Any = None, **extra: Any) -> tuple[Any, Any]:
        return updates, state

    return optax.GradientTransformationExtraArgs(optim.identity().init, pytree_fn(update))


def hand_loop(optimizer: optax.GradientTransformation, epochs: int) -> Any:
    """Full-batch descent written out: θ ← θ + update(∇L(θ)), ``epochs`` times."""
    objective, params, data = problem()
    state = optimizer.init(params)
    for _ in range(epochs):
        grads = jax.grad(objective)(params, data)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return params


def fit(optimizer: optax.GradientTransformation, epochs: int) -> train.FitResult:
    objective, params, data = problem()
    return train.fit(objective, params, optimizer, data, key=0, epochs=epochs, progress=False)


def run_of(tree: Any, i: int) -> Any:
    return jax.tree_util.tree_map(lambda a: a[i], tree)


def assert_close(got: Any, want: Any) -> None:
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=1e-6)


# (jaxml optimizer from hyper-parameters, its oracle, three settings: the base, another η, another β/λ/α/ε)
FAMILIES = {
    "sgd": (lambda h: optim.sgd(h[0]), lambda h: optax.sgd(h[0]), [(0.05,), (0.2,), (0.1,)]),
    "momentum": (
        lambda h: optim.momentum(h[0], h[1]),
        lambda h: optax.sgd(h[0], momentum=h[1]),  # equal for a constant η (see optim.momentum)
        [(0.05, 0.9), (0.1, 0.9), (0.1, 0.5)],
    ),
    "adam": (
        lambda h: optim.adam(h[0], b1=h[1]),
        lambda h: optax.adam(h[0], b1=h[1]),
        [(0.01, 0.9), (0.03, 0.9), (0.03, 0.5)],
    ),
    # no optax twin with the lecture's σ: the oracle is the same optimizer as a constant of a hand loop
    "adagrad": (lambda h: optim.adagrad(h[0], eps=h[1]), None, [(0.1, 1e-8), (0.3, 1e-8), (0.3, 1e-3)]),
    "rmsprop": (lambda h: optim.rmsprop(h[0], alpha=h[1]), None, [(0.01, 0.9), (0.03, 0.9), (0.03, 0.5)]),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_another_learning_rate_beta_and_epoch_count_trace_and_compile_nothing(family):
    make, oracle, settings = FAMILIES[family]
    link = counted_link(max_traces=1)  # the same link object in every optimizer: one tree structure
    epochs = [5, 7, 6]  # one history bucket (8): the epoch count is a runtime value already
    results, compiles = [], []
    for hyper, e in zip(settings, epochs, strict=True):
        with xla_compiles() as seen:
            results.append(fit(optim.chain(make(hyper), link), e))
        compiles.append(len(seen))
    assert compiles[0] >= 1 and compiles[1:] == [0, 0], compiles
    for hyper, e, result in zip(settings, epochs, results, strict=True):
        want = hand_loop(make(hyper) if oracle is None else oracle(hyper), e)
        assert_close(result.params, want)
    assert not np.allclose(results[1].history["train_loss"][4], results[2].history["train_loss"][4])


def test_a_sweep_over_seeds_with_a_fixed_jaxml_optimizer_compiles_once_for_every_eta():
    objective, params, data = problem()
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a, 0.5 * a]), params)
    link = counted_link(max_traces=1)
    compiles, results = [], []
    for eta in (0.01, 0.04):
        with xla_compiles() as seen:
            sweep = train.fit_sweep(
                objective, stacked, optim.chain(optim.adam(eta), link), data, keys=keys, epochs=4, progress=False
            )
        compiles.append(len(seen))
        results.append(sweep)
        for i in range(2):
            one = train.fit(objective, run_of(stacked, i), optim.adam(eta), data, key=keys[i], epochs=4, progress=False)
            assert_close(run_of(sweep.params, i), one.params)
    assert compiles[0] >= 1 and compiles[1] == 0, compiles


@pytest.mark.parametrize(
    "make",
    [
        lambda eta: optax.adam(eta),  # optax's own: closures, a constant of the program
        lambda eta: optax.chain(optax.clip_by_global_norm(1.0), optim.adam(eta)),  # optax.chain of ours
        lambda eta: optim.adam(optax.cosine_decay_schedule(eta, 10)),  # a schedule: a function leaf
    ],
    ids=["optax_adam", "optax_chain", "schedule"],
)
def test_optimizers_that_are_not_pytrees_of_floats_stay_constants_and_train_right(make):
    assert not train._float_pytree(make(0.1))
    for eta in (0.01, 0.03):
        assert_close(fit(make(eta), 5).params, hand_loop(make(eta), 5))


def test_a_python_float_and_a_float32_array_learning_rate_share_one_program():
    link = counted_link(max_traces=1)
    first = fit(optim.chain(optim.sgd(0.1), link), 3)
    with xla_compiles() as seen:
        second = fit(optim.chain(optim.sgd(jnp.float32(0.2)), link), 3)
        third = fit(optim.chain(optim.sgd(np.float64(0.3)), link), 3)
    assert seen == []
    for eta, result in [(0.1, first), (0.2, second), (0.3, third)]:
        assert_close(result.params, hand_loop(optax.sgd(eta), 3))


def test_only_float_leaves_make_an_optimizer_a_runtime_argument():
    assert train._float_pytree(optim.adam(1e-3)) and train._float_pytree(optim.sgd(jnp.float32(0.1)))
    assert train._float_pytree(optim.chain())  # no leaves: nothing to pass, nothing to bake in
    int_leaf = optax.GradientTransformationExtraArgs(
        optim.identity().init, pytree_fn(lambda n, u, s, p=None: (u, s), hyper=(3,))
    )
    assert not train._float_pytree(int_leaf)  # an int may steer Python control flow: it stays a constant
    assert not train._float_pytree(optim.sgd(lambda t: 0.1))


def test_two_optimizers_of_one_kind_share_a_tree_structure_and_differ_in_their_leaves():
    a, b = optim.adam(1e-3, b1=0.8), optim.adam(3e-3, b1=0.7, b2=0.99, eps=1e-6)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    assert jax.tree_util.tree_leaves(a) == [0.8, 0.999, 1e-8, 1e-3]
    assert jax.tree_util.tree_leaves(b) == [0.7, 0.99, 1e-6, 3e-3]
    # static options are part of the structure: another dtype or flag is another program
    assert jax.tree_util.tree_structure(optim.adam(1e-3, mu_dtype=jnp.bfloat16)) != jax.tree_util.tree_structure(a)
    # and a tree_map over the leaves is the same optimizer with other numbers
    doubled = jax.tree_util.tree_map(lambda v: v / 2, optim.sgd(0.2))
    u, _ = doubled.update(jnp.ones(2), doubled.init(jnp.zeros(2)))
    np.testing.assert_allclose(u, -0.1 * np.ones(2))


@pytest.mark.usefixtures("x64")
def test_surface_trajectories_with_another_eta_reuse_one_program_and_equal_optax():
    theta0 = np.array([1.0, 1.0])
    first = surfaces.trajectory(surfaces.elongated, optim.adam(0.1), theta0, 15)
    size = surfaces._run_jit._cache_size()
    second = surfaces.trajectory(surfaces.elongated, optim.adam(0.05, b1=0.8), theta0, 15)
    assert surfaces._run_jit._cache_size() == size  # another η and β₁: the same program
    for eta, b1, got in [(0.1, 0.9, first), (0.05, 0.8, second)]:
        ref = surfaces.trajectory(surfaces.elongated, optax.adam(eta, b1=b1), theta0, 15)  # optax: the static path
        np.testing.assert_allclose(got.theta, ref.theta, rtol=1e-7, atol=1e-12)
