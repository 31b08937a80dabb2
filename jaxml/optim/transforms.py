r"""Building blocks of the lecture's optimizers, each an ``optax.GradientTransformationExtraArgs``.

Every optimizer of the lecture (SCOPE §4.8) has the form

    θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ / σᵢᵗ) mᵢᵗ

and is assembled from three kinds of block:

* **momentum** :func:`scale_by_momentum` — the numerator m: the heavy ball mᵗ = λmᵗ⁻¹ + uᵗ of the lecture, or
  the exponential moving average mᵗ = βmᵗ⁻¹ + (1−β)gᵗ that Adam uses (bias correction optional);
* **root mean square** :func:`rms_mean` (Adagrad) and :func:`rms_ema` (RMSProp, Adam) — the denominator σ, a
  running *weighted mean* of |g|² whose square root is taken. The three methods differ only in the weight aₜ
  they give the newest gradient: (σᵗ)² = (1 − aₜ)(σᵗ⁻¹)² + aₜ|gᵗ|²;
* **learning rate** :func:`scale_by_learning_rate` — multiplies by −ηᵗ (a float or an ``optax.Schedule``).

The RMS blocks *output the denominator* σ + ε (a pytree shaped like the gradient), not a scaled gradient: σ
and m must both be statistics of the *raw* gradient, which a serial ``optax.chain`` cannot arrange (each link
sees the previous link's output). :func:`jaxml.optim.combine.divide` feeds one gradient to both and divides;
:func:`scale_by_adagrad` and :func:`scale_by_rms` are g / σ built that way, the serial-friendly forms.

Complex parameters: |g|² = g·ḡ is real, so σ² (and σ) are real arrays of the parameters' real dtype, as in
optax; m keeps the parameters' (complex) dtype. Feed the *conjugate* gradient, as optax expects.

States are NamedTuples holding the lecture's quantities (``m``, ``sigma_sq``, a step ``count``), so they can be
read by name: ``optax.tree_utils.tree_get(state, "sigma_sq")``. Every ``update`` accepts and ignores extra
keyword arguments (``optax.GradientTransformationExtraArgs``).

Example:
    >>> import jax.numpy as jnp, optax
    >>> from jaxml.optim import transforms as T
    >>> opt = optax.chain(T.scale_by_learning_rate(0.1), T.scale_by_momentum(0.9))  # the lecture's heavy ball
    >>> state = opt.init(jnp.zeros(2))
    >>> m1, state = opt.update(jnp.array([1.0, -2.0]), state)   # m¹ = −η g⁰
    >>> m1
    Array([-0.1,  0.2], dtype=float32)
    >>> optax.tree_utils.tree_get(state, "m")
    Array([-0.1,  0.2], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml.optim.combine import divide, identity, pytree_fn

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
# Hyper-parameter and tree checks (all at construction or trace time: nothing runs per step)
# --------------------------------------------------------------------------------------------------------------


def _concrete_float(value: Any) -> float | None:
    """``value`` as a float when it is a concrete Python/NumPy real number, else ``None`` (arrays, tracers)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number):
        if np.iscomplexobj(value):
            return None
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
    """Check a hyper-parameter's domain: finite, ``low ≤ value`` (and ``value < high`` when ``high`` is given).

    Only concrete Python/NumPy numbers are checked: a JAX array may be a tracer (under ``vmap``, ``jit`` or
    ``optax.inject_hyperparams``), where a Python-level comparison is impossible. With ``schedule_ok`` a
    callable is accepted and probed once at t = 0 (see :func:`scale_by_learning_rate`). Returns ``value``.

    Raises:
        ValueError: a concrete number outside its domain, infinite or NaN; the message names the argument.
        TypeError: neither a number, an array nor (with ``schedule_ok``) a callable returning a real scalar.

    Example:
        >>> check_hyperparameter("beta", 0.9, high=1.0)
        0.9
        >>> check_hyperparameter("beta", float("inf"))
        Traceback (most recent call last):
        ...
        ValueError: beta must be a finite number in [0, ∞), got inf
    """
    if schedule_ok and callable(value):
        _check_schedule(name, value, low=low, high=high)
        return value
    concrete = _concrete_float(value)
    if concrete is None:
        if isinstance(value, (jax.Array, np.ndarray)) and not isinstance(value, (bool, np.bool_)):
            return value
        expected = "a number or an optax.Schedule" if schedule_ok else "a number"
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}: {value!r}")
    _check_domain(name, concrete, low=low, high=high)
    return value


def _check_domain(name: str, value: float, *, low: float, high: float | None) -> None:
    domain = f"[{low:g}, {high:g})" if high is not None else f"[{low:g}, ∞)"
    if not math.isfinite(value) or value < low or (high is not None and not value < high):
        raise ValueError(f"{name} must be a finite number in {domain}, got {value!r}")


def _check_schedule(name: str, schedule: Callable[..., Any], *, low: float, high: float | None) -> None:
    """Call ``schedule`` once at t = 0, as the first update will, and check it returns a real scalar in range.

    Only ηᵗ at t = 0 can be checked at construction; later values are the schedule's responsibility. If the
    result is a tracer (the schedule closes over traced values) only its shape and dtype are checked.
    """
    try:
        result = schedule(jnp.zeros([], jnp.int32))
    except Exception as error:  # any failure of a user's schedule is reported as a type problem
        raise TypeError(f"{name}: the schedule failed when called with t = 0: {error!r}") from error
    try:
        value = jnp.asarray(result)
    except (TypeError, ValueError):
        value = None
    real = value is not None and any(jnp.issubdtype(value.dtype, kind) for kind in (jnp.floating, jnp.integer))
    if not real or value.shape != ():
        raise TypeError(f"{name}: a schedule must return a real scalar, got {result!r} at t = 0")
    try:
        concrete = float(value)
    except jax.errors.ConcretizationTypeError:
        return
    _check_domain(f"{name} (the schedule at t = 0)", concrete, low=low, high=high)


def _check_like(block: str, updates: optax.Updates, reference: optax.Updates) -> None:
    """Raise a readable ``ValueError`` when ``updates`` are not shaped like the tree ``init`` saw."""
    if jax.tree.structure(updates) != jax.tree.structure(reference):
        raise ValueError(
            f"{block}.update: the updates' tree {jax.tree.structure(updates)} is not the tree the state was "
            f"initialised with, {jax.tree.structure(reference)}; call init on parameters shaped like the gradients"
        )
    for (path, u), r in zip(jax.tree.leaves_with_path(updates), jax.tree.leaves(reference)):
        if jnp.shape(u) != jnp.shape(r):
            raise ValueError(
                f"{block}.update: the update at {jax.tree_util.keystr(path) or 'the root'} has shape "
                f"{jnp.shape(u)}, the state was initialised with shape {jnp.shape(r)}"
            )


# --------------------------------------------------------------------------------------------------------------
# Elementwise helpers
# --------------------------------------------------------------------------------------------------------------


def _cast(x: jax.Array | float, like: jax.typing.ArrayLike) -> jax.Array:
    return jnp.asarray(x, dtype=jnp.result_type(like))


def _abs_sq(g: jax.Array) -> jax.Array:
    """|g|² = g·ḡ, real for complex g (optax's ``numerics.abs_sq``); g² for real g."""
    return (g.conj() * g).real if jnp.iscomplexobj(g) else g * g


def _real_zeros_like(params: optax.Params) -> optax.Params:
    """Zeros shaped like ``params`` in their *real* dtype (float32 for complex64): σ² of complex parameters."""
    return jax.tree.map(lambda p: jnp.real(jnp.zeros_like(p)), params)


def _debiased_weight(beta: float | jax.Array, count: jax.Array) -> jax.Array:
    """aₜ = (1−β)/(1−βᵗ), the weight of the newest term in a bias-corrected moving average.

    Written as expm1(ℓ)/expm1(tℓ) with ℓ = log β: 1−βᵗ by subtraction loses ~5 digits in float32 when β ≈ 1
    (1 − 0.999² cancels); this form is accurate to a few ulps and exactly 1 at t = 1.
    """
    log_beta = jnp.log1p(jnp.asarray(beta, dtype=jnp.result_type(beta, float)) - 1)
    return jnp.expm1(log_beta) / jnp.expm1(count * log_beta)


def _mix(old: jax.Array, new: jax.Array, keep: Any, take: Any) -> jax.Array:
    """keep · old + take · new in the wider of the two dtypes (a bf16 ``old`` is not rounded before adding)."""
    dtype = jnp.promote_types(old.dtype, new.dtype)
    old, new = old.astype(dtype), new.astype(dtype)
    return jnp.asarray(keep, dtype) * old + jnp.asarray(take, dtype) * new


# --------------------------------------------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------------------------------------------


class LearningRateState(NamedTuple):
    """State of :func:`scale_by_learning_rate`: the number of updates made so far (the schedule's t)."""

    count: jax.Array  # int32 scalar


def scale_by_learning_rate(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    r"""Multiply the updates by −ηᵗ: uᵗ ↦ −ηᵗ uᵗ.

    ``learning_rate`` is a number η (ηᵗ = η) or an ``optax.Schedule`` t ↦ ηᵗ, evaluated at t = 0, 1, 2, …
    (the number of updates made before this one), as in optax. A concrete η that is negative, infinite or NaN
    raises ``ValueError``; a schedule is called once here at t = 0 (an int32 scalar, as in ``update``) and must
    return a real scalar (else ``TypeError``) that is finite and ≥ 0 (else ``ValueError``). Later ηᵗ are not
    checked.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_learning_rate(lambda t: 0.5 ** t)
        >>> s = opt.init(jnp.zeros(1))
        >>> u, s = opt.update(jnp.ones(1), s); u           # −η⁰ g
        Array([-1.], dtype=float32)
        >>> u, s = opt.update(jnp.ones(1), s); u           # −η¹ g
        Array([-0.5], dtype=float32)
        >>> scale_by_learning_rate(lambda t: "fast")
        Traceback (most recent call last):
        ...
        TypeError: learning_rate: a schedule must return a real scalar, got 'fast' at t = 0
    """
    check_hyperparameter("learning_rate", learning_rate, schedule_ok=True)
    return optax.GradientTransformationExtraArgs(pytree_fn(_lr_init), pytree_fn(_lr_update, hyper=(learning_rate,)))


def _lr_init(params: optax.Params) -> LearningRateState:
    del params
    return LearningRateState(count=jnp.zeros([], jnp.int32))


def _lr_update(
    learning_rate: optax.ScalarOrSchedule,
    updates: optax.Updates,
    state: LearningRateState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, LearningRateState]:
    del params, extra_args
    eta = learning_rate(state.count) if callable(learning_rate) else learning_rate
    updates = jax.tree.map(lambda u: -_cast(eta, u) * u, updates)
    return updates, LearningRateState(count=optax.safe_increment(state.count))


# --------------------------------------------------------------------------------------------------------------
# Momentum
# --------------------------------------------------------------------------------------------------------------


class MomentumState(NamedTuple):
    """State of :func:`scale_by_momentum`.

    Attributes:
        count: number of updates accumulated (t).
        m: the momentum mᵗ that was last output (bias-corrected m̂ᵗ when bias correction is on), in the
            accumulator dtype.
    """

    count: jax.Array  # int32 scalar
    m: optax.Updates


def scale_by_momentum(
    beta: float | jax.Array,
    *,
    ema: bool = False,
    bias_correction: bool = False,
    accumulator_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Momentum: replace the incoming update uᵗ by a weighted sum of all past ones, m⁰ = 0.

    * Heavy ball (default, SCOPE §4.2): mᵗ = λmᵗ⁻¹ + uᵗ with λ = ``beta``. Placed *after*
      :func:`scale_by_learning_rate` (uᵗ = −ηgᵗ⁻¹) this is the lecture's mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ,
      so m¹ = −ηg⁰, m² = −ληg⁰ − ηg¹, … (optax's ``trace`` accumulates the *gradient* and scales by −η
      afterwards; the two agree for a constant η, not under a schedule).
    * ``ema=True`` (Adam's first moment): mᵗ = βmᵗ⁻¹ + (1−β)gᵗ, an exponential moving average.
    * ``bias_correction=True`` (with ``ema``): output m̂ᵗ = mᵗ / (1−βᵗ), which removes the pull towards m⁰ = 0
      (Kingma & Ba 2015). The state holds m̂ itself, updated as m̂ᵗ = (1−aₜ)m̂ᵗ⁻¹ + aₜgᵗ with
      aₜ = (1−β)/(1−βᵗ) — the same number, one multiply fewer per step.

    ``accumulator_dtype`` (e.g. ``jnp.bfloat16``) stores m in that dtype, as optax's ``accumulator_dtype`` /
    ``mu_dtype`` do: each step computes mᵗ in the wider of the stored and the incoming dtype, outputs it in the
    incoming updates' dtype and stores it rounded to ``accumulator_dtype``. ``None``: the parameters' dtype.
    ``beta`` ∈ [0, 1) (checked when it is a concrete number).

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_momentum(0.9, ema=True, bias_correction=True, accumulator_dtype=jnp.bfloat16)
        >>> s = opt.init(jnp.zeros(1))
        >>> m, s = opt.update(jnp.array([2.0]), s); m      # m̂¹ = g⁰: no pull towards 0
        Array([2.], dtype=float32)
        >>> s.m.dtype
        dtype(bfloat16)
    """
    check_hyperparameter("beta", beta, high=1.0)
    if bias_correction and not ema:
        raise ValueError("bias_correction=True needs ema=True: the heavy ball mᵗ = λmᵗ⁻¹ + uᵗ has no bias")
    dtype = None if accumulator_dtype is None else jax.dtypes.canonicalize_dtype(accumulator_dtype)
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_momentum_init, static=(dtype,)),
        pytree_fn(_momentum_update, static=(bool(ema), bool(bias_correction)), hyper=(beta,)),
    )


def _momentum_init(dtype: Any, params: optax.Params) -> MomentumState:
    return MomentumState(count=jnp.zeros([], jnp.int32), m=optax.tree.zeros_like(params, dtype=dtype))


def _momentum_update(
    ema: bool,
    bias_correction: bool,
    beta: float | jax.Array,
    updates: optax.Updates,
    state: MomentumState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, MomentumState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)  # Python scalars too, as optax allows
    _check_like("scale_by_momentum", updates, state.m)
    count = optax.safe_increment(state.count)
    if not ema:
        keep, take = beta, 1.0
    elif bias_correction:
        take = _debiased_weight(beta, count)
        keep = 1 - take
    else:
        keep, take = beta, 1 - beta
    m = jax.tree.map(lambda m, u: _mix(m, u, keep, take), state.m, updates)
    out = jax.tree.map(lambda m, u: m.astype(u.dtype), m, updates)
    stored = jax.tree.map(lambda m, old: m.astype(old.dtype), m, state.m)
    return out, MomentumState(count=count, m=stored)


# --------------------------------------------------------------------------------------------------------------
# Root mean square
# --------------------------------------------------------------------------------------------------------------


class RmsState(NamedTuple):
    """State of the RMS blocks.

    Attributes:
        count: number of gradients seen (t + 1 after gradient gᵗ).
        sigma_sq: (σᵗ)², the (weighted) mean of |g|² so far, in the parameters' real dtype; σ = √sigma_sq.
    """

    count: jax.Array  # int32 scalar
    sigma_sq: optax.Updates


def _rms_block(
    name: str,
    take_weight: Callable[[Any, jax.Array], Any],
    alpha: float | jax.Array | None,
    eps: float | jax.Array,
    eps_in_sqrt: bool,
) -> optax.GradientTransformationExtraArgs:
    """(σᵗ)² = (1 − aₜ)(σᵗ⁻¹)² + aₜ|gᵗ|² with aₜ = ``take_weight(alpha, t + 1)``; outputs σᵗ + ε or √((σᵗ)² + ε).

    ``take_weight`` is a module-level function (part of the block's tree structure); α and ε are its leaves."""
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_rms_init), pytree_fn(_rms_update, static=(name, take_weight, bool(eps_in_sqrt)), hyper=(alpha, eps))
    )


def _rms_init(params: optax.Params) -> RmsState:
    return RmsState(count=jnp.zeros([], jnp.int32), sigma_sq=_real_zeros_like(params))


def _rms_update(
    name: str,
    take_weight: Callable[[Any, jax.Array], Any],
    eps_in_sqrt: bool,
    alpha: float | jax.Array | None,
    eps: float | jax.Array,
    updates: optax.Updates,
    state: RmsState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, RmsState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)
    _check_like(name, updates, state.sigma_sq)
    count = optax.safe_increment(state.count)
    take = take_weight(alpha, count)
    mix = lambda s, g: _mix(s, _abs_sq(g), 1 - take, take).astype(s.dtype)
    sigma_sq = jax.tree.map(mix, state.sigma_sq, updates)
    if eps_in_sqrt:
        # u / √(σ² + ε) compiles to u·rsqrt(σ² + ε): one cheap op instead of a square root and a division
        denominator = jax.tree.map(lambda s: jnp.sqrt(s + _cast(eps, s)), sigma_sq)
    else:
        denominator = jax.tree.map(lambda s: jnp.sqrt(s) + _cast(eps, s), sigma_sq)
    return denominator, RmsState(count=count, sigma_sq=sigma_sq)


def _mean_weight(alpha: None, count: jax.Array) -> jax.Array:
    """aₜ = 1/(t+1): the plain running mean of Adagrad (no α)."""
    del alpha
    return 1.0 / count


def _ema_weight(alpha: float | jax.Array, count: jax.Array) -> jax.Array:
    """aₜ = 1 − α, except a₁ = 1 (σ⁰ = |g⁰|); a scalar select, not an elementwise one."""
    return jnp.where(count == 1, 1.0, 1 - alpha)


def rms_mean(eps: float | jax.Array = 0.0, *, eps_in_sqrt: bool = False) -> optax.GradientTransformationExtraArgs:
    r"""Adagrad's denominator: the root mean square of *all* past gradients (SCOPE §4.4).

        σᵢᵗ = √( 1/(t+1) · Σₖ₌₀ᵗ |gᵢᵏ|² ),   output σᵢᵗ + ε  (or √((σᵢᵗ)² + ε) with ``eps_in_sqrt``).

    The state keeps the running mean (σᵗ)² = (t/(t+1))(σᵗ⁻¹)² + (1/(t+1))|gᵗ|². Note optax's
    :func:`optax.scale_by_rss` (its ``adagrad``) keeps the *sum* Σ g² instead: the lecture's mean is the same
    with the learning rate multiplied by √(t+1). The mean forgets nothing but is a mean, so once the
    gradients become small σ shrinks again (slowly) — unlike the sum, which can only grow.

    Use it through :func:`scale_by_adagrad` or as the denominator of :func:`jaxml.optim.combine.divide`.
    ``eps`` ≥ 0.

    Example:
        >>> import jax.numpy as jnp
        >>> rms = rms_mean()
        >>> s = rms.init(jnp.zeros(1))
        >>> sigma, s = rms.update(jnp.array([3.0]), s)
        >>> sigma, s = rms.update(jnp.array([-1.0]), s)
        >>> sigma, s.sigma_sq                               # σ² = (3² + 1²)/2
        (Array([2.236068], dtype=float32), Array([5.], dtype=float32))
    """
    check_hyperparameter("eps", eps)
    return _rms_block("rms_mean", _mean_weight, None, eps, eps_in_sqrt)


def rms_ema(
    alpha: float | jax.Array = 0.9,
    eps: float | jax.Array = 0.0,
    *,
    bias_correction: bool = False,
    eps_in_sqrt: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""RMSProp's and Adam's denominator: an exponential moving average of |g|², rooted.

    * ``bias_correction=False`` — the lecture's RMSProp (SCOPE §4.5):
      σᵢ⁰ = |gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)|gᵢᵗ|² ).
      optax's :func:`optax.scale_by_rms` starts instead from ν = 0 (``initial_scale``), so its σ⁰ = √(1−α)|g⁰|
      and its first steps are 1/√(1−α) times larger; after the first gradient both follow the same recurrence.
    * ``bias_correction=True`` — Adam's second moment (Kingma & Ba 2015): vᵗ = βvᵗ⁻¹ + (1−β)|gᵗ|² from v = 0,
      v̂ᵗ = vᵗ/(1−βᵗ⁺¹), σᵗ = √v̂ᵗ. The state holds v̂ = σ² directly (aₜ = (1−β)/(1−βᵗ⁺¹)).

    Both output σᵢᵗ + ε (ε outside the root, as in Adam), or √((σᵢᵗ)² + ε) with ``eps_in_sqrt`` (as optax's
    RMSProp and Adagrad; also cheaper, see :func:`jaxml.optim.rmsprop`). ``alpha`` ∈ [0, 1), ``eps`` ≥ 0.

    Example:
        >>> import jax.numpy as jnp
        >>> rms = rms_ema(0.5)
        >>> s = rms.init(jnp.zeros(1, jnp.complex64))
        >>> sigma, s = rms.update(jnp.array([3 + 4j]), s)   # σ⁰ = |g⁰|, real for complex g
        >>> sigma
        Array([5.], dtype=float32)
    """
    check_hyperparameter("alpha", alpha, high=1.0)
    check_hyperparameter("eps", eps)
    return _rms_block("rms_ema", _debiased_weight if bias_correction else _ema_weight, alpha, eps, eps_in_sqrt)


def scale_by_adagrad(
    eps: float | jax.Array = 1e-8, *, eps_in_sqrt: bool = False
) -> optax.GradientTransformationExtraArgs:
    r"""gᵢᵗ ↦ gᵢᵗ / (σᵢᵗ + ε) with Adagrad's σᵢᵗ = √(1/(t+1) Σₖ |gᵢᵏ|²) (see :func:`rms_mean`); with
    ``eps_in_sqrt``, gᵢᵗ / √((σᵢᵗ)² + ε) as :func:`jaxml.optim.adagrad` uses it.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_adagrad(eps=0.0)
        >>> u, s = opt.update(jnp.array([-4.0, 0.0]), opt.init(jnp.zeros(2))); u   # g⁰/|g⁰|; 0/0 := 0
        Array([-1.,  0.], dtype=float32)
    """
    return divide(identity(), rms_mean(eps, eps_in_sqrt=eps_in_sqrt))


def scale_by_rms(
    alpha: float | jax.Array = 0.9,
    eps: float | jax.Array = 1e-8,
    *,
    bias_correction: bool = False,
    eps_in_sqrt: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""gᵢᵗ ↦ gᵢᵗ / (σᵢᵗ + ε) with RMSProp's (or, bias-corrected, Adam's) σ (see :func:`rms_ema`); with
    ``eps_in_sqrt``, gᵢᵗ / √((σᵢᵗ)² + ε) as :func:`jaxml.optim.rmsprop` uses it.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_rms(0.5, eps=0.0)
        >>> u, s = opt.update(jnp.array([-4.0]), opt.init(jnp.zeros(1))); u        # σ⁰ = |g⁰|
        Array([-1.], dtype=float32)
    """
    return divide(identity(), rms_ema(alpha, eps, bias_correction=bias_correction, eps_in_sqrt=eps_in_sqrt))
