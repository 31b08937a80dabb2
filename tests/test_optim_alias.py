"""Every jaxml optimizer held to the properties optax's own ``_src/alias_test.py`` asks of every optax optimizer.

Parametrized over sgd, momentum, adagrad, rmsprop, adam, nadam, amsgrad and adabelief: convergence on a
parabola and on Rosenbrock's function in float32 and complex64 (complex gradients conjugated, as optax does);
extra keyword arguments to ``update``; ``optax.inject_hyperparams`` equality; no retrace on the second update
(``chex.assert_max_traces``); updates in the gradients' dtype (bf16, f32); ``optax.MultiSteps``; state
shape/dtype stability from float16 to complex128; explicit first-moment dtypes; states read by optax's names
with one ``count``, and σ read back by ``optim.sigma``. Oracles are optax's own optimizers and NumPy recurrences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import optim

# learning rates that solve both targets in both dtypes within optax's tolerance (rtol = atol = 3e-2)
OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "sgd": functools.partial(optim.sgd, 1e-3),
    "momentum": functools.partial(optim.momentum, 1e-3, 0.9),
    "adagrad": functools.partial(optim.adagrad, 3e-3),  # the lecture's mean form: its step does not shrink as √t
    "rmsprop": functools.partial(optim.rmsprop, 5e-3),
    "adam": functools.partial(optim.adam, 1e-2),
    "nadam": functools.partial(optim.nadam, 1e-2),
    "amsgrad": functools.partial(optim.amsgrad, 1e-2),
    "adabelief": functools.partial(optim.adabelief, 1e-2),
}
FACTORIES = {  # the same optimizers as functions of their hyper-parameters, for inject_hyperparams
    "sgd": (optim.sgd, {"learning_rate": 1e-3}),
    "momentum": (optim.momentum, {"learning_rate": 1e-3, "beta": 0.9}),
    "adagrad": (optim.adagrad, {"learning_rate": 3e-3, "eps": 1e-8}),
    "rmsprop": (optim.rmsprop, {"learning_rate": 5e-3, "alpha": 0.9, "eps": 1e-8}),
    "adam": (optim.adam, {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    "nadam": (optim.nadam, {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    "amsgrad": (optim.amsgrad, {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "eps_root": 0.0}),
    "adabelief": (optim.adabelief, {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-16, "eps_root": 1e-16}),
}
NAMES = list(OPTIMIZERS)


def _abs_sq(x: jax.Array) -> jax.Array:
    return (x.conj() * x).real


def _parabola(dtype):
    initial = jnp.array([-1.0, 10.0, 1.0], dtype)
    final = jnp.array([1.0, -1.0, 1.0], dtype)
    if jnp.iscomplexobj(initial):
        final = final * (1 + 1j)
    return initial, final, lambda p: jnp.sum(_abs_sq(p - final))


def _rosenbrock(dtype):
    a = (1 + 1j) if jnp.issubdtype(dtype, jnp.complexfloating) else 1.0
    initial = jnp.zeros(2, dtype)
    final = jnp.array([a, a**2], dtype)
    return initial, final, lambda p: _abs_sq(a - p[0]) + 100 * _abs_sq(p[1] - p[0] ** 2)


def _conj_grad(objective, params):
    # complex gradients are conjugated before they are used as descent directions, as in optax's alias tests
    return jax.tree.map(jnp.conj, jax.grad(objective)(params))


# ----------------------------------------------------------------------------------------------------------
# convergence and no retrace
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex64], ids=["float32", "complex64"])
@pytest.mark.parametrize("target", [_parabola, _rosenbrock], ids=["parabola", "rosenbrock"])
@pytest.mark.parametrize("name", NAMES)
def test_optimization(name, target, dtype):
    opt = OPTIMIZERS[name]()
    initial, final, objective = target(dtype)
    state = optax.tree.map_params(opt, lambda v: v, opt.init(initial))  # a no-op map over the state's params

    def step(carry, _):
        params, state = carry
        updates, state = opt.update(_conj_grad(objective, params), state, params)
        return (optax.apply_updates(params, updates), state), None

    params, _ = jax.jit(lambda c: jax.lax.scan(step, c, None, length=30_000)[0])((initial, state))
    chex.assert_trees_all_close(params, final, rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex64], ids=["float32", "complex64"])
@pytest.mark.parametrize("name", NAMES)
def test_no_retrace_on_the_second_update(name, dtype):
    chex.clear_trace_counter()  # the counter is keyed by the traced function's code, shared by the parameters
    opt = OPTIMIZERS[name]()
    initial, _, objective = _rosenbrock(dtype)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(params, state):
        updates, state = opt.update(_conj_grad(objective, params), state, params)
        return optax.apply_updates(params, updates), state

    params, state = step(initial, opt.init(initial))
    params, state = step(params, state)
    step(params, state)  # a third call would raise if the second had changed a type or a shape


# ----------------------------------------------------------------------------------------------------------
# extra arguments
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_optimizers_accept_extra_args(name):
    opt = OPTIMIZERS[name]()
    assert isinstance(opt, optax.GradientTransformationExtraArgs)
    initial, _, objective = _rosenbrock(jnp.float32)

    @jax.jit
    def step(params, state):
        updates, state = opt.update(_conj_grad(objective, params), state, params, unexpected_extra_arg=1)
        return optax.apply_updates(params, updates), state

    params, state = initial, opt.init(initial)
    for _ in range(2):
        params, state = step(params, state)
    chex.assert_tree_all_finite(params)


BLOCKS = {
    "scale_by_learning_rate": lambda: optim.scale_by_learning_rate(0.1),
    "scale_by_momentum": lambda: optim.scale_by_momentum(0.9),
    "scale_by_momentum_ema": lambda: optim.scale_by_momentum(0.9, ema=True, bias_correction=True),
    "rms_mean": lambda: optim.rms_mean(),
    "rms_ema": lambda: optim.rms_ema(0.9),
    "scale_by_adagrad": lambda: optim.scale_by_adagrad(),
    "scale_by_rms": lambda: optim.scale_by_rms(),
    "fan_out": lambda: optim.fan_out(optax.identity(), optim.rms_mean(), combine=jnp.add),
    "divide": lambda: optim.divide(optim.scale_by_momentum(0.5), optim.rms_ema()),
    "first_moment_nesterov": lambda: optim.first_moment(0.9, nesterov=True),
    "rms_belief": lambda: optim.divide(optim.first_moment(0.9), optim.rms_belief()),
    "running_max": lambda: optim.running_max(),
    "add_eps": lambda: optim.add_eps(1e-3),
}


@pytest.mark.parametrize("name", list(BLOCKS))
def test_blocks_and_combinators_accept_extra_args(name):
    block = BLOCKS[name]()
    assert isinstance(block, optax.GradientTransformationExtraArgs)
    params = {"a": jnp.ones(2), "b": jnp.zeros(())}
    grads = jax.tree.map(lambda p: p + 0.5, params)
    count = jnp.zeros([], jnp.int32)  # t, which a jaxml chain would pass; blocks that do not need it ignore it
    updates, state = jax.eval_shape(lambda: block.update(grads, block.init(params), params, some_arg=1, count=count))
    chex.assert_trees_all_equal_structs(updates, params)


def test_the_issues_example_runs_eagerly():
    g = p = jnp.array([1.0, -2.0])
    s = optim.sgd(0.1).init(p)
    chex.assert_trees_all_close(optim.sgd(0.1).update(g, s, p, some_extra_arg=1)[0], -0.1 * g)


def test_fan_out_forwards_extra_args_to_the_blocks_that_take_them():
    def scale_by_extra() -> optax.GradientTransformationExtraArgs:
        def update(updates, state, params=None, *, factor=1.0, **extra):
            return jax.tree.map(lambda u: factor * u, updates), state

        return optax.GradientTransformationExtraArgs(lambda p: optax.EmptyState(), update)

    opt = optim.fan_out(scale_by_extra(), optax.identity(), combine=jnp.subtract)
    g = jnp.array([1.0, -2.0])
    chex.assert_trees_all_close(opt.update(g, opt.init(g), factor=3.0)[0], 2 * g)
    chained = optax.chain(opt, optim.sgd(1.0))
    chex.assert_trees_all_close(chained.update(g, chained.init(g), factor=3.0)[0], -2 * g)


# ----------------------------------------------------------------------------------------------------------
# inject_hyperparams, dtypes, MultiSteps
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_inject_hyperparams_equals_the_plain_optimizer(name):
    factory, kwargs = FACTORIES[name]
    opt, opt_inject = factory(**kwargs), optax.inject_hyperparams(factory)(**kwargs)
    params = [-jnp.ones((2, 3)), jnp.ones((2, 5, 2))]
    grads = [jnp.ones((2, 3)), -jnp.ones((2, 5, 2))]
    both = jax.jit(lambda: [o.update(grads, o.init(params), params) for o in (opt, opt_inject)])
    (updates, state), (updates_inject, state_inject) = both()
    chex.assert_trees_all_close(updates_inject, updates, rtol=1e-3)
    chex.assert_trees_all_close(state_inject.inner_state, state, rtol=1e-4)


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_updates_keep_the_gradients_dtype(name, dtype):
    opt = OPTIMIZERS[name]()
    params = jnp.array([1.0, 2.0], dtype)
    grads = jax.grad(lambda x: jnp.sum(x**2))(params)
    updates, _ = jax.eval_shape(lambda: opt.update(grads, opt.init(params), params))  # the types jit would give
    assert updates.dtype == grads.dtype


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_multisteps_accumulates_then_applies_the_mean(name, dtype):
    inner = OPTIMIZERS[name]()
    opt = optax.MultiSteps(inner, every_k_schedule=2)

    @jax.jit
    def run(params, g1, g2):
        state = opt.init(params)
        first, state = opt.update(g1, state, params)
        second, _ = opt.update(g2, state, params)
        return first, second, inner.update((g1 + g2) / 2, inner.init(params), params)[0]

    params = jnp.array([1.0, 2.0], dtype)
    g1, g2 = jnp.array([0.5, -1.0], dtype), jnp.array([1.5, 3.0], dtype)
    first, second, expected = run(params, g1, g2)
    chex.assert_trees_all_equal(first, jnp.zeros_like(g1))  # nothing is applied before the k-th gradient
    chex.assert_trees_all_close(second, expected, rtol=1e-2 if dtype == "bfloat16" else 1e-6)


DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64, jnp.complex64, jnp.complex128]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_state_shape_and_dtype_are_stable(name, dtype):
    with jax.enable_x64(dtype in (jnp.float64, jnp.complex128)):
        opt = OPTIMIZERS[name]()
        params, _, objective = _parabola(dtype)
        assert params.dtype == dtype

        def step(params, state):
            updates = _conj_grad(objective, params)
            # lax.cond demands that both branches return the same types: the new state must be typed as the old
            cond = jax.random.randint(jax.random.key(0), (), 0, 2) == 0
            updates, state = jax.lax.cond(cond, lambda: opt.update(updates, state, params), lambda: (params, state))
            return optax.apply_updates(params, updates), state

        state = opt.init(params)
        new_params, new_state = jax.eval_shape(step, params, state)  # traced, not compiled
        assert new_params.dtype == dtype
        chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)


@pytest.mark.parametrize("state_dtype", ["bfloat16", "float32", "complex64", None])
@pytest.mark.parametrize("params_dtype", ["bfloat16", "float32", "complex64"])
@pytest.mark.parametrize("name", ["momentum", "adam", "nadam", "amsgrad"])
def test_explicit_first_moment_dtype(name, params_dtype, state_dtype):
    if name == "momentum":
        opt, field = optim.momentum(0.1, accumulator_dtype=state_dtype), "m"
    else:
        opt, field = getattr(optim, name)(0.1, mu_dtype=state_dtype), "mu"
    state = opt.init(jnp.zeros(2, params_dtype))
    assert optax.tree_utils.tree_get(state, field).dtype == jnp.dtype(state_dtype or params_dtype)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: optim.adam(0.1, mu_dtype=jnp.bfloat16), lambda: optax.adam(0.1, mu_dtype=jnp.bfloat16)),
        (
            lambda: optim.momentum(1e-3, 0.9, accumulator_dtype=jnp.bfloat16),
            lambda: optax.sgd(1e-3, momentum=0.9, accumulator_dtype=jnp.bfloat16),
        ),
    ],
    ids=["adam", "momentum"],
)
def test_bfloat16_first_moment_with_float32_params_tracks_optax(ours, theirs):
    """bf16 state, f32 parameters: the state stays bf16, the updates f32, and the path follows optax's."""
    initial, final, objective = _parabola(jnp.float32)

    def run(opt):
        def step(carry, _):
            params, state = carry
            updates, state = opt.update(_conj_grad(objective, params), state, params)
            return (optax.apply_updates(params, updates), state), updates.dtype == jnp.float32

        return jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), None, length=2000)[0])(initial)

    (params, state), (params_optax, state_optax) = run(ours()), run(theirs())
    field = "mu" if optax.tree_utils.tree_get(state_optax, "mu") is not None else "m"
    assert optax.tree_utils.tree_get(state, field).dtype == jnp.bfloat16
    assert params.dtype == jnp.float32
    chex.assert_trees_all_close(params, params_optax, atol=2e-2)
    chex.assert_trees_all_close(params, final, atol=5e-2)


# ----------------------------------------------------------------------------------------------------------
# complex parameters: σ² from |g|², adam equal to optax.adam
# ----------------------------------------------------------------------------------------------------------


def _complex_grads(seed: int, steps: int, n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, n)) + 1j * rng.normal(size=(steps, n)) * np.array([1e-2, 1.0, 10.0, 0.0])[:n]


def _feed(opt: optax.GradientTransformation, grads: np.ndarray):
    params = jnp.zeros(grads.shape[1], grads.dtype)

    def step(s, g):
        u, s = opt.update(g, s, params)
        return s, (u, s)

    return jax.tree.map(np.asarray, jax.jit(lambda gs: jax.lax.scan(step, opt.init(params), gs)[1])(jnp.asarray(grads)))


def test_complex_sigma_squared_is_the_mean_of_abs_g_squared():
    with jax.enable_x64(True):
        g = _complex_grads(0, 30)
        abs_sq = np.abs(g) ** 2
        # Adagrad (lecture, mean form): σ²ᵗ = mean of |gᵏ|², k ≤ t; step −η gᵗ/√(σ²ᵗ + ε)
        updates, state = _feed(optim.adagrad(0.1, eps=0.0), g)
        mean = np.cumsum(abs_sq, axis=0) / np.arange(1, 31)[:, None]
        sigma_sq = optax.tree_utils.tree_get(state, "nu")  # Adagrad's ν is σ², the running mean of |g|²
        assert sigma_sq.dtype == np.float64
        np.testing.assert_allclose(sigma_sq, mean, rtol=1e-12)
        np.testing.assert_allclose(updates, -0.1 * g / np.sqrt(mean), rtol=1e-12)
        # RMSProp (lecture): σ²⁰ = |g⁰|², σ²ᵗ = α σ²ᵗ⁻¹ + (1−α)|gᵗ|²
        updates, state = _feed(optim.rmsprop(0.1, alpha=0.8, eps=0.0), g)
        ema = [abs_sq[0]]
        for t in range(1, 30):
            ema.append(0.8 * ema[-1] + 0.2 * abs_sq[t])
        np.testing.assert_allclose(optax.tree_utils.tree_get(state, "nu"), np.array(ema), rtol=1e-12)
        np.testing.assert_allclose(updates, -0.1 * g / np.sqrt(np.array(ema)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [jnp.complex64, jnp.complex128], ids=["complex64", "complex128"])
def test_adam_equals_optax_adam_for_complex_parameters(dtype):
    with jax.enable_x64(dtype == jnp.complex128):
        rtol = 1e-10 if dtype == jnp.complex128 else 2e-4
        g = _complex_grads(1, 100).astype(dtype)
        ours, _ = _feed(optim.adam(1e-2, b1=0.8, b2=0.99), g)
        theirs, _ = _feed(optax.adam(1e-2, b1=0.8, b2=0.99), g)
        chex.assert_trees_all_close(ours, theirs, rtol=rtol, atol=1e-12)
        for target in (_parabola, _rosenbrock):
            initial, _, objective = target(dtype)

            def path(opt, initial=initial, objective=objective):
                def step(carry, _):
                    params, state = carry
                    updates, state = opt.update(_conj_grad(objective, params), state, params)
                    params = optax.apply_updates(params, updates)
                    return (params, state), params

                return jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), None, length=300)[1])(initial)

            chex.assert_trees_all_close(path(optim.adam(1e-2)), path(optax.adam(1e-2)), rtol=rtol, atol=10 * rtol)


# ----------------------------------------------------------------------------------------------------------
# state by name
# ----------------------------------------------------------------------------------------------------------


OPTAX_TWINS = {  # optax's optimizer with the same state fields (adagrad and rmsprop: optax keeps other moments)
    "sgd": lambda: optax.sgd(1e-3),
    "adam": lambda: optax.adam(1e-2),
    "nadam": lambda: optax.nadam(1e-2),
    "amsgrad": lambda: optax.amsgrad(1e-2),
    "adabelief": lambda: optax.adabelief(1e-2),
}


@pytest.mark.parametrize("name", NAMES)
def test_state_is_read_by_name_with_one_count(name):
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    opt = OPTIMIZERS[name]()
    grads = {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array(4.0)}
    _, state = opt.update(grads, opt.init(params), params)
    _, state = opt.update(grads, state, params)
    get = optax.tree_utils.tree_get
    assert int(get(state, "count")) == 2  # exactly one count (several would raise "Found multiple values")
    assert get(state, "count").dtype == jnp.int32
    if name in OPTAX_TWINS:  # every field optax has, by optax's name, with optax's value
        theirs = OPTAX_TWINS[name]()
        _, s = theirs.update(grads, theirs.init(params), params)
        _, s = theirs.update(grads, s, params)
        for field in ("mu", "nu", "count"):
            if get(s, field) is not None:
                chex.assert_trees_all_close(get(state, field), get(s, field), rtol=1e-5)
    if name in ("adagrad", "rmsprop"):  # ν = σ² = g² after two equal gradients (mean; σ⁰ = |g⁰|)
        chex.assert_trees_all_close(get(state, "nu"), jax.tree.map(jnp.square, grads), rtol=1e-5)
    if name == "momentum":
        chex.assert_trees_all_close(get(state, "m"), jax.tree.map(lambda g: -1.9e-3 * g, grads), rtol=1e-5)
    if name in ("sgd", "momentum"):
        assert get(state, "nu") is None and get(state, "mu") is None


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam", "nadam", "amsgrad", "adabelief"])
def test_sigma_reads_the_lectures_sigma_from_a_state(name):
    with jax.enable_x64(True):
        g = _complex_grads(2, 6).real
        opt = OPTIMIZERS[name]()
        _, states = _feed(opt, g)  # the state after every update, stacked (as surfaces.trajectory returns it)
        sigma = np.asarray(optim.sigma(opt, states))
        assert sigma.shape == g.shape
        t = np.arange(1, 7)[:, None]
        if name == "adagrad":
            want = np.sqrt(np.cumsum(g**2, axis=0) / t)
        elif name == "rmsprop":
            nu = [g[0] ** 2]
            for x in g[1:]:
                nu.append(0.9 * nu[-1] + 0.1 * x**2)
            want = np.sqrt(np.array(nu))
        else:
            b1, b2 = 0.9, 0.999
            mu, nu, out = 0.0, 0.0, []
            for x in g:
                mu = b1 * mu + (1 - b1) * x
                belief = name == "adabelief"  # s: the average of (g − μ)², ε_root added every step
                nu = b2 * nu + (1 - b2) * ((x - mu) ** 2 + 1e-16 / (1 - b2) if belief else x**2)
                out.append(nu)
            want = np.sqrt(np.array(out) / (1 - b2**t))
        np.testing.assert_allclose(sigma, want, rtol=1e-10)
        np.testing.assert_array_equal(optim.sigma(opt, opt.init(jnp.zeros(4))), np.zeros(4))  # before any update


def test_sigma_rejects_an_optimizer_without_one_rms_block():
    with pytest.raises(ValueError, match="one RMS block"):
        optim.sigma(optim.sgd(0.1), optim.sgd(0.1).init(jnp.zeros(2)))


# ----------------------------------------------------------------------------------------------------------
# hyper-parameters, ε = 0, and mismatched trees
# ----------------------------------------------------------------------------------------------------------

BAD_VALUES = [
    (lambda: optim.sgd(float("inf")), ValueError, "learning_rate"),
    (lambda: optim.sgd(np.float32("nan")), ValueError, "learning_rate"),
    (lambda: optim.momentum(0.1, beta=float("nan")), ValueError, "beta"),
    (lambda: optim.adagrad(0.1, eps=float("inf")), ValueError, "eps"),
    (lambda: optim.rmsprop(0.1, alpha=float("-inf")), ValueError, "alpha"),
    (lambda: optim.adam(0.1, b2=float("nan")), ValueError, "b2"),
    (lambda: optim.adam(0.1, eps=float("inf")), ValueError, "eps"),
    (lambda: optim.sgd(lambda t: "fast"), TypeError, "learning_rate"),
    (lambda: optim.sgd(lambda t: -0.1), ValueError, "learning_rate"),
    (lambda: optim.sgd(lambda t: float("inf")), ValueError, "learning_rate"),
    (lambda: optim.adam(lambda t: jnp.ones(3)), TypeError, "learning_rate"),
    (lambda: optim.adam(lambda t: 1j), TypeError, "learning_rate"),
    (lambda: optim.adam(lambda: 0.1), TypeError, "learning_rate"),
    (lambda: optim.adam(lambda t: None), TypeError, "learning_rate"),
    (lambda: optim.adam(0.1, mu_dtype="no such dtype"), TypeError, "no such dtype"),
]


@pytest.mark.parametrize(("make", "error", "name"), BAD_VALUES)
def test_bad_hyperparameters_raise_naming_the_argument(make, error, name):
    with pytest.raises(error, match=name):
        make()


def test_good_schedules_pass_the_probe_and_traced_schedules_are_not_evaluated_eagerly():
    optim.adam(optax.cosine_decay_schedule(0.1, 100))
    optim.sgd(optim.schedules.linear_warmup_decay(1e-3, warmup_steps=10, total_steps=100))
    optim.momentum(lambda t: 1)  # an int η is a real scalar

    def update_with(peak):  # the schedule closes over a tracer: only its shape and dtype are checked
        opt = optim.sgd(lambda t: peak / (t + 1.0))
        return opt.update(jnp.ones(2), opt.init(jnp.zeros(2)))[0]

    chex.assert_trees_all_close(jax.jit(update_with)(2.0), -2.0 * jnp.ones(2))


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_eps_zero_and_a_zero_gradient_give_a_zero_update_not_nan(name):
    opt = {"adagrad": optim.adagrad(0.1, eps=0.0), "rmsprop": optim.rmsprop(0.1, eps=0.0)}.get(
        name, optim.adam(0.1, eps=0.0)
    )
    state = opt.init(jnp.zeros(2))
    for g in (jnp.array([0.0, 1.0]), jnp.array([0.0, -3.0])):
        updates, state = jax.jit(opt.update)(g, state)
        chex.assert_tree_all_finite(updates)
        assert float(updates[0]) == 0.0 and float(updates[1]) != 0.0


def test_a_gradient_tree_unlike_the_state_raises_a_clear_value_error():
    opt = optim.adam(0.1)
    state = opt.init({"w": jnp.zeros(3)})
    with pytest.raises(ValueError, match="not the tree the state was initialised with"):
        opt.update({"v": jnp.zeros(3)}, state)
    with pytest.raises(ValueError, match=r"\['w'\] has shape \(4,\).*shape \(3,\)"):
        opt.update({"w": jnp.zeros(4)}, state)
    with pytest.raises(ValueError, match="FanOutState"):
        opt.update({"w": jnp.zeros(3)}, (optax.EmptyState(), state[1]))


@pytest.mark.parametrize("name", NAMES)
def test_python_scalar_parameters_and_gradients_as_in_optaxs_examples(name):
    opt = OPTIMIZERS[name]()
    updates, state = opt.update(0.7, opt.init(0.5), 0.5)
    assert jnp.shape(updates) == () and float(updates) < 0
