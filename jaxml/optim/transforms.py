r"""Building blocks of the lecture's optimizers, each an :class:`optax.GradientTransformation`.

Every optimizer of the lecture (SCOPE §4.8) has the form

    θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ / σᵢᵗ) mᵢᵗ

and is assembled from three kinds of block:

* **momentum** :func:`scale_by_momentum` — the numerator m: the heavy ball mᵗ = λmᵗ⁻¹ + uᵗ of the lecture, or
  the exponential moving average mᵗ = βmᵗ⁻¹ + (1−β)gᵗ that Adam uses (bias correction optional);
* **root mean square** :func:`rms_mean` (Adagrad) and :func:`rms_ema` (RMSProp, Adam) — the denominator σ, a
  running *weighted mean* of g² whose square root is taken. The three methods differ only in the weight aₜ
  they give the newest gradient: (σᵗ)² = (1 − aₜ)(σᵗ⁻¹)² + aₜ(gᵗ)²;
* **learning rate** :func:`scale_by_learning_rate` — multiplies by −ηᵗ (a float or an ``optax.Schedule``).

The RMS blocks *output the denominator* σ + ε (a pytree shaped like the gradient), not a scaled gradient: σ
and m must both be statistics of the *raw* gradient, which a serial ``optax.chain`` cannot arrange (each link
sees the previous link's output). :mod:`jaxml.optim.combine` feeds one gradient to both and divides.
:func:`scale_by_adagrad` and :func:`scale_by_rms` are the serial-friendly g / (σ + ε) forms.

States are NamedTuples holding the lecture's quantities (m, σ², a step counter), so a trajectory's σ can be
read off its optimizer states.

Example:
    >>> import jax.numpy as jnp, optax
    >>> from jaxml.optim import transforms as T
    >>> opt = optax.chain(T.scale_by_learning_rate(0.1), T.scale_by_momentum(0.9))  # the lecture's heavy ball
    >>> state = opt.init(jnp.zeros(2))
    >>> m1, state = opt.update(jnp.array([1.0, -2.0]), state)   # m¹ = −η g⁰
    >>> m1
    Array([-0.1,  0.2], dtype=float32)
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "LearningRateState",
    "MomentumState",
    "RmsState",
    "check_hyperparameter",
    "rms_ema",
    "rms_mean",
    "scale_by_adagrad",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_rms",
]


# --------------------------------------------------------------------------------------------------------------
# Hyper-parameter checks
# --------------------------------------------------------------------------------------------------------------


def _concrete_float(value: Any) -> float | None:
    """``value`` as a float when it is a concrete Python/NumPy number, else ``None`` (arrays, tracers)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number):
        return float(value)
    return None


def check_hyperparameter(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float | None = None,
    schedule_ok: bool = False,
) -> Any:
    """Check a hyper-parameter's domain ``low ≤ value`` (and ``value < high`` when ``high`` is given).

    Only concrete Python/NumPy numbers are checked: a JAX array may be a tracer (under ``vmap``, ``jit`` or
    ``optax.inject_hyperparams``), where a Python-level comparison is impossible, and a schedule
    (``schedule_ok``) is a callable. Returns ``value`` unchanged.

    Raises:
        ValueError: a concrete number outside its domain (or NaN); the message names the argument.
        TypeError: neither a number, an array nor (with ``schedule_ok``) a callable.
    """
    if schedule_ok and callable(value):
        return value
    concrete = _concrete_float(value)
    if concrete is None:
        if isinstance(value, (jax.Array, np.ndarray)) and not isinstance(value, (bool, np.bool_)):
            return value
        expected = "a number or an optax.Schedule" if schedule_ok else "a number"
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}: {value!r}")
    domain = f"[{low:g}, {high:g})" if high is not None else f"[{low:g}, ∞)"
    if not (concrete >= low) or (high is not None and not concrete < high):
        raise ValueError(f"{name} must lie in {domain}, got {concrete!r}")
    return value


def _cast(x: jax.Array | float, like: jax.Array) -> jax.Array:
    return jnp.asarray(x, dtype=like.dtype)


def _debiased_weight(beta: float | jax.Array, count: jax.Array) -> jax.Array:
    """aₜ = (1−β)/(1−βᵗ), the weight of the newest term in a bias-corrected moving average.

    Written as expm1(ℓ)/expm1(tℓ) with ℓ = log β: 1−βᵗ by subtraction loses ~5 digits in float32 when β ≈ 1
    (1 − 0.999² cancels); this form is accurate to a few ulps and exactly 1 at t = 1.
    """
    log_beta = jnp.log1p(jnp.asarray(beta, dtype=jnp.result_type(beta, float)) - 1)
    return jnp.expm1(log_beta) / jnp.expm1(count * log_beta)


def _tree_mix(old: optax.Updates, new: optax.Updates, keep: jax.Array, take: jax.Array) -> optax.Updates:
    """keep · old + take · new, leaf by leaf, with the scalars cast to each leaf's dtype."""
    return jax.tree.map(lambda o, n: _cast(keep, o) * o + _cast(take, n) * n, old, new)


# --------------------------------------------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------------------------------------------


class LearningRateState(NamedTuple):
    """State of :func:`scale_by_learning_rate`: the number of updates made so far (the schedule's t)."""

    count: jax.Array  # int32 scalar


def scale_by_learning_rate(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformation:
    r"""Multiply the updates by −ηᵗ: uᵗ ↦ −ηᵗ uᵗ.

    ``learning_rate`` is a number η (ηᵗ = η) or an ``optax.Schedule`` t ↦ ηᵗ, evaluated at t = 0, 1, 2, …
    (the number of updates made before this one), as in optax. A concrete η < 0 raises ``ValueError``.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_learning_rate(lambda t: 0.5 ** t)
        >>> s = opt.init(jnp.zeros(1))
        >>> u, s = opt.update(jnp.ones(1), s); u           # −η⁰ g
        Array([-1.], dtype=float32)
        >>> u, s = opt.update(jnp.ones(1), s); u           # −η¹ g
        Array([-0.5], dtype=float32)
    """
    check_hyperparameter("learning_rate", learning_rate, schedule_ok=True)

    def init_fn(params: optax.Params) -> LearningRateState:
        del params
        return LearningRateState(count=jnp.zeros([], jnp.int32))

    def update_fn(
        updates: optax.Updates, state: LearningRateState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, LearningRateState]:
        del params
        eta = learning_rate(state.count) if callable(learning_rate) else learning_rate
        updates = jax.tree.map(lambda u: -_cast(eta, u) * u, updates)
        return updates, LearningRateState(count=optax.safe_increment(state.count))

    return optax.GradientTransformation(init_fn, update_fn)


# --------------------------------------------------------------------------------------------------------------
# Momentum
# --------------------------------------------------------------------------------------------------------------


class MomentumState(NamedTuple):
    """State of :func:`scale_by_momentum`.

    Attributes:
        count: number of updates accumulated (t).
        m: the momentum mᵗ that was last output (bias-corrected m̂ᵗ when bias correction is on).
    """

    count: jax.Array  # int32 scalar
    m: optax.Updates


def scale_by_momentum(
    beta: float | jax.Array,
    *,
    ema: bool = False,
    bias_correction: bool = False,
) -> optax.GradientTransformation:
    r"""Momentum: replace the incoming update uᵗ by a weighted sum of all past ones, m⁰ = 0.

    * Heavy ball (default, SCOPE §4.2): mᵗ = λmᵗ⁻¹ + uᵗ with λ = ``beta``. Placed *after*
      :func:`scale_by_learning_rate` (uᵗ = −ηgᵗ⁻¹) this is the lecture's mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ,
      so m¹ = −ηg⁰, m² = −ληg⁰ − ηg¹, … (optax's ``trace`` accumulates the *gradient* and scales by −η
      afterwards; the two agree for a constant η, not under a schedule).
    * ``ema=True`` (Adam's first moment): mᵗ = βmᵗ⁻¹ + (1−β)gᵗ, an exponential moving average.
    * ``bias_correction=True`` (with ``ema``): output m̂ᵗ = mᵗ / (1−βᵗ), which removes the pull towards m⁰ = 0
      (Kingma & Ba 2015). The state holds m̂ itself, updated as m̂ᵗ = (1−aₜ)m̂ᵗ⁻¹ + aₜgᵗ with
      aₜ = (1−β)/(1−βᵗ) — the same number, one multiply fewer per step.

    ``beta`` ∈ [0, 1) (checked when it is a concrete number).

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_momentum(0.9, ema=True, bias_correction=True)
        >>> s = opt.init(jnp.zeros(1))
        >>> m, s = opt.update(jnp.array([2.0]), s); m      # m̂¹ = g⁰: no pull towards 0
        Array([2.], dtype=float32)
    """
    check_hyperparameter("beta", beta, high=1.0)
    if bias_correction and not ema:
        raise ValueError("bias_correction=True needs ema=True: the heavy ball mᵗ = λmᵗ⁻¹ + uᵗ has no bias")

    def init_fn(params: optax.Params) -> MomentumState:
        return MomentumState(count=jnp.zeros([], jnp.int32), m=optax.tree.zeros_like(params))

    def update_fn(
        updates: optax.Updates, state: MomentumState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, MomentumState]:
        del params
        count = optax.safe_increment(state.count)
        if not ema:
            m = jax.tree.map(lambda m, u: _cast(beta, m) * m + u, state.m, updates)
        elif bias_correction:
            take = _debiased_weight(beta, count)
            m = _tree_mix(state.m, updates, 1 - take, take)
        else:
            m = _tree_mix(state.m, updates, beta, 1 - beta)
        return m, MomentumState(count=count, m=m)

    return optax.GradientTransformation(init_fn, update_fn)


# --------------------------------------------------------------------------------------------------------------
# Root mean square
# --------------------------------------------------------------------------------------------------------------


class RmsState(NamedTuple):
    """State of the RMS blocks.

    Attributes:
        count: number of gradients seen (t + 1 after gradient gᵗ).
        sigma_sq: (σᵗ)², the (weighted) mean of the squared gradients so far; σ = √sigma_sq.
    """

    count: jax.Array  # int32 scalar
    sigma_sq: optax.Updates


def _rms_block(take_weight: Any, eps: float | jax.Array, eps_in_sqrt: bool) -> optax.GradientTransformation:
    """(σᵗ)² = (1 − aₜ)(σᵗ⁻¹)² + aₜ(gᵗ)² with aₜ = ``take_weight(t + 1)``; outputs σᵗ + ε or √((σᵗ)² + ε)."""

    def init_fn(params: optax.Params) -> RmsState:
        return RmsState(count=jnp.zeros([], jnp.int32), sigma_sq=optax.tree.zeros_like(params))

    def update_fn(
        updates: optax.Updates, state: RmsState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, RmsState]:
        del params
        count = optax.safe_increment(state.count)
        take = take_weight(count)
        sigma_sq = jax.tree.map(lambda s, g: _cast(1 - take, s) * s + _cast(take, g) * (g * g), state.sigma_sq, updates)
        if eps_in_sqrt:
            # u / √(σ² + ε) compiles to u·rsqrt(σ² + ε): one cheap op instead of a square root and a division
            denominator = jax.tree.map(lambda s: jnp.sqrt(s + _cast(eps, s)), sigma_sq)
        else:
            denominator = jax.tree.map(lambda s: jnp.sqrt(s) + _cast(eps, s), sigma_sq)
        return denominator, RmsState(count=count, sigma_sq=sigma_sq)

    return optax.GradientTransformation(init_fn, update_fn)


def rms_mean(eps: float | jax.Array = 0.0, *, eps_in_sqrt: bool = False) -> optax.GradientTransformation:
    r"""Adagrad's denominator: the root mean square of *all* past gradients (SCOPE §4.4).

        σᵢᵗ = √( 1/(t+1) · Σₖ₌₀ᵗ (gᵢᵏ)² ),   output σᵢᵗ + ε  (or √((σᵢᵗ)² + ε) with ``eps_in_sqrt``).

    The state keeps the running mean (σᵗ)² = (t/(t+1))(σᵗ⁻¹)² + (1/(t+1))(gᵗ)². Note optax's
    :func:`optax.scale_by_rss` (its ``adagrad``) keeps the *sum* Σ g² instead: the lecture's mean is the same
    with the learning rate multiplied by √(t+1). The mean forgets nothing but is a mean, so once the
    gradients become small σ shrinks again (slowly) — unlike the sum, which can only grow.

    Use it through :func:`scale_by_adagrad` or as the denominator of :func:`jaxml.optim.combine.divide`.
    ``eps`` ≥ 0.
    """
    check_hyperparameter("eps", eps)
    return _rms_block(lambda count: 1.0 / count, eps, eps_in_sqrt)


def rms_ema(
    alpha: float | jax.Array = 0.9,
    eps: float | jax.Array = 0.0,
    *,
    bias_correction: bool = False,
    eps_in_sqrt: bool = False,
) -> optax.GradientTransformation:
    r"""RMSProp's and Adam's denominator: an exponential moving average of g², rooted.

    * ``bias_correction=False`` — the lecture's RMSProp (SCOPE §4.5):
      σᵢ⁰ = |gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)(gᵢᵗ)² ).
      optax's :func:`optax.scale_by_rms` starts instead from ν = 0 (``initial_scale``), so its σ⁰ = √(1−α)|g⁰|
      and its first steps are 1/√(1−α) times larger; after the first gradient both follow the same recurrence.
    * ``bias_correction=True`` — Adam's second moment (Kingma & Ba 2015): vᵗ = βvᵗ⁻¹ + (1−β)(gᵗ)² from v = 0,
      v̂ᵗ = vᵗ/(1−βᵗ⁺¹), σᵗ = √v̂ᵗ. The state holds v̂ = σ² directly (aₜ = (1−β)/(1−βᵗ⁺¹)).

    Both output σᵢᵗ + ε (ε outside the root, as in Adam), or √((σᵢᵗ)² + ε) with ``eps_in_sqrt`` (as optax's
    RMSProp and Adagrad; also cheaper, see :func:`jaxml.optim.rmsprop`). ``alpha`` ∈ [0, 1), ``eps`` ≥ 0.
    """
    check_hyperparameter("alpha", alpha, high=1.0)
    check_hyperparameter("eps", eps)
    if bias_correction:
        take = lambda count: _debiased_weight(alpha, count)
    else:
        # a₁ = 1 makes σ⁰ = |g⁰|; a scalar select, not an elementwise one.
        take = lambda count: jnp.where(count == 1, 1.0, 1 - alpha)
    return _rms_block(take, eps, eps_in_sqrt)


def _divide_by(denominator: optax.GradientTransformation) -> optax.GradientTransformation:
    from jaxml.optim.combine import divide  # combine builds on this module

    return divide(optax.identity(), denominator)


def scale_by_adagrad(eps: float | jax.Array = 1e-8, *, eps_in_sqrt: bool = False) -> optax.GradientTransformation:
    r"""gᵢᵗ ↦ gᵢᵗ / (σᵢᵗ + ε) with Adagrad's σᵢᵗ = √(1/(t+1) Σₖ (gᵢᵏ)²) (see :func:`rms_mean`)."""
    return _divide_by(rms_mean(eps, eps_in_sqrt=eps_in_sqrt))


def scale_by_rms(
    alpha: float | jax.Array = 0.9,
    eps: float | jax.Array = 1e-8,
    *,
    bias_correction: bool = False,
    eps_in_sqrt: bool = False,
) -> optax.GradientTransformation:
    r"""gᵢᵗ ↦ gᵢᵗ / (σᵢᵗ + ε) with RMSProp's (or, bias-corrected, Adam's) σ (see :func:`rms_ema`)."""
    return _divide_by(rms_ema(alpha, eps, bias_correction=bias_correction, eps_in_sqrt=eps_in_sqrt))
