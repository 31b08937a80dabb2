"""jaxml.optim.schedules against their closed forms (numpy) and, where optax has the same schedule, optax."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxml import optim
from jaxml.optim import schedules as S

T = np.arange(0, 1201)


def _values(schedule: optax.Schedule) -> np.ndarray:
    """The schedule at every t in ``T``, evaluated inside jit on a traced int32 count (as optimizers do)."""
    return np.asarray(jax.jit(jax.vmap(schedule))(jnp.asarray(T, jnp.int32)), dtype=np.float64)


CASES = {
    "constant": (lambda: S.constant(0.3), lambda t: np.full(t.shape, 0.3)),
    "exponential": (lambda: S.exponential_decay(0.1, 0.5, 100), lambda t: 0.1 * 0.5 ** (t / 100)),
    "step": (lambda: S.step_decay(0.1, 0.3, 250), lambda t: 0.1 * 0.3 ** np.floor(t / 250)),
    "inverse_sqrt": (lambda: S.inverse_sqrt_decay(0.2), lambda t: 0.2 / np.sqrt(t + 1)),
    "inverse_sqrt_timescale": (lambda: S.inverse_sqrt_decay(0.2, 50.0), lambda t: 0.2 / np.sqrt(1 + t / 50)),
    "polynomial": (
        lambda: S.polynomial_decay(0.1, 0.01, 800, power=2.0),
        lambda t: (0.1 - 0.01) * (1 - np.minimum(t, 800) / 800) ** 2 + 0.01,
    ),
    "cosine": (
        lambda: S.cosine_decay(0.1, 1000, end_value=0.001),
        lambda t: 0.001 + (0.1 - 0.001) * 0.5 * (1 + np.cos(np.pi * np.minimum(t, 1000) / 1000)),
    ),
    "warmup": (
        lambda: S.linear_warmup_decay(0.05, 100, 1000, end_value=0.001),
        lambda t: np.where(t < 100, 0.05 * t / 100, 0.001 + (0.05 - 0.001) * (1000 - np.clip(t, 100, 1000)) / 900),
    ),
    "warmup_then_exponential": (
        lambda: S.linear_warmup(S.exponential_decay(0.1, 0.5, 100), 50),
        lambda t: np.where(t < 50, 0.1 * t / 50, 0.1 * 0.5 ** (np.maximum(t - 50, 0) / 100)),
    ),
    "transformer": (
        lambda: S.transformer(512, 400),
        lambda t: 512**-0.5 * np.minimum((t + 1.0) ** -0.5, (t + 1.0) * 400**-1.5),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_closed_form(name):
    make, closed = CASES[name]
    np.testing.assert_allclose(_values(make()), closed(T.astype(np.float64)), rtol=2e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: S.exponential_decay(0.1, 0.5, 100), lambda: optax.exponential_decay(0.1, 100, 0.5)),
        (lambda: S.step_decay(0.1, 0.3, 250), lambda: optax.exponential_decay(0.1, 250, 0.3, staircase=True)),
        (
            lambda: S.polynomial_decay(0.1, 0.01, 800, power=2.0),
            lambda: optax.polynomial_schedule(0.1, 0.01, power=2.0, transition_steps=800),
        ),
        (lambda: S.cosine_decay(0.1, 1000, 0.001), lambda: optax.cosine_decay_schedule(0.1, 1000, alpha=0.01)),
        (
            lambda: S.linear_warmup_decay(0.05, 100, 1000, 0.001),
            lambda: optax.join_schedules(
                [optax.linear_schedule(0.0, 0.05, 100), optax.linear_schedule(0.05, 0.001, 900)], [100]
            ),
        ),
    ],
    ids=["exponential", "step", "polynomial", "cosine", "warmup"],
)
def test_schedule_matches_optax(ours, theirs):
    np.testing.assert_allclose(_values(ours()), _values(theirs()), rtol=1e-5, atol=1e-9)


def test_decays_are_monotone_and_warmups_rise_then_fall():
    for name in ("exponential", "step", "inverse_sqrt", "polynomial", "cosine"):
        assert np.all(np.diff(_values(CASES[name][0]())) <= 1e-9), name
    for name, peak_at in (("warmup", 100), ("transformer", 399), ("warmup_then_exponential", 50)):
        v = _values(CASES[name][0]())
        assert int(np.argmax(v)) == peak_at, name
        assert np.all(np.diff(v[: peak_at + 1]) > 0) and np.all(np.diff(v[peak_at:]) <= 1e-12), name


def test_transformer_peak_value():
    # peak at s = W: d^−½ · W^−½
    assert math.isclose(float(S.transformer(512, 400)(399)), (512 * 400) ** -0.5, rel_tol=1e-6)


def test_schedules_drive_the_optimizers():
    schedule = S.step_decay(1.0, 0.5, 2)
    opt = optim.sgd(schedule)
    state = opt.init(jnp.zeros(1))
    steps = []
    for _ in range(6):
        u, state = opt.update(jnp.ones(1), state)
        steps.append(float(u[0]))
    np.testing.assert_allclose(steps, [-1, -1, -0.5, -0.5, -0.25, -0.25])


@pytest.mark.parametrize(
    ("make", "err", "name"),
    [
        (lambda: S.constant(-1.0), ValueError, "value"),
        (lambda: S.exponential_decay(0.1, 1.5), ValueError, "decay_rate"),
        (lambda: S.exponential_decay(0.1, 0.0), ValueError, "decay_rate"),
        (lambda: S.exponential_decay(0.1, 0.5, 0), ValueError, "transition_steps"),
        (lambda: S.step_decay(-0.1, 0.5, 10), ValueError, "init_value"),
        (lambda: S.step_decay(0.1, 0.5, 2.5), TypeError, "step_size"),
        (lambda: S.inverse_sqrt_decay(0.1, 0.0), ValueError, "timescale"),
        (lambda: S.polynomial_decay(0.1, -0.1, 10), ValueError, "end_value"),
        (lambda: S.polynomial_decay(0.1, 0.0, 10, power=0.0), ValueError, "power"),
        (lambda: S.cosine_decay(0.1, 0), ValueError, "decay_steps"),
        (lambda: S.linear_warmup_decay(0.1, 100, 100), ValueError, "total_steps"),
        (lambda: S.linear_warmup_decay(0.1, -1, 100), ValueError, "warmup_steps"),
        (lambda: S.transformer(0, 100), ValueError, "d_model"),
        (lambda: S.transformer(512, True), TypeError, "warmup_steps"),
        (lambda: S.linear_warmup(0.1, 10), TypeError, "schedule"),
        (lambda: S.linear_warmup(S.constant(0.1), -5), ValueError, "warmup_steps"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(make, err, name):
    with pytest.raises(err, match=name):
        make()


def test_zero_warmup_is_a_pure_linear_decay():
    v = _values(S.linear_warmup_decay(1.0, 0, 100))
    np.testing.assert_allclose(v[:101], 1 - T[:101] / 100, atol=1e-6)
