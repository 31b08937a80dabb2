"""jaxml.optim against the lecture's recurrences (numpy loops written out by hand) and optax's built-ins.

Where the lecture's form differs from optax's, the test says so and compares the two on the ground where they
must agree:
* momentum — the lecture accumulates *steps* (mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹), optax's ``sgd(momentum=λ)`` accumulates
  *gradients* and multiplies by −η afterwards (its sign is flipped at the end): equal for a constant η, not
  under a schedule;
* Adagrad — the lecture's σ is the root *mean* square of past gradients, optax's ``adagrad`` the root of their
  *sum* (plus an initial accumulator 0.1 and ε inside the root): equal once optax's η is multiplied by √(t+1);
* RMSProp — the lecture starts from σ⁰ = |g⁰|, optax from ν = 0 (and ε inside the root by default): equal once
  optax's accumulator starts at (g⁰)²;
* Adam — the same algorithm (Kingma & Ba): equal step after step.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import optim
from jaxml.optim import transforms as T

# ----------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------


def _grads(seed: int, steps: int, n: int = 5) -> np.ndarray:
    """A fixed sequence of gradients (float64), none exactly zero, of mixed scales."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(steps, n)) * np.array([1e-3, 0.1, 1.0, 10.0, 100.0])[:n]
    return np.where(np.abs(g) < 1e-12, 1e-12, g)


def _feed(opt: optax.GradientTransformation, grads: np.ndarray, state=None) -> np.ndarray:
    """The updates ``opt`` outputs for the gradient sequence (params given but unused by these optimizers)."""
    params = jnp.zeros(grads.shape[1], grads.dtype)
    state = opt.init(params) if state is None else state

    def step(s, g):
        u, s = opt.update(g, s, params)
        return s, u

    return np.asarray(jax.jit(lambda s, gs: jax.lax.scan(step, s, gs)[1])(state, jnp.asarray(grads)))


def _objective(params: dict) -> jax.Array:
    """A non-quadratic objective on a pytree, so trajectories feed back through the gradient."""
    x = jnp.linspace(-1.0, 1.0, 12).reshape(6, 2).astype(params["w"].dtype)
    y = jnp.sin(3 * x[:, :1]) + x[:, 1:] ** 2
    pred = jnp.tanh(x @ params["w"] + params["b"]) @ params["v"]
    return jnp.mean((pred - y) ** 2) + 0.01 * jnp.sum(params["w"] ** 4)


def _params(dtype=jnp.float32) -> dict:
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    return {
        "w": jax.random.normal(k1, (2, 4), dtype),
        "b": jax.random.normal(k2, (4,), dtype) * 0.1,
        "v": jax.random.normal(k3, (4, 1), dtype),
    }


def _trajectory(opt: optax.GradientTransformation, params: dict, steps: int) -> dict:
    """θ after each of ``steps`` updates, leaves stacked on a leading axis (traceable inside a larger program)."""

    def step(carry, _):
        p, s = carry
        u, s = opt.update(jax.grad(_objective)(p), s, p)
        p = optax.apply_updates(p, u)
        return (p, s), p

    return jax.lax.scan(step, (params, opt.init(params)), None, length=steps)[1]


def _optimise(opt: optax.GradientTransformation, params: dict, steps: int) -> dict:
    """:func:`_trajectory`, compiled on its own, as NumPy arrays."""
    return jax.tree.map(np.asarray, jax.jit(lambda p: _trajectory(opt, p, steps))(params))


def _max_rel(a: dict, b: dict) -> float:
    return max(
        float(np.max(np.abs(x - y) / (np.abs(y) + 1e-12))) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
    )


# ----------------------------------------------------------------------------------------------------------
# the lecture's recurrences, by hand
# ----------------------------------------------------------------------------------------------------------


def test_sgd_is_theta_minus_eta_g(x64):
    g = _grads(0, 20)
    np.testing.assert_allclose(_feed(optim.sgd(0.3), g), -0.3 * g, rtol=1e-15)
    np.testing.assert_allclose(_feed(optim.sgd(0.3), g), _feed(optax.sgd(0.3), g), rtol=1e-15)


def _lecture_momentum(g: np.ndarray, etas: np.ndarray, lam: float) -> np.ndarray:
    """course §4.2: m⁰ = 0, mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ; returns the steps m¹ … mᵀ."""
    m = np.zeros(g.shape[1])
    out = []
    for t in range(len(g)):
        m = lam * m - etas[t] * g[t]
        out.append(m)
    return np.array(out)


def test_momentum_first_steps_match_the_lecture(x64):
    g = _grads(1, 2)
    eta, lam = 0.1, 0.9
    u = _feed(optim.momentum(eta, lam), g)
    np.testing.assert_allclose(u[0], -eta * g[0], rtol=1e-15)  # m¹ = −ηg⁰
    np.testing.assert_allclose(u[1], -lam * eta * g[0] - eta * g[1], rtol=1e-14)  # m² = −ληg⁰ − ηg¹


def test_momentum_matches_lecture_loop_and_optax_for_constant_eta(x64):
    g = _grads(2, 60)
    u = _feed(optim.momentum(0.05, 0.8), g)
    np.testing.assert_allclose(u, _lecture_momentum(g, np.full(60, 0.05), 0.8), rtol=1e-12, atol=1e-300)
    # optax: trace = g + λ·trace, update = −η·trace — the same numbers when η is constant.
    np.testing.assert_allclose(u, _feed(optax.sgd(0.05, momentum=0.8), g), rtol=1e-12)


def test_momentum_under_a_schedule_keeps_each_steps_eta(x64):
    g = _grads(3, 40)
    schedule = lambda t: 0.1 * 0.9**t
    etas = 0.1 * 0.9 ** np.arange(40)
    u = _feed(optim.momentum(schedule, 0.9), g)
    np.testing.assert_allclose(u, _lecture_momentum(g, etas, 0.9), rtol=1e-12)
    # optax multiplies the whole gradient trace by the *current* η: a different optimizer under a schedule.
    assert not np.allclose(u, _feed(optax.sgd(schedule, momentum=0.9), g), rtol=1e-3)


def _lecture_adagrad(g: np.ndarray, eta: float, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """course §4.4: θᵗ⁺¹ = θᵗ − η gᵗ/σᵗ, σᵗ = √(1/(t+1) Σₖ₌₀ᵗ (gᵏ)²), with ε inside the root as in the
    lecture's Adagrad code (``lr / sqrt(sqr + eps)``); returns steps and σ."""
    steps, sigmas = [], []
    for t in range(len(g)):
        sigma = np.sqrt(np.mean(g[: t + 1] ** 2, axis=0))
        steps.append(-eta * g[t] / np.sqrt(sigma**2 + eps))
        sigmas.append(sigma)
    return np.array(steps), np.array(sigmas)


def test_adagrad_matches_lecture_loop(x64):
    g = _grads(4, 50)
    steps, sigmas = _lecture_adagrad(g, 0.2, 1e-8)
    np.testing.assert_allclose(_feed(optim.adagrad(0.2, eps=1e-8), g), steps, rtol=1e-12)
    # the state holds ν = σ², the running mean of g² (the block is given t as ``count``)
    rms = optim.rms_mean()
    state = rms.init(jnp.zeros(5))
    for t in range(50):
        sigma_plus_eps, state = rms.update(jnp.asarray(g[t]), state, count=t)
        np.testing.assert_allclose(np.sqrt(state.nu), sigmas[t], rtol=1e-12)
        np.testing.assert_allclose(sigma_plus_eps, sigmas[t], rtol=1e-12)


def test_adagrad_equals_optax_with_eta_times_sqrt_t_plus_1(x64):
    # optax.adagrad: u = −η g / √(Σ g² + ε) with Σ starting at initial_accumulator_value. With that at 0 and
    # ε = 0 it is the lecture's mean-form Adagrad whose η is multiplied by √(t+1).
    g = _grads(5, 50)
    ours = _feed(optim.adagrad(0.2, eps=0.0), g)
    theirs = _feed(optax.adagrad(lambda t: 0.2 * jnp.sqrt(t + 1.0), initial_accumulator_value=0.0, eps=0.0), g)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # with optax's defaults (sum, not mean) later steps are smaller by ~√(t+1)
    default = _feed(optax.adagrad(0.2), g)
    assert np.median(np.abs(ours[-1] / default[-1])) > 5


def _lecture_rmsprop(g: np.ndarray, eta: float, alpha: float, eps: float) -> np.ndarray:
    """course §4.5: σ⁰ = |g⁰|, σᵗ = √(α(σᵗ⁻¹)² + (1−α)(gᵗ)²), θᵗ⁺¹ = θᵗ − η gᵗ/√((σᵗ)² + ε)."""
    sigma = np.abs(g[0])
    out = []
    for t in range(len(g)):
        if t > 0:
            sigma = np.sqrt(alpha * sigma**2 + (1 - alpha) * g[t] ** 2)
        out.append(-eta * g[t] / np.sqrt(sigma**2 + eps))
    return np.array(out)


def test_rmsprop_matches_lecture_loop(x64):
    g = _grads(6, 60)
    np.testing.assert_allclose(
        _feed(optim.rmsprop(0.01, alpha=0.8, eps=1e-8), g), _lecture_rmsprop(g, 0.01, 0.8, 1e-8), rtol=1e-12
    )
    # the first step is −η·sign(g⁰) (with ε = 0): σ⁰ = |g⁰|
    np.testing.assert_allclose(_feed(optim.rmsprop(0.01, eps=0.0), g[:1])[0], -0.01 * np.sign(g[0]), rtol=1e-12)


def test_rmsprop_equals_optax_started_from_g0_squared(x64):
    g = _grads(7, 60)
    theirs = optax.rmsprop(0.01, decay=0.8, eps=1e-8)  # ε inside the root, as ours
    state = theirs.init(jnp.zeros(5))
    # optax starts from ν = 0, so its σ⁰ = √(1−α)|g⁰|. Start it from ν = (g⁰)² instead: then
    # ν¹ = α(g⁰)² + (1−α)(g⁰)² = (g⁰)² — the lecture's σ⁰ = |g⁰| — and every later step agrees.
    state = (state[0]._replace(nu=jnp.asarray(g[0] ** 2)),) + tuple(state[1:])
    np.testing.assert_allclose(_feed(optim.rmsprop(0.01, 0.8, 1e-8), g), _feed(theirs, g, state), rtol=1e-12)
    # from optax's ν = 0 the first step is 1/√(1−α) times larger
    first = _feed(optax.rmsprop(0.01, decay=0.8, eps=0.0, eps_in_sqrt=False), g[:1])[0]
    np.testing.assert_allclose(first, -0.01 * np.sign(g[0]) / np.sqrt(0.2), rtol=1e-12)


def _kingma_ba(g: np.ndarray, eta: float, b1: float, b2: float, eps: float) -> np.ndarray:
    """Adam (Kingma & Ba 2015, Algorithm 1), written out."""
    m = np.zeros(g.shape[1])
    v = np.zeros(g.shape[1])
    out = []
    for t in range(1, len(g) + 1):
        m = b1 * m + (1 - b1) * g[t - 1]
        v = b2 * v + (1 - b2) * g[t - 1] ** 2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        out.append(-eta * m_hat / (np.sqrt(v_hat) + eps))
    return np.array(out)


def test_adam_matches_kingma_ba_loop(x64):
    g = _grads(8, 100)
    np.testing.assert_allclose(_feed(optim.adam(1e-3), g), _kingma_ba(g, 1e-3, 0.9, 0.999, 1e-8), rtol=1e-10)
    np.testing.assert_allclose(
        _feed(optim.adam(0.1, b1=0.5, b2=0.9, eps=1e-3), g), _kingma_ba(g, 0.1, 0.5, 0.9, 1e-3), rtol=1e-10
    )


@pytest.mark.parametrize(
    "lr", [1e-3, 3e-2, optax.cosine_decay_schedule(0.05, 200)], ids=["1e-3", "3e-2", "cosine-schedule"]
)
def test_adam_equals_optax_adam_float64_200_steps(x64, lr):
    params = _params(jnp.float64)
    ours = _optimise(optim.adam(lr, b1=0.9, b2=0.999, eps=1e-8), params, 200)
    theirs = _optimise(optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8), params, 200)
    assert _max_rel(ours, theirs) < 1e-10  # the same raw μ, ν and bias corrections: equal to rounding


def test_adam_equals_optax_adam_float32_within_float32_noise():
    with jax.enable_x64(True):
        reference = _optimise(optax.adam(3e-2), _params(jnp.float64), 200)
    ours = _optimise(optim.adam(3e-2), _params(jnp.float32), 200)
    theirs = _optimise(optax.adam(3e-2), _params(jnp.float32), 200)
    # optax's own float32 error against float64 is the noise floor; ours must be no worse than a few times it.
    noise = max(float(np.max(np.abs(t - r))) for t, r in zip(jax.tree.leaves(theirs), jax.tree.leaves(reference)))
    err = max(float(np.max(np.abs(o - r))) for o, r in zip(jax.tree.leaves(ours), jax.tree.leaves(reference)))
    assert err <= 3 * noise + 1e-6
    diff = max(float(np.max(np.abs(o - t))) for o, t in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)))
    assert diff < 1e-4  # parameters are O(1)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: optim.sgd(0.1), lambda: optax.sgd(0.1)),
        (lambda: optim.momentum(0.05, 0.9), lambda: optax.sgd(0.05, momentum=0.9)),
    ],
    ids=["sgd", "momentum"],
)
def test_trajectories_equal_optax_builtins(x64, ours, theirs):
    params = _params(jnp.float64)
    assert _max_rel(_optimise(ours(), params, 200), _optimise(theirs(), params, 200)) < 1e-7


# ----------------------------------------------------------------------------------------------------------
# the fan-out: Adam needs both moments of the *raw* gradient
# ----------------------------------------------------------------------------------------------------------


def test_serial_chain_of_momentum_and_rms_is_not_adam(x64):
    g = _grads(9, 100)
    serial = optim.chain(  # jaxml's chain hands the learning-rate block's count t to the blocks that need it
        optim.scale_by_momentum(0.9, ema=True, bias_correction=True),
        optim.scale_by_rms(0.999, 1e-8, bias_correction=True),  # sees m̂, not g
        optim.scale_by_learning_rate(1e-3),
    )
    parallel = optim.chain(
        optim.divide(
            optim.scale_by_momentum(0.9, ema=True, bias_correction=True),
            optim.rms_ema(0.999, 1e-8, bias_correction=True),
        ),
        optim.scale_by_learning_rate(1e-3),
    )
    adam = _kingma_ba(g, 1e-3, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(_feed(parallel, g), adam, rtol=1e-10)
    u_serial = _feed(serial, g)
    assert np.max(np.abs(u_serial - adam) / np.abs(adam)) > 0.1
    # what the serial chain computes: the RMS of the momentum, m̂ / (√(EMA of m̂²) + ε)
    m = np.zeros(5)
    v = np.zeros(5)
    expected = []
    for t in range(1, 101):
        m = 0.9 * m + 0.1 * g[t - 1]
        m_hat = m / (1 - 0.9**t)
        v = 0.999 * v + 0.001 * m_hat**2
        expected.append(-1e-3 * m_hat / (np.sqrt(v / (1 - 0.999**t)) + 1e-8))
    np.testing.assert_allclose(u_serial, np.array(expected), rtol=1e-10)


def test_fan_out_feeds_the_same_input_and_keeps_separate_states():
    opt = optim.fan_out(
        optim.scale_by_momentum(0.5), optax.identity(), optim.rms_mean(), combine=lambda a, b, c: a + b + c
    )
    state = opt.init(jnp.zeros(2))
    g0, g1 = jnp.array([1.0, -2.0]), jnp.array([3.0, 4.0])
    u0, state = opt.update(g0, state, count=0)  # rms_mean needs t; nothing in this fan_out counts
    u1, state = opt.update(g1, state, count=1)
    np.testing.assert_allclose(u0, g0 + g0 + jnp.abs(g0))
    m1 = 0.5 * g0 + g1
    rms1 = jnp.sqrt((g0**2 + g1**2) / 2)
    np.testing.assert_allclose(u1, m1 + g1 + rms1, rtol=1e-6)
    assert len(state.inner_states) == 3
    np.testing.assert_allclose(state.inner_states[0].m, m1)


def test_fan_out_rejects_bad_arguments():
    with pytest.raises(TypeError, match="at least one"):
        optim.fan_out(combine=jnp.add)
    with pytest.raises(TypeError, match=r"transforms\[1\]"):
        optim.fan_out(optax.identity(), "adam", combine=jnp.add)
    with pytest.raises(TypeError, match="combine"):
        optim.fan_out(optax.identity(), combine=None)


def test_bias_correction_needs_ema():
    with pytest.raises(ValueError, match="ema"):
        optim.scale_by_momentum(0.9, bias_correction=True)
    with pytest.raises(ValueError, match="ema"):
        optim.scale_by_momentum(0.9, nesterov=True)


# ----------------------------------------------------------------------------------------------------------
# hyper-parameter domains
# ----------------------------------------------------------------------------------------------------------

BAD = [
    (lambda: optim.sgd(-0.1), "learning_rate"),
    (lambda: optim.momentum(-1e-3), "learning_rate"),
    (lambda: optim.momentum(0.1, beta=1.0), "beta"),
    (lambda: optim.momentum(0.1, beta=-0.1), "beta"),
    (lambda: optim.adagrad(0.1, eps=-1e-8), "eps"),
    (lambda: optim.adagrad(np.float32(-0.5)), "learning_rate"),
    (lambda: optim.rmsprop(0.1, alpha=1.0), "alpha"),
    (lambda: optim.rmsprop(0.1, alpha=-0.5), "alpha"),
    (lambda: optim.rmsprop(0.1, eps=-1.0), "eps"),
    (lambda: optim.adam(0.1, b1=1.0), "b1"),
    (lambda: optim.adam(0.1, b1=np.float64(-0.1)), "b1"),
    (lambda: optim.adam(0.1, b2=1.5), "b2"),
    (lambda: optim.adam(0.1, eps=-1e-8), "eps"),
    (lambda: optim.adam(float("nan")), "learning_rate"),
    (lambda: optim.adam(np.array(-1.0)), "learning_rate"),
]


@pytest.mark.parametrize(("make", "name"), BAD)
def test_out_of_domain_hyperparameters_raise_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_non_numbers_raise_type_error():
    with pytest.raises(TypeError, match="learning_rate"):
        optim.adam("0.1")
    with pytest.raises(TypeError, match="beta"):
        optim.momentum(0.1, beta=None)


def test_boundary_values_are_accepted():
    for opt in (optim.sgd(0), optim.momentum(0.1, 0.0), optim.adam(0.1, b1=0.0, eps=0.0), optim.rmsprop(1, 0)):
        opt.init(jnp.zeros(1))


def test_traced_and_array_hyperparameters_are_not_checked():
    # a negative traced value cannot be checked in Python; it must not raise
    jax.jit(lambda lr: optim.adam(lr).update(jnp.ones(2), optim.adam(lr).init(jnp.zeros(2)))[0])(-1.0)
    optim.adam(jnp.asarray(0.1), b1=jnp.asarray(0.9))


# ----------------------------------------------------------------------------------------------------------
# composition with optax and JAX transformations
# ----------------------------------------------------------------------------------------------------------

ALIASES = {  # (ours, optax's same optimizer or None), each called as make(learning_rate)
    "sgd": (optim.sgd, optax.sgd),
    "momentum": (functools.partial(optim.momentum, beta=0.9), functools.partial(optax.sgd, momentum=0.9)),
    "adagrad": (optim.adagrad, None),
    "rmsprop": (optim.rmsprop, None),
    "adam": (optim.adam, optax.adam),
}


def _last(tree: dict) -> dict:
    return jax.tree.map(lambda x: x[-1], tree)


@pytest.mark.parametrize("name", list(ALIASES))
def test_composes_with_optax_wrappers_jit_and_vmap(x64, name):
    """optax.chain, optax.inject_hyperparams, optax.MultiSteps, jit and vmap over η — one compiled program per
    optimizer (to keep the suite fast); where optax has the same optimizer, each wrapper is compared with
    the same wrapper around optax's."""
    ours, theirs = ALIASES[name]
    params = _params(jnp.float64)
    steps, lr = 30, 0.02

    def wrapped(make):
        return {
            "plain": make(lr),
            "chain": optax.chain(optax.clip_by_global_norm(0.5), make(lr)),
            "inject": optax.inject_hyperparams(make)(lr),
            "multisteps": optax.MultiSteps(make(lr), every_k_schedule=3).gradient_transformation(),
        }

    def final_for(eta):
        return _last(_trajectory(ours(eta), params, steps))  # eta is a tracer under vmap

    def inject_with_zero_lr():
        opt = optax.inject_hyperparams(ours)(lr)
        state = opt.init(params)
        state.hyperparams["learning_rate"] = jnp.zeros_like(state.hyperparams["learning_rate"])
        return opt.update(jax.grad(_objective)(params), state, params)[0]

    @jax.jit
    def run():
        mine = {k: _trajectory(v, params, steps) for k, v in wrapped(ours).items()}
        peer = {k: _trajectory(v, params, steps) for k, v in wrapped(theirs).items()} if theirs else None
        swept = jax.vmap(final_for)(jnp.array([0.0, lr]))
        return mine, peer, swept, inject_with_zero_lr()

    mine, peer, swept, zero_update = jax.tree.map(np.asarray, run())
    plain = mine["plain"]
    assert _objective(_last(plain)) < _objective(params)
    # chain: clipping changes the path, and matches optax's optimizer behind the same clip
    assert _objective(_last(mine["chain"])) < _objective(params)
    # inject_hyperparams: the same path as the plain optimizer; η set to 0 in the state stops it
    assert _max_rel(mine["inject"], plain) < 1e-10
    assert all(np.all(u == 0) for u in jax.tree.leaves(zero_update))
    # MultiSteps: parameters move only every third step
    np.testing.assert_array_equal(mine["multisteps"]["w"][0], mine["multisteps"]["w"][1])
    assert not np.array_equal(mine["multisteps"]["w"][1], mine["multisteps"]["w"][2])
    if peer is not None:
        for k in mine:
            assert _max_rel(mine[k], peer[k]) < 1e-7, k
    # vmap over η (inside jit): η = 0 leaves θ alone, η = lr reproduces the plain run
    np.testing.assert_array_equal(swept["w"][0], params["w"])
    assert _max_rel(jax.tree.map(lambda x: x[1], swept), _last(plain)) < 1e-10


def test_inject_hyperparams_adam_equals_optax_with_all_hyperparameters(x64):
    params = _params(jnp.float64)
    ours = optax.inject_hyperparams(optim.adam)(learning_rate=0.03, b1=0.8, b2=0.99, eps=1e-6)
    theirs = optax.inject_hyperparams(optax.adam)(learning_rate=0.03, b1=0.8, b2=0.99, eps=1e-6)
    assert _max_rel(_optimise(ours, params, 100), _optimise(theirs, params, 100)) < 1e-7


@pytest.mark.parametrize("name", list(ALIASES))
def test_works_under_apply_if_finite(name):
    ours, _ = ALIASES[name]
    opt = optax.apply_if_finite(ours(0.1), max_consecutive_errors=3)
    params = jnp.array([1.0, -1.0])
    state = opt.init(params)
    u, state = opt.update(jnp.array([0.5, 0.25]), state, params)
    params = optax.apply_updates(params, u)
    bad, bad_state = opt.update(jnp.array([jnp.nan, 1.0]), state, params)
    np.testing.assert_array_equal(bad, jnp.zeros(2))  # a non-finite gradient is skipped...
    assert int(bad_state.notfinite_count) == 1
    # ...and leaves the inner state alone: the next finite update equals one from the pre-NaN state
    u1, _ = opt.update(jnp.array([0.1, 0.2]), bad_state, params)
    u2, _ = opt.update(jnp.array([0.1, 0.2]), state, params)
    np.testing.assert_array_equal(u1, u2)


@pytest.mark.parametrize("name", list(ALIASES))
def test_jit_and_eager_agree(name):
    ours, _ = ALIASES[name]
    opt = ours(optax.exponential_decay(0.1, 1, 0.9))
    params = jnp.array([0.5, -1.0, 2.0])
    state = opt.init(params)
    for g in (jnp.array([1.0, 2.0, -3.0]), jnp.array([0.5, -0.1, 0.2])):
        eager_u, eager_s = opt.update(g, state, params)
        jit_u, jit_s = jax.jit(opt.update)(g, state, params)
        for a, b in zip(jax.tree.leaves((eager_u, eager_s)), jax.tree.leaves((jit_u, jit_s))):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        state = eager_s


def test_schedule_learning_rate_is_evaluated_at_the_update_count(x64):
    g = np.ones((5, 1))
    np.testing.assert_allclose(_feed(optim.sgd(lambda t: 1.0 / (t + 1.0)), g)[:, 0], -1.0 / np.arange(1, 6))


def test_blocks_states_are_namedtuples_in_optaxs_conventions(x64):
    opt = optim.adam(0.1, b1=0.8, b2=0.9)
    state = opt.init({"a": jnp.zeros(3)})
    fan = state[0]
    assert isinstance(fan, optim.FanOutState)
    assert isinstance(fan.inner_states[0], T.FirstMomentState)
    assert isinstance(fan.inner_states[1], T.RmsState)
    assert isinstance(state[1], optim.LearningRateState)
    g0, g1 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    _, state = opt.update({"a": jnp.asarray(g0)}, state)
    _, state = opt.update({"a": jnp.asarray(g1)}, state)
    # the raw moving averages, as optax.ScaleByAdamState holds them (not m̂, v̂)
    mu, nu = 0.8 * 0.2 * g0 + 0.2 * g1, 0.9 * 0.1 * g0**2 + 0.1 * g1**2
    np.testing.assert_allclose(state[0].inner_states[0].mu["a"], mu, rtol=1e-14)
    np.testing.assert_allclose(state[0].inner_states[1].nu["a"], nu, rtol=1e-14)
    theirs = optax.adam(0.1, b1=0.8, b2=0.9)
    s = theirs.init({"a": jnp.zeros(3)})
    for g in (g0, g1):
        _, s = theirs.update({"a": jnp.asarray(g)}, s)
    # the same leaves by name, wherever a chain puts them, with optax's names; one count
    get = optax.tree_utils.tree_get
    for name in ("mu", "nu", "count"):
        assert jax.tree.structure(get(state, name)) == jax.tree.structure(get(s, name))
        np.testing.assert_allclose(jax.tree.leaves(get(state, name)), jax.tree.leaves(get(s, name)), rtol=1e-14)
    assert get(state, "mu") is state[0].inner_states[0].mu
    assert get(state, "LearningRateState") is state[1]
    # the lecture's σ = √v̂ is read with optim.sigma
    np.testing.assert_allclose(optim.sigma(opt, state)["a"], np.sqrt(nu / (1 - 0.9**2)), rtol=1e-14)
