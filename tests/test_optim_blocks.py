"""The research blocks of jaxml.optim and the optimizers built from them (issue 24).

nadam, amsgrad and adabelief are compositions of public blocks (first moment with Nesterov's look-ahead, running
max, add ε, AdaBelief's σ reading μ from the numerator): each is held to optax's own optimizer of the same name,
step after step in float64, with its defaults and with other hyper-parameters. The blocks are held to NumPy
recurrences; the step count t reaches them from the one counter (the learning-rate block) through ``chain`` and
``fan_out``; domains are checked in one place (``jaxml._checks``) and a schedule's own exception is the
user's. Inside ``jaxml.train.fit`` another η compiles nothing (oracle: ``jax.monitoring``'s XLA compile events
and optax's optimizer in a hand-written loop).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import xla_compiles

from jaxml import _checks, losses, models, optim, train

STEPS = 25

# ----------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------


def _grads(seed: int, steps: int = STEPS, n: int = 5) -> np.ndarray:
    """Random gradients of mixed scales (float64), none zero."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, n)) * np.array([1e-3, 0.1, 1.0, 10.0, 100.0])[:n]


def _feed(opt: optax.GradientTransformation, grads: np.ndarray) -> np.ndarray:
    """The updates ``opt`` outputs for the gradient sequence."""
    params = jnp.zeros(grads.shape[1], grads.dtype)

    def step(s, g):
        u, s = opt.update(g, s, params)
        return s, u

    return np.asarray(jax.jit(lambda gs: jax.lax.scan(step, opt.init(params), gs)[1])(jnp.asarray(grads)))


def _path(opt: optax.GradientTransformation, steps: int = STEPS) -> dict:
    """θ after each update on a small random least-squares problem with a tanh (the gradient feeds back)."""
    k1, k2, k3 = jax.random.split(jax.random.key(4), 3)
    x = jax.random.normal(k1, (16, 3), jnp.float64)
    y = jnp.sin(x @ jnp.array([1.0, -2.0, 0.5]))
    params = {"w": jax.random.normal(k2, (3,), jnp.float64), "b": jax.random.normal(k3, (), jnp.float64)}
    loss = lambda p: jnp.mean((jnp.tanh(x @ p["w"] + p["b"]) - y) ** 2)

    def step(carry, _):
        p, s = carry
        u, s = opt.update(jax.grad(loss)(p), s, p)
        p = optax.apply_updates(p, u)
        return (p, s), p

    return jax.tree.map(np.asarray, jax.jit(lambda: jax.lax.scan(step, (params, opt.init(params)), None, steps)[1])())


def _assert_paths_equal(a: dict, b: dict, rtol: float = 1e-10) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-14)


# ----------------------------------------------------------------------------------------------------------
# nadam, amsgrad, adabelief equal optax's
# ----------------------------------------------------------------------------------------------------------

TWINS = {  # name: (settings as keyword arguments, each run through ours and optax's)
    "nadam": [{}, {"b1": 0.7, "b2": 0.95, "eps": 1e-4}, {"b1": 0.0, "b2": 0.5, "eps": 0.0}],
    "amsgrad": [{}, {"b1": 0.8, "b2": 0.9, "eps": 1e-3}, {"b1": 0.5, "b2": 0.99, "eps": 1e-6, "eps_root": 1e-4}],
    "adabelief": [{}, {"b1": 0.8, "b2": 0.9, "eps": 1e-6, "eps_root": 1e-8}, {"nesterov": True, "b1": 0.6}],
}
CASES = [(name, i) for name, settings in TWINS.items() for i in range(len(settings))]


@pytest.mark.parametrize(("name", "setting"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_equals_optax_over_many_steps_in_float64(x64, name, setting):
    kwargs = TWINS[name][setting]
    ours, theirs = getattr(optim, name), getattr(optax, name)
    g = _grads(setting)
    np.testing.assert_allclose(_feed(ours(0.01, **kwargs), g), _feed(theirs(0.01, **kwargs), g), rtol=1e-10)
    _assert_paths_equal(_path(ours(0.05, **kwargs)), _path(theirs(0.05, **kwargs)))


@pytest.mark.parametrize("name", list(TWINS))
def test_equals_optax_under_a_schedule_and_behind_optax_chain(x64, name):
    schedule = optax.cosine_decay_schedule(0.05, 20)
    ours = optax.chain(optax.clip_by_global_norm(0.1), getattr(optim, name)(schedule))
    theirs = optax.chain(optax.clip_by_global_norm(0.1), getattr(optax, name)(schedule))
    _assert_paths_equal(_path(ours), _path(theirs))


def test_nadam_is_adam_with_the_look_ahead_and_differs_from_adam(x64):
    g = _grads(7)
    b1, b2, eta = 0.9, 0.999, 0.01
    mu, nu, want = 0.0, 0.0, []
    for t, x in enumerate(g, start=1):  # Dozat 2016 without the extra β₂ factor, as optax and torch
        mu = b1 * mu + (1 - b1) * x
        nu = b2 * nu + (1 - b2) * x**2
        m_bar = b1 * mu / (1 - b1 ** (t + 1)) + (1 - b1) * x / (1 - b1**t)
        want.append(-eta * m_bar / (np.sqrt(nu / (1 - b2**t)) + 1e-8))
    got = _feed(optim.nadam(eta), g)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-10)
    assert not np.allclose(got, _feed(optim.adam(eta), g), rtol=1e-3)


# ----------------------------------------------------------------------------------------------------------
# the blocks against NumPy
# ----------------------------------------------------------------------------------------------------------


def test_running_max_and_add_eps(x64):
    g = np.abs(_grads(1))
    chained = optim.chain(optim.running_max(), optim.add_eps(0.25))
    np.testing.assert_allclose(_feed(chained, g), np.maximum.accumulate(g, axis=0) + 0.25, rtol=1e-15)
    state = chained.init(jnp.zeros(5))
    for x in g:
        _, state = chained.update(jnp.asarray(x), state)
    np.testing.assert_array_equal(optax.tree_utils.tree_get(state, "maximum"), g.max(axis=0))


def test_blocks_inside_optax_chain(x64):
    g = _grads(5)
    # blocks that need no t work as they are; one that needs t is given it by the caller (optax.chain forwards it)
    opt = optax.chain(optax.scale(-1.0), optim.running_max(), optim.add_eps(1.0))
    np.testing.assert_allclose(_feed(opt, g), np.maximum.accumulate(np.maximum(-g, 0), axis=0) + 1.0, rtol=1e-15)
    first = optax.chain(optax.identity(), optim.first_moment(0.5))
    state = first.init(jnp.zeros(5))
    u, state = first.update(jnp.asarray(g[0]), state, count=0)
    np.testing.assert_allclose(u, g[0], rtol=1e-15)


def test_amsgrads_sigma_never_shrinks_where_adams_does(x64):
    g = np.ones((30, 1))
    g[0] = 100.0  # one rare large gradient: Adam's σ forgets it, AMSGrad's keeps it
    amsgrad, adam = optim.amsgrad(0.1, b2=0.9), optim.adam(0.1, b2=0.9)
    u_ams, u_adam = _feed(amsgrad, g)[:, 0], _feed(adam, g)[:, 0]
    assert np.all(np.diff(np.abs(u_ams)) <= 1e-15)  # the step never grows: σ̂ ≥ every past σ, m̂ → 1
    assert np.abs(u_adam[-1]) > 5 * np.abs(u_ams[-1])


def test_first_moment_forms(x64):
    g = _grads(2)
    b1 = 0.8
    mu, raw, hat, ahead = 0.0, [], [], []
    for t, x in enumerate(g, start=1):
        mu = b1 * mu + (1 - b1) * x
        raw.append(mu)
        hat.append(mu / (1 - b1**t))
        ahead.append(b1 * mu / (1 - b1 ** (t + 1)) + (1 - b1) * x / (1 - b1**t))
    for kwargs, want in [({"bias_correction": False}, raw), ({}, hat), ({"nesterov": True}, ahead)]:
        block = optim.first_moment(b1, **kwargs)
        state, outs = block.init(jnp.zeros(5)), []
        for t, x in enumerate(g):
            u, state = block.update(jnp.asarray(x), state, count=jnp.int32(t))  # t: updates made before
            outs.append(u)
        np.testing.assert_allclose(np.array(outs), np.array(want), rtol=1e-12)
        np.testing.assert_allclose(state.mu, raw[-1], rtol=1e-12)  # the state keeps the raw μ in every form


def test_rms_belief_reads_mu_from_the_numerator_and_keeps_it_once(x64):
    g = _grads(3)
    b1, b2 = 0.7, 0.9
    direction = optim.divide(optim.first_moment(b1), optim.rms_belief(b2, eps=0.0, eps_root=1e-6))
    state = direction.init(jnp.zeros(5))
    mu, s = 0.0, 0.0
    for t, x in enumerate(g):
        u, state = direction.update(jnp.asarray(x), state, count=t)
        mu = b1 * mu + (1 - b1) * x
        s = b2 * s + (1 - b2) * (x - mu) ** 2 + 1e-6
        np.testing.assert_allclose(u, (mu / (1 - b1 ** (t + 1))) / np.sqrt(s / (1 - b2 ** (t + 1))), rtol=1e-10)
    # μ is kept once: the first moment's; the belief block keeps only s
    leaves = jax.tree.leaves(state)
    assert len(leaves) == 2
    np.testing.assert_allclose(optax.tree_utils.tree_get(state, "nu"), s, rtol=1e-10)


def test_rms_belief_without_a_first_moment_says_what_it_needs():
    block = optim.rms_belief()
    with pytest.raises(ValueError, match="first_moment"):
        block.update(jnp.ones(2), block.init(jnp.zeros(2)), count=0)
    divided = optim.divide(optax.identity(), optim.rms_belief())
    with pytest.raises(ValueError, match="first_moment"):
        divided.update(jnp.ones(2), divided.init(jnp.zeros(2)), count=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optim.first_moment(0.9),
        lambda: optim.rms_ema(0.9),
        lambda: optim.rms_mean(),
        lambda: optim.divide(optim.first_moment(0.9), optim.rms_belief()),
        lambda: optim.first_moment(0.9, nesterov=True),
    ],
    ids=["first_moment", "rms_ema", "rms_mean", "rms_belief", "nesterov"],
)
def test_a_block_that_needs_t_and_gets_none_raises_a_type_error(make):
    block = make()
    with pytest.raises(TypeError, match="needs the step count t"):
        block.update(jnp.ones(2), block.init(jnp.zeros(2)))


# ----------------------------------------------------------------------------------------------------------
# the step count: one counter, handed down by chain and fan_out
# ----------------------------------------------------------------------------------------------------------


def _recorder(seen: list) -> optax.GradientTransformationExtraArgs:
    """uᵗ ↦ uᵗ, appending the ``count`` and ``earlier_states`` it receives to ``seen``."""

    def update(updates, state, params=None, *, count=None, earlier_states=None, **extra):
        seen.append((None if count is None else int(count), earlier_states))
        return updates, state

    return optax.GradientTransformationExtraArgs(optim.identity().init, update)


def test_chain_and_fan_out_pass_the_learning_rate_blocks_count_down():
    seen: list = []
    opt = optim.chain(optim.fan_out(optim.first_moment(0.5), _recorder(seen), combine=jnp.add), optim.sgd(0.1))
    state = opt.init(jnp.zeros(2))
    for _ in range(3):
        _, state = opt.update(jnp.ones(2), state)
    assert [c for c, _ in seen] == [0, 1, 2]  # t before each update, read before the counter runs
    assert all(isinstance(e[0], optim.FirstMomentState) for _, e in seen)  # the earlier branch's new state
    assert int(optax.tree_utils.tree_get(state, "count")) == 3
    assert optim.step_count(state) is optax.tree_utils.tree_get(state, "count")


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "rmsprop", "adam", "nadam", "amsgrad", "adabelief"])
def test_every_optimizer_has_exactly_one_int32_count(name):
    opt = getattr(optim, name)(0.1)
    state = opt.init({"a": jnp.zeros(2), "b": jnp.zeros(())})
    counts = [x for x in jax.tree_util.tree_leaves_with_path(state) if "count" in jax.tree_util.keystr(x[0])]
    assert len(counts) == 1
    _, state = opt.update({"a": jnp.ones(2), "b": jnp.ones(())}, state)
    count = optax.tree_utils.tree_get(state, "count")
    assert count.dtype == jnp.int32 and int(count) == 1


# ----------------------------------------------------------------------------------------------------------
# hyper-parameter domains: one validation layer
# ----------------------------------------------------------------------------------------------------------

BAD = [
    (lambda: optim.nadam(0.1, b1=1.0), "b1"),
    (lambda: optim.nadam(0.1, b2=-0.1), "b2"),
    (lambda: optim.nadam(0.1, eps=-1.0), "eps"),
    (lambda: optim.amsgrad(0.1, b1=float("nan")), "b1"),
    (lambda: optim.amsgrad(0.1, b2=1.5), "b2"),
    (lambda: optim.amsgrad(0.1, eps=float("inf")), "eps"),
    (lambda: optim.amsgrad(0.1, eps_root=-1e-8), "eps_root"),
    (lambda: optim.adabelief(-0.1), "learning_rate"),
    (lambda: optim.adabelief(0.1, b1=-0.5), "b1"),
    (lambda: optim.adabelief(0.1, b2=1.0), "b2"),
    (lambda: optim.adabelief(0.1, eps=-1e-16), "eps"),
    (lambda: optim.adabelief(0.1, eps_root=np.float32(-1)), "eps_root"),
    (lambda: optim.add_eps(-1.0), "eps"),
    (lambda: optim.first_moment(1.0), "b1"),
    (lambda: optim.rms_belief(b2=2.0), "b2"),
    (lambda: optim.scale_by_momentum(1.5, ema=True), "beta"),
    (lambda: optim.adam(jnp.array(-1.0)), "learning_rate"),  # a concrete JAX array is checked too
]


@pytest.mark.parametrize(("make", "name"), BAD)
def test_out_of_domain_hyperparameters_raise_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_check_hyperparameter_is_the_one_in_checks():
    assert optim.check_hyperparameter is _checks.check_hyperparameter
    assert optim.transforms.check_hyperparameter is _checks.check_hyperparameter
    for module in ("transforms", "alias", "schedules"):
        with open(getattr(optim, module).__file__) as file:
            source = file.read()
        assert "def check_hyperparameter" not in source and "_check_domain" not in source


def test_a_schedules_own_exception_propagates_unchanged():
    def boom(t):
        raise RuntimeError("boom")

    for make in (optim.sgd, optim.adam, optim.amsgrad, optim.scale_by_learning_rate):
        with pytest.raises(RuntimeError, match="^boom$"):
            make(boom)
    # a KeyError of the user's stays a KeyError, not a TypeError of ours
    with pytest.raises(KeyError):
        optim.nadam(lambda t: {}["eta"])


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        (lambda: 0.1, TypeError),  # not a function of t
        (lambda t, u: 0.1, TypeError),
        (lambda t: "fast", TypeError),
        (lambda t: jnp.ones(2), TypeError),
        (lambda t: 1j, TypeError),
        (lambda t: -0.1, ValueError),
        (lambda t: float("nan"), ValueError),
    ],
)
def test_a_schedules_wrong_result_is_ours_and_names_the_argument(schedule, error):
    with pytest.raises(error, match="learning_rate"):
        optim.adabelief(schedule)


# ----------------------------------------------------------------------------------------------------------
# writing a block: the public path; inside jaxml.train.fit another η compiles nothing
# ----------------------------------------------------------------------------------------------------------


def _clip_update(c: Any, updates: Any, state: Any, params: Any = None, **extra: Any) -> tuple[Any, Any]:
    return jax.tree.map(lambda u: jnp.clip(u, -c, c), updates), state


def clip(c: float) -> optax.GradientTransformationExtraArgs:
    """A user's block written as the docs say: a module-level update, its number a leaf (``pytree_fn``)."""
    optim.check_hyperparameter("c", c)
    return optax.GradientTransformationExtraArgs(optim.identity().init, optim.pytree_fn(_clip_update, hyper=(c,)))


def test_a_block_written_by_hand_is_a_numeric_pytree_and_works(x64):
    opt = optim.chain(clip(0.5), optim.amsgrad(0.1))
    assert optim.numeric_pytree(opt)
    assert jax.tree_util.tree_structure(opt) == jax.tree_util.tree_structure(optim.chain(clip(2.0), optim.amsgrad(0.3)))
    _assert_paths_equal(_path(opt), _path(optax.chain(optax.clip(0.5), optax.amsgrad(0.1))))
    with pytest.raises(ValueError, match="c must"):
        clip(-1.0)






@functools.cache  # one objective object for the module: fit caches its runners by it
def _problem() -> tuple[Any, Any, tuple[jax.Array, jax.Array]]:
    x = jax.random.normal(jax.random.PRNGKey(0), (32, 3))
    y = jnp.sin(x @ jnp.array([1.0, -2.0, 0.5]))
    model = models.mlp(3, [4], activation=jnp.tanh)
    return train.supervised(model.apply, losses.mse), model.init(jax.random.PRNGKey(1)), (x, y)


def _hand_loop(opt: optax.GradientTransformation, epochs: int) -> Any:
    objective, params, data = _problem()
    state = opt.init(params)
    for _ in range(epochs):
        updates, state = opt.update(jax.grad(objective)(params, data), state, params)
        params = optax.apply_updates(params, updates)
    return params


@pytest.mark.parametrize("name", list(TWINS))
def test_inside_fit_another_eta_compiles_nothing_and_matches_optax(name):
    objective, params, data = _problem()
    results, compiles = {}, []
    for eta in (0.01, 0.03):
        assert optim.numeric_pytree(getattr(optim, name)(eta))
        with xla_compiles() as seen:
            results[eta] = train.fit(
                objective, params, getattr(optim, name)(eta, b1=0.8), data, key=0, epochs=4, progress=False
            )
        compiles.append(len(seen))
    assert compiles[0] >= 1 and compiles[1] == 0, compiles
    for eta, result in results.items():
        want = _hand_loop(getattr(optax, name)(eta, b1=0.8), 4)
        for a, b in zip(jax.tree.leaves(result.params), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=1e-6)
