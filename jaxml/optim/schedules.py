r"""Learning-rate schedules ηᵗ (course §4.7): decay (monotone) and warm-up (rise, then fall).

Each factory returns an ``optax.Schedule``: a pure function t ↦ ηᵗ of the update count t = 0, 1, 2, … that
works on Python ints and on traced int arrays (inside ``jit``/``lax.scan``), so it can be passed as any
``learning_rate`` in :mod:`jaxml.optim` or optax. Arguments are checked when they are concrete numbers.

Example:
    >>> from jaxml.optim import schedules, adam
    >>> eta = schedules.linear_warmup_decay(1e-3, warmup_steps=100, total_steps=1000)
    >>> [round(float(eta(t)), 6) for t in (0, 50, 100, 550, 1000)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    >>> opt = adam(eta)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxml._checks import check_hyperparameter

__all__ = [
    "constant",
    "cosine_decay",
    "exponential_decay",
    "inverse_sqrt_decay",
    "linear_warmup",
    "linear_warmup_decay",
    "polynomial_decay",
    "step_decay",
    "transformer",
]


def _steps(name: str, value: Any, *, minimum: int = 1) -> int:
    """A step count must be a concrete Python/NumPy integer ≥ ``minimum`` (it shapes the schedule)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value}")
    return int(value)


def _t(count: jax.typing.ArrayLike) -> jax.Array:
    return jnp.asarray(count, dtype=jnp.result_type(float))


def constant(value: float) -> optax.Schedule:
    """ηᵗ = η: the same learning rate at every update.

    Args:
        value: η ≥ 0, a finite real number (a concrete array is checked element-wise; a tracer passes unchecked).

    Returns:
        The ``optax.Schedule`` t ↦ η: a float array shaped like t (JAX's default float dtype) filled with η.

    Raises:
        TypeError: if ``value`` is not a real number (a bool, a string or a complex number included).
        ValueError: if ``value`` is negative, infinite or NaN.
    """
    check_hyperparameter("value", value)
    return lambda count: jnp.full_like(_t(count), value)


def exponential_decay(init_value: float, decay_rate: float, transition_steps: int = 1) -> optax.Schedule:
    r"""ηᵗ = η₀ · r^(t/T): multiplied by r = ``decay_rate`` ∈ (0, 1] every T = ``transition_steps`` updates.

    The decay is smooth (ηᵗ changes at every t); :func:`step_decay` is the staircase version.

    Args:
        init_value: η₀ ≥ 0, the learning rate at t = 0.
        decay_rate: r ∈ (0, 1], the factor η is multiplied by every T updates (r = 1: a constant η₀).
        transition_steps: T, a Python or NumPy integer ≥ 1.

    Returns:
        The ``optax.Schedule`` t ↦ η₀ · r^(t/T) (a float array shaped like t).

    Raises:
        TypeError: if ``init_value`` or ``decay_rate`` is not a real number, or ``transition_steps`` is not an
            integer (a bool or a float such as ``10.0`` included).
        ValueError: if ``init_value`` is negative, ``decay_rate`` lies outside (0, 1], either is infinite or NaN,
            or ``transition_steps`` < 1.
    """
    check_hyperparameter("init_value", init_value)
    check_hyperparameter("decay_rate", decay_rate, low=0.0, high=1.0 + 1e-12)
    if isinstance(decay_rate, numbers.Real) and decay_rate == 0:
        raise ValueError("decay_rate must lie in (0, 1], got 0")
    steps = _steps("transition_steps", transition_steps)
    return lambda count: init_value * decay_rate ** (_t(count) / steps)


def step_decay(init_value: float, factor: float, step_size: int) -> optax.Schedule:
    r"""ηᵗ = η₀ · γ^⌊t/s⌋: multiplied by γ = ``factor`` ∈ [0, 1] once every s = ``step_size`` updates.

    Args:
        init_value: η₀ ≥ 0, the learning rate for the first s updates.
        factor: γ ∈ [0, 1], the factor of each drop (γ = 0: η is 0 from t = s on).
        step_size: s, a Python or NumPy integer ≥ 1, the number of updates between drops.

    Returns:
        The ``optax.Schedule`` t ↦ η₀ · γ^⌊t/s⌋, a staircase (a float array shaped like t).

    Raises:
        TypeError: if ``init_value`` or ``factor`` is not a real number, or ``step_size`` is not an integer.
        ValueError: if ``init_value`` is negative, ``factor`` lies outside [0, 1], either is infinite or NaN, or
            ``step_size`` < 1.
    """
    check_hyperparameter("init_value", init_value)
    check_hyperparameter("factor", factor, high=1.0 + 1e-12)
    steps = _steps("step_size", step_size)
    return lambda count: init_value * factor ** jnp.floor(_t(count) / steps)


def inverse_sqrt_decay(init_value: float, timescale: float = 1.0) -> optax.Schedule:
    r"""ηᵗ = η₀ / √(1 + t/τ); with τ = 1 the lecture's ηᵗ = η/√(t+1).

    Args:
        init_value: η₀ ≥ 0, the learning rate at t = 0.
        timescale: τ > 0, in updates: η has fallen to η₀/√2 at t = τ.

    Returns:
        The ``optax.Schedule`` t ↦ η₀ / √(1 + t/τ) (a float array shaped like t).

    Raises:
        TypeError: if ``init_value`` or ``timescale`` is not a real number.
        ValueError: if ``init_value`` is negative, ``timescale`` is not positive, or either is infinite or NaN.
    """
    check_hyperparameter("init_value", init_value)
    check_hyperparameter("timescale", timescale, low=1e-300)
    return lambda count: init_value / jnp.sqrt(1.0 + _t(count) / timescale)


def polynomial_decay(init_value: float, end_value: float, decay_steps: int, power: float = 1.0) -> optax.Schedule:
    r"""ηᵗ = (η₀ − η_end)(1 − min(t, T)/T)^p + η_end: from η₀ to η_end in T = ``decay_steps``, then flat.

    p = 1 is a linear decay. Same as ``optax.polynomial_schedule`` with ``transition_begin=0``.

    Args:
        init_value: η₀ ≥ 0, the learning rate at t = 0.
        end_value: η_end ≥ 0, the learning rate from t = T on (above η₀, the schedule rises instead).
        decay_steps: T, a Python or NumPy integer ≥ 1.
        power: p > 0; p > 1 falls faster at first, p < 1 slower.

    Returns:
        The ``optax.Schedule`` t ↦ (η₀ − η_end)(1 − min(t, T)/T)^p + η_end (a float array shaped like t).

    Raises:
        TypeError: if ``init_value``, ``end_value`` or ``power`` is not a real number, or ``decay_steps`` is not
            an integer.
        ValueError: if ``init_value`` or ``end_value`` is negative, ``power`` is not positive, any of them is
            infinite or NaN, or ``decay_steps`` < 1.
    """
    check_hyperparameter("init_value", init_value)
    check_hyperparameter("end_value", end_value)
    check_hyperparameter("power", power, low=1e-300)
    steps = _steps("decay_steps", decay_steps)
    return lambda count: (init_value - end_value) * (1 - jnp.minimum(_t(count), steps) / steps) ** power + end_value


def cosine_decay(init_value: float, decay_steps: int, end_value: float = 0.0) -> optax.Schedule:
    r"""ηᵗ = η_end + (η₀ − η_end) · ½(1 + cos(π · min(t, T)/T)) (Loshchilov & Hutter 2017), T = ``decay_steps``.

    Args:
        init_value: η₀ ≥ 0, the learning rate at t = 0.
        decay_steps: T, a Python or NumPy integer ≥ 1: the half cosine period, after which η stays at η_end.
        end_value: η_end ≥ 0, the learning rate from t = T on.

    Returns:
        The ``optax.Schedule`` t ↦ η_end + (η₀ − η_end) · ½(1 + cos(π · min(t, T)/T)) (a float array shaped like
        t).

    Raises:
        TypeError: if ``init_value`` or ``end_value`` is not a real number, or ``decay_steps`` is not an integer.
        ValueError: if ``init_value`` or ``end_value`` is negative, infinite or NaN, or ``decay_steps`` < 1.
    """
    check_hyperparameter("init_value", init_value)
    check_hyperparameter("end_value", end_value)
    steps = _steps("decay_steps", decay_steps)
    return lambda count: (
        end_value + (init_value - end_value) * 0.5 * (1 + jnp.cos(math.pi * jnp.minimum(_t(count), steps) / steps))
    )


def linear_warmup_decay(
    peak_value: float, warmup_steps: int, total_steps: int, end_value: float = 0.0
) -> optax.Schedule:
    r"""Warm-up then decay (BERT's schedule): ηᵗ rises linearly from 0 to η_peak over W = ``warmup_steps``
    updates, then falls linearly to η_end at T = ``total_steps`` and stays there:

        ηᵗ = η_peak · t/W                                   for t < W,
        ηᵗ = η_end + (η_peak − η_end) · (T − t)/(T − W)      for W ≤ t ≤ T,   η_end after.

    Args:
        peak_value: η_peak ≥ 0, the learning rate at t = W.
        warmup_steps: W, a Python or NumPy integer ≥ 0 (0: no warm-up, the schedule starts at η_peak).
        total_steps: T, a Python or NumPy integer > W, the update at which η reaches η_end.
        end_value: η_end ≥ 0, the learning rate from t = T on.

    Returns:
        The ``optax.Schedule`` t ↦ ηᵗ above (a float array shaped like t).

    Raises:
        TypeError: if ``peak_value`` or ``end_value`` is not a real number, or ``warmup_steps`` or
            ``total_steps`` is not an integer.
        ValueError: if ``peak_value`` or ``end_value`` is negative, infinite or NaN, ``warmup_steps`` < 0, or
            ``total_steps`` ≤ ``warmup_steps``.
    """
    check_hyperparameter("peak_value", peak_value)
    check_hyperparameter("end_value", end_value)
    warmup = _steps("warmup_steps", warmup_steps, minimum=0)
    total = _steps("total_steps", total_steps, minimum=warmup + 1)

    def schedule(count: jax.typing.ArrayLike) -> jax.Array:
        t = _t(count)
        rise = peak_value * t / max(warmup, 1)
        fall = end_value + (peak_value - end_value) * (total - jnp.clip(t, warmup, total)) / (total - warmup)
        return jnp.where(t < warmup, rise, fall)

    return schedule


def linear_warmup(schedule: optax.Schedule, warmup_steps: int) -> optax.Schedule:
    r"""Prefix any schedule with a linear warm-up: ηᵗ = η(0)·t/W for t < W, then ηᵗ = η(t − W).

    ``schedule`` is a decay (or a constant) starting at its peak η(0); W = ``warmup_steps``.

    Args:
        schedule: the ``optax.Schedule`` t ↦ η(t) to follow after the warm-up, shifted by W updates; it is not
            called (nor checked) here.
        warmup_steps: W, a Python or NumPy integer ≥ 0 (0: ``schedule`` itself).

    Returns:
        The ``optax.Schedule`` t ↦ η(0)·t/W for t < W, η(t − W) after (a float array shaped like t).

    Raises:
        TypeError: if ``schedule`` is not callable, or ``warmup_steps`` is not an integer.
        ValueError: if ``warmup_steps`` < 0.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be an optax.Schedule (a callable), got {type(schedule).__name__}")
    warmup = _steps("warmup_steps", warmup_steps, minimum=0)

    def warmed(count: jax.typing.ArrayLike) -> jax.Array:
        t = _t(count)
        after = jnp.asarray(schedule(jnp.maximum(t - warmup, 0)), dtype=t.dtype)
        return jnp.where(t < warmup, schedule(0) * t / max(warmup, 1), after)

    return warmed


def transformer(d_model: int, warmup_steps: int, scale: float = 1.0) -> optax.Schedule:
    r"""The Transformer's warm-up schedule (Vaswani et al. 2017, eq. 3), with step number s = t + 1:

        ηᵗ = c · d_model^−½ · min(s^−½, s · W^−1.5),

    linear warm-up for s ≤ W = ``warmup_steps``, peak c·(d_model·W)^−½ at s = W, then ∝ 1/√s. c = ``scale``.

    Args:
        d_model: the model width, a Python or NumPy integer ≥ 1 (512 in the paper).
        warmup_steps: W, a Python or NumPy integer ≥ 1 (4000 in the paper).
        scale: c ≥ 0, a constant factor (1 in the paper).

    Returns:
        The ``optax.Schedule`` t ↦ ηᵗ above (a float array shaped like t).

    Raises:
        TypeError: if ``d_model`` or ``warmup_steps`` is not an integer, or ``scale`` is not a real number.
        ValueError: if ``d_model`` or ``warmup_steps`` < 1, or ``scale`` is negative, infinite or NaN.
    """
    d = _steps("d_model", d_model)
    warmup = _steps("warmup_steps", warmup_steps)
    check_hyperparameter("scale", scale)

    def schedule(count: jax.typing.ArrayLike) -> jax.Array:
        s = _t(count) + 1.0
        return scale * d**-0.5 * jnp.minimum(s**-0.5, s * warmup**-1.5)

    return schedule
