r"""Building blocks of the lecture's optimizers, each an ``optax.GradientTransformationExtraArgs``.

Every optimizer of the lecture (course §4.8) has the form

    θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ / σᵢᵗ) mᵢᵗ

and is assembled from a few kinds of block:

* **first moment** — the numerator m: the lecture's heavy ball mᵗ = λmᵗ⁻¹ + uᵗ (:func:`scale_by_momentum`), or
  Adam's exponential moving average μᵗ = β₁μᵗ⁻¹ + (1−β₁)gᵗ, bias-corrected to m̂ᵗ = μᵗ/(1−β₁ᵗ⁺¹), with an
  optional Nesterov look-ahead (:func:`first_moment`);
* **root mean square** — the denominator σ, the square root of a running average ν of \|g|²: :func:`rms_mean`
  (Adagrad: the plain mean), :func:`rms_ema` (RMSProp; Adam with bias correction), :func:`rms_belief`
  (AdaBelief: the average of \|g − μ|², the squared distance of g from its first moment);
* **elementwise** — :func:`running_max` (AMSGrad: σ never shrinks) and :func:`add_eps` (u + ε);
* **learning rate** :func:`scale_by_learning_rate` — multiplies by −ηᵗ (a float or an ``optax.Schedule``) and
  keeps the optimizer's one step count t.

The RMS blocks *output the denominator* σ + ε (a pytree shaped like the gradient), not a scaled gradient: σ
and m must both be statistics of the *raw* gradient, which a serial ``optax.chain`` cannot arrange (each link
sees the previous link's output). :func:`jaxml.optim.combine.divide` feeds one gradient to both and divides;
:func:`scale_by_adagrad` and :func:`scale_by_rms` are g / σ built that way.

**States follow optax's conventions.** They are NamedTuples holding the *raw* running averages, named as optax
names the same quantity: ``mu`` (Adam's first moment μ, not m̂), ``nu`` (the running average of \|g|² whose
root is σ: Adagrad's mean, RMSProp's average, Adam's ν — not ν̂; AdaBelief's s), and one ``count`` per
optimizer, in :class:`~jaxml.optim.combine.LearningRateState`. Bias corrections are applied in ``update``
(m̂ = μ/(1−β₁ᵗ), ν̂ = ν/(1−β₂ᵗ)), exactly as optax does. Quantities optax does not have get their own names:
``m`` (the heavy ball, a sum of past *steps*) and ``maximum`` (AMSGrad's running max of σ).
:func:`sigma` returns the lecture's σ from a state.

**The step count t.** Blocks that need t (bias correction, Nesterov, RMSProp's σ⁰ = \|g⁰|, Adagrad's mean)
keep no counter: they read the keyword argument ``count`` of ``update`` (t, the number of updates made before
this one), which :func:`~jaxml.optim.combine.chain` and :func:`~jaxml.optim.combine.fan_out` pass from the
learning-rate block's state. Used on their own (or inside ``optax.chain``), give them ``count=`` yourself.

Complex parameters: \|g|² = g·ḡ is real, so ν (and σ) are real arrays of the parameters' real dtype, as in
optax; μ and m keep the parameters' (complex) dtype. Feed the *conjugate* gradient, as optax expects. Every
``update`` accepts and ignores extra keyword arguments (``optax.GradientTransformationExtraArgs``).

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

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxml._checks import check_hyperparameter
from jaxml.optim.combine import LearningRateState, _Bound, _empty_init, divide, identity, pytree_fn, step_count

__all__ = [
    "FirstMomentState",
    "LearningRateState",
    "MomentumState",
    "RmsState",
    "RunningMaxState",
    "add_eps",
    "check_hyperparameter",
    "first_moment",
    "rms_belief",
    "rms_ema",
    "rms_mean",
    "running_max",
    "scale_by_adagrad",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_rms",
    "sigma",
]


# --------------------------------------------------------------------------------------------------------------
# Tree checks and the step count (at trace time: nothing runs per step)
# --------------------------------------------------------------------------------------------------------------


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


def _this_update(block: str, count: Any) -> jax.Array:
    """t + 1, the number of updates *including* this one (optax's ``count_inc``), from the ``count`` t passed in."""
    if count is None:
        raise TypeError(
            f"{block}.update needs the step count t: use the block inside jaxml.optim.chain (or fan_out/divide) "
            "together with scale_by_learning_rate, whose state holds the optimizer's one count, or pass "
            "count=t (the number of updates made before this one) to update"
        )
    return optax.safe_increment(jnp.asarray(count, jnp.int32))


# --------------------------------------------------------------------------------------------------------------
# Elementwise helpers
# --------------------------------------------------------------------------------------------------------------


def _cast(x: jax.Array | float, like: jax.typing.ArrayLike) -> jax.Array:
    return jnp.asarray(x, dtype=jnp.result_type(like))


def _abs_sq(g: jax.Array) -> jax.Array:
    """|g|² = g·ḡ, real for complex g (optax's ``numerics.abs_sq``); g² for real g."""
    return (g.conj() * g).real if jnp.iscomplexobj(g) else g * g


def _real_zeros_like(params: optax.Params) -> optax.Params:
    """Zeros shaped like ``params`` in their *real* dtype (float32 for complex64): ν of complex parameters."""
    return jax.tree.map(lambda p: jnp.real(jnp.zeros_like(p)), params)


def _one_minus_power(beta: float | jax.Array, count: jax.Array) -> jax.Array:
    """1 − βᵗ (t = ``count``), the bias correction's divisor, in the wider of β's dtype and float.

    Written as −expm1(t·ℓ) with ℓ = log1p(−(1−β)): 1 − βᵗ by subtraction loses ~5 digits in float32 when β ≈ 1
    (1 − 0.999² cancels); this form is accurate to a few ulps, exactly 1 for β = 0. 1 − β is taken before the
    cast (in double for a Python β), the same number the moving average weighs gᵗ with, so at t = 1 the
    correction undoes that weight to an ulp.
    """
    one_minus_beta = jnp.asarray(1 - beta, dtype=jnp.result_type(beta, float))
    log_beta = jnp.log1p(-one_minus_beta)
    return -jnp.expm1(count * log_beta)


def _debias(moment: jax.Array, beta: float | jax.Array, count: jax.Array) -> jax.Array:
    """moment / (1 − βᵗ), divided in the moment's own dtype (as optax: a bf16 moment stays bf16)."""
    return moment / _one_minus_power(beta, count).astype(moment.dtype)


def _mix(old: jax.Array, new: jax.Array, keep: Any, take: Any) -> jax.Array:
    """keep · old + take · new in the wider of the two dtypes (a bf16 ``old`` is not rounded before adding)."""
    dtype = jnp.promote_types(old.dtype, new.dtype)
    old, new = old.astype(dtype), new.astype(dtype)
    return jnp.asarray(keep, dtype) * old + jnp.asarray(take, dtype) * new


# --------------------------------------------------------------------------------------------------------------
# Learning rate (and the optimizer's step count)
# --------------------------------------------------------------------------------------------------------------


def scale_by_learning_rate(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    r"""Multiply the updates by −ηᵗ: uᵗ ↦ −ηᵗ uᵗ; keep the optimizer's step count t.

    ``learning_rate`` is a number η (ηᵗ = η) or an ``optax.Schedule`` t ↦ ηᵗ, evaluated at t = 0, 1, 2, …
    (the number of updates made before this one), as in optax. Its state,
    :class:`~jaxml.optim.combine.LearningRateState` ``(count)``, is the one step count of every jaxml optimizer:
    :func:`~jaxml.optim.combine.chain` passes it to the other blocks. A concrete η that is negative, infinite
    or NaN raises ``ValueError``; a schedule is called once here at t = 0 (an int32 scalar, as in ``update``)
    and must return a real scalar (else ``TypeError``) that is finite and ≥ 0 (else ``ValueError``); an
    exception the schedule raises itself propagates unchanged. Later ηᵗ are not checked.

    Args:
        learning_rate: η ≥ 0, a real number (a concrete array is checked element-wise; a tracer passes
            unchecked), or an ``optax.Schedule`` t ↦ ηᵗ.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`~jaxml.optim.combine.LearningRateState`
        (``count`` = 0 after ``init``); ``update`` maps uᵗ ↦ −ηᵗuᵗ (η cast to each update's dtype) and adds 1
        to ``count``. A pytree with one leaf, η (or the schedule).

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a callable of one argument t, or is a
            schedule whose value at t = 0 is not a real scalar.
        ValueError: if η (or the schedule's η⁰) is negative, infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_learning_rate(lambda t: 0.5 ** t)
        >>> s = opt.init(jnp.zeros(1))
        >>> u, s = opt.update(jnp.ones(1), s); u           # −η⁰ g
        Array([-1.], dtype=float32)
        >>> u, s = opt.update(jnp.ones(1), s); u, s.count  # −η¹ g, after two updates
        (Array([-0.5], dtype=float32), Array(2, dtype=int32))
        >>> scale_by_learning_rate(lambda t: "fast")
        Traceback (most recent call last):
        ...
        TypeError: learning_rate must be a schedule returning a real scalar, got str 'fast' at t = 0
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
    del params, extra_args  # a count passed in is this block's own (the chain reads it here)
    eta = learning_rate(state.count) if callable(learning_rate) else learning_rate
    updates = jax.tree.map(lambda u: -_cast(eta, u) * u, updates)
    return updates, LearningRateState(count=optax.safe_increment(state.count))


# --------------------------------------------------------------------------------------------------------------
# First moment: the lecture's heavy ball, and Adam's moving average
# --------------------------------------------------------------------------------------------------------------


class MomentumState(NamedTuple):
    """State of the heavy ball :func:`scale_by_momentum`.

    Attributes:
        m: the lecture's momentum mᵗ = λmᵗ⁻¹ + uᵗ, a weighted sum of past *steps* (after the learning-rate block:
            of −ηg), in the accumulator dtype. Not optax's ``trace`` (a sum of past *gradients*): for a constant
            η, m = −η·trace; under a schedule the two differ.
    """

    m: optax.Updates


class FirstMomentState(NamedTuple):
    """State of :func:`first_moment` (named as in ``optax.ScaleByAdamState``).

    Attributes:
        mu: μᵗ = β₁μᵗ⁻¹ + (1−β₁)gᵗ, the *raw* exponential moving average of the gradients (μ⁰ = 0; not
            bias-corrected: m̂ᵗ = μᵗ/(1−β₁ᵗ⁺¹) is computed in ``update``), in the accumulator dtype.
    """

    mu: optax.Updates


def scale_by_momentum(
    beta: float | jax.Array,
    *,
    ema: bool = False,
    bias_correction: bool = False,
    nesterov: bool = False,
    accumulator_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Momentum: replace the incoming update uᵗ by a weighted sum of all past ones, m⁰ = 0.

    * Heavy ball (default, course §4.2): mᵗ = λmᵗ⁻¹ + uᵗ with λ = ``beta``. Placed *after*
      :func:`scale_by_learning_rate` (uᵗ = −ηgᵗ⁻¹) this is the lecture's mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹, θᵗ = θᵗ⁻¹ + mᵗ,
      so m¹ = −ηg⁰, m² = −ληg⁰ − ηg¹, … (optax's ``trace`` accumulates the *gradient* and scales by −η
      afterwards; the two agree for a constant η, not under a schedule). State :class:`MomentumState` ``(m)``.
    * ``ema=True``: Adam's first moment, :func:`first_moment` (``bias_correction``, ``nesterov`` as there).

    ``accumulator_dtype`` (e.g. ``jnp.bfloat16``) stores m in that dtype, as optax's ``accumulator_dtype`` /
    ``mu_dtype`` do: each step computes mᵗ in the wider of the stored and the incoming dtype, outputs it in the
    incoming updates' dtype and stores it rounded to ``accumulator_dtype``. ``None``: the parameters' dtype.
    ``beta`` ∈ [0, 1) (checked when it is a concrete number).

    Args:
        beta: λ ∈ [0, 1), the weight of the previous momentum mᵗ⁻¹ (with ``ema=True``, Adam's β₁).
        ema: return Adam's first moment (:func:`first_moment`) instead of the heavy ball.
        bias_correction: with ``ema=True``, divide by 1 − β₁ᵗ⁺¹ as :func:`first_moment` does; must be ``False``
            without ``ema``.
        nesterov: with ``ema=True``, Nesterov's look-ahead as :func:`first_moment` computes it; must be
            ``False`` without ``ema``.
        accumulator_dtype: the dtype m (or μ) is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs``: the heavy ball, with state :class:`MomentumState`
        (m⁰ = 0) and output mᵗ in the incoming updates' dtype; with ``ema=True``, :func:`first_moment`'s block.
        Its ``update`` raises ``ValueError`` for updates not shaped like the parameters ``init`` saw.

    Raises:
        TypeError: if ``beta`` is not a real number, or ``accumulator_dtype`` is not a dtype.
        ValueError: if ``beta`` lies outside [0, 1) or is not finite, or ``bias_correction`` or ``nesterov`` is
            set without ``ema``.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_momentum(0.5, accumulator_dtype=jnp.bfloat16)
        >>> s = opt.init(jnp.zeros(1))
        >>> m, s = opt.update(jnp.array([2.0]), s)
        >>> m, s = opt.update(jnp.array([1.0]), s); m      # λm¹ + u = 0.5·2 + 1
        Array([2.], dtype=float32)
        >>> s.m.dtype
        dtype(bfloat16)
    """
    check_hyperparameter("beta", beta, high=1.0)
    if ema:
        return first_moment(beta, bias_correction=bias_correction, nesterov=nesterov, mu_dtype=accumulator_dtype)
    if bias_correction or nesterov:
        raise ValueError("bias_correction=True and nesterov=True need ema=True (the heavy ball has no bias)")
    dtype = None if accumulator_dtype is None else jax.dtypes.canonicalize_dtype(accumulator_dtype)
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_momentum_init, static=(dtype,)), pytree_fn(_momentum_update, hyper=(beta,))
    )


def _momentum_init(dtype: Any, params: optax.Params) -> MomentumState:
    return MomentumState(m=optax.tree.zeros_like(params, dtype=dtype))


def _momentum_update(
    beta: float | jax.Array,
    updates: optax.Updates,
    state: MomentumState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, MomentumState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)  # Python scalars too, as optax allows
    _check_like("scale_by_momentum", updates, state.m)
    keep, take = beta, 1.0
    m = jax.tree.map(lambda m, u: _mix(m, u, keep, take), state.m, updates)
    out = jax.tree.map(lambda m, u: m.astype(u.dtype), m, updates)
    stored = jax.tree.map(lambda m, old: m.astype(old.dtype), m, state.m)
    return out, MomentumState(m=stored)


def first_moment(
    b1: float | jax.Array = 0.9,
    *,
    bias_correction: bool = True,
    nesterov: bool = False,
    mu_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Adam's first moment: the exponential moving average of the gradients, bias-corrected.

        μᵗ = β₁μᵗ⁻¹ + (1−β₁)gᵗ  (μ⁻¹ = 0),   output m̂ᵗ = μᵗ / (1 − β₁ᵗ⁺¹)

    (t = 0, 1, … counts the updates before this one; ``bias_correction=False`` outputs μᵗ itself). The division
    removes the pull towards μ⁻¹ = 0 (Kingma & Ba 2015, §3). With ``nesterov=True`` (Nadam, Dozat 2016) the
    output looks one step ahead, as optax's ``nesterov``:

        m̂ᵗ = β₁ μᵗ / (1 − β₁ᵗ⁺²) + (1−β₁) gᵗ / (1 − β₁ᵗ⁺¹).

    The state :class:`FirstMomentState` ``(mu)`` holds the raw μ (as optax's ``mu``), in ``mu_dtype``
    (e.g. ``jnp.bfloat16``; ``None``: the parameters' dtype); the step is computed in the wider dtype and output
    in the gradients'. Needs the step count t (``count``, see the module docstring) unless it is a plain
    average. ``b1`` ∈ [0, 1).

    References:
        Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015 (arXiv:1412.6980).
        Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop.

    Args:
        b1: β₁ ∈ [0, 1), the weight of the previous average μᵗ⁻¹.
        bias_correction: output m̂ᵗ = μᵗ / (1 − β₁ᵗ⁺¹); ``False`` outputs the raw μᵗ and needs no step count.
        nesterov: output Nesterov's look-ahead m̂ᵗ above (Nadam), bias-corrected whatever ``bias_correction``
            says.
        mu_dtype: the dtype μ is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`FirstMomentState` (μ⁻¹ = 0); ``update``
        outputs m̂ᵗ (or μᵗ) in the gradients' dtype. ``update`` raises ``TypeError`` when it needs t and gets no
        ``count``, and ``ValueError`` for updates not shaped like the parameters ``init`` saw.

    Raises:
        TypeError: if ``b1`` is not a real number, or ``mu_dtype`` is not a dtype.
        ValueError: if ``b1`` lies outside [0, 1) or is not finite.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = first_moment(0.9, mu_dtype=jnp.bfloat16)
        >>> s = opt.init(jnp.zeros(1))
        >>> m, s = opt.update(jnp.array([2.0]), s, count=0)
        >>> round(float(m[0]), 6)                                     # m̂⁰ = g⁰: no pull towards 0
        2.0
        >>> s.mu, s.mu.dtype                                          # μ⁰ = (1−β₁)g⁰, raw
        (Array([0.200195], dtype=bfloat16), dtype(bfloat16))
    """
    check_hyperparameter("b1", b1, high=1.0)
    dtype = None if mu_dtype is None else jax.dtypes.canonicalize_dtype(mu_dtype)
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_first_moment_init, static=(dtype,)),
        pytree_fn(_first_moment_update, static=(bool(bias_correction), bool(nesterov)), hyper=(b1,)),
    )


def _first_moment_init(dtype: Any, params: optax.Params) -> FirstMomentState:
    return FirstMomentState(mu=optax.tree.zeros_like(params, dtype=dtype))


def _first_moment_update(
    bias_correction: bool,
    nesterov: bool,
    b1: float | jax.Array,
    updates: optax.Updates,
    state: FirstMomentState,
    params: optax.Params | None = None,
    *,
    count: Any = None,
    **extra_args: Any,
) -> tuple[optax.Updates, FirstMomentState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)
    _check_like("first_moment", updates, state.mu)
    mu = jax.tree.map(lambda m, g: _mix(m, g, b1, 1 - b1), state.mu, updates)
    if nesterov:
        t1 = _this_update("first_moment", count)
        t2 = optax.safe_increment(t1)
        ahead = lambda m, g: _cast(b1, m) * _debias(m, b1, t2) + _cast(1 - b1, m) * _debias(g.astype(m.dtype), b1, t1)
        m_hat = jax.tree.map(ahead, mu, updates)
    elif bias_correction:
        t1 = _this_update("first_moment", count)
        m_hat = jax.tree.map(lambda m: _debias(m, b1, t1), mu)
    else:
        m_hat = mu
    out = jax.tree.map(lambda m, g: m.astype(g.dtype), m_hat, updates)
    stored = jax.tree.map(lambda m, old: m.astype(old.dtype), mu, state.mu)
    return out, FirstMomentState(mu=stored)


# --------------------------------------------------------------------------------------------------------------
# Root mean square
# --------------------------------------------------------------------------------------------------------------


class RmsState(NamedTuple):
    r"""State of the RMS blocks (named as in ``optax.ScaleByAdamState`` / ``ScaleByRmsState``).

    Attributes:
        nu: ν, the *raw* running average of \|g|² (of \|g − μ|² in :func:`rms_belief`), in the parameters' real
            dtype: Adagrad's mean (σ² = ν), the lecture's RMSProp average (σ² = ν), Adam's β₂-average from
            ν = 0 (σ² = ν̂ = ν/(1−β₂ᵗ), corrected in ``update``). :func:`sigma` returns σ.
    """

    nu: optax.Updates


def _rms_block(
    name: str,
    take_weight: Callable[[Any, jax.Array], Any],
    alpha: float | jax.Array | None,
    eps: float | jax.Array,
    bias_correction: bool,
    eps_in_sqrt: bool,
) -> optax.GradientTransformationExtraArgs:
    """ν ← kₜν + aₜ|gᵗ|² with (kₜ, aₜ) = ``take_weight(alpha, t + 1)``; outputs σᵗ + ε or √((σᵗ)² + ε).

    ``take_weight`` is a module-level function (part of the block's tree structure); α and ε are its leaves."""
    static = (name, take_weight, bool(bias_correction), bool(eps_in_sqrt))
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_rms_init), pytree_fn(_rms_update, static=static, hyper=(alpha, eps))
    )


def _rms_init(params: optax.Params) -> RmsState:
    return RmsState(nu=_real_zeros_like(params))


def _root(sigma_sq: optax.Updates, eps: float | jax.Array, eps_in_sqrt: bool) -> optax.Updates:
    if eps_in_sqrt:
        # u / √(σ² + ε) compiles to u·rsqrt(σ² + ε): one cheap op instead of a square root and a division
        return jax.tree.map(lambda s: jnp.sqrt(s + _cast(eps, s)), sigma_sq)
    return jax.tree.map(lambda s: jnp.sqrt(s) + _cast(eps, s), sigma_sq)


def _rms_update(
    name: str,
    take_weight: Callable[[Any, jax.Array], Any],
    bias_correction: bool,
    eps_in_sqrt: bool,
    alpha: float | jax.Array | None,
    eps: float | jax.Array,
    updates: optax.Updates,
    state: RmsState,
    params: optax.Params | None = None,
    *,
    count: Any = None,
    **extra_args: Any,
) -> tuple[optax.Updates, RmsState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)
    _check_like(name, updates, state.nu)
    count = _this_update(name, count)
    keep, take = take_weight(alpha, count)
    mix = lambda s, g: _mix(s, _abs_sq(g), keep, take).astype(s.dtype)
    nu = jax.tree.map(mix, state.nu, updates)
    sigma_sq = jax.tree.map(lambda v: _debias(v, alpha, count), nu) if bias_correction else nu
    return _root(sigma_sq, eps, eps_in_sqrt), RmsState(nu=nu)


def _mean_weight(alpha: None, count: jax.Array) -> tuple[Any, Any]:
    """(1 − aₜ, aₜ) with aₜ = 1/(t+1): the plain running mean of Adagrad (no α)."""
    del alpha
    take = 1.0 / count
    return 1 - take, take


def _ema_weight(alpha: float | jax.Array, count: jax.Array) -> tuple[Any, Any]:
    """(α, 1 − α), except (0, 1) at the first update (σ⁰ = |g⁰|); a scalar select, not an elementwise one."""
    take = jnp.where(count == 1, 1.0, 1 - alpha)
    return jnp.where(count == 1, 0.0, alpha), take


def _adam_weight(alpha: float | jax.Array, count: jax.Array) -> tuple[Any, Any]:
    """(β₂, 1 − β₂) from ν = 0, as optax (the bias is corrected in the output, not in the state)."""
    del count
    return alpha, 1 - alpha


def rms_mean(eps: float | jax.Array = 0.0, *, eps_in_sqrt: bool = False) -> optax.GradientTransformationExtraArgs:
    r"""Adagrad's denominator: the root mean square of *all* past gradients (course §4.4).

        σᵢᵗ = √( 1/(t+1) · Σₖ₌₀ᵗ \|gᵢᵏ|² ),   output σᵢᵗ + ε  (or √((σᵢᵗ)² + ε) with ``eps_in_sqrt``).

    The state :class:`RmsState` ``(nu)`` keeps the running mean ν = (σᵗ)² = (t/(t+1))(σᵗ⁻¹)² + (1/(t+1))|gᵗ|²
    (needs the step count t, see the module docstring). Note optax's :func:`optax.scale_by_rss` (its
    ``adagrad``) keeps the *sum* Σ g² instead (``sum_of_squares``, another quantity): the lecture's mean is the
    same with the learning rate multiplied by √(t+1). The mean forgets nothing but is a mean, so once the
    gradients become small σ shrinks again (slowly) — unlike the sum, which can only grow.

    Use it through :func:`scale_by_adagrad` or as the denominator of :func:`jaxml.optim.combine.divide`.
    ``eps`` ≥ 0.

    Args:
        eps: ε ≥ 0, added to σ (to σ² with ``eps_in_sqrt``).
        eps_in_sqrt: output √((σᵢᵗ)² + ε) instead of σᵢᵗ + ε.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`RmsState` (ν = 0 after ``init``, in the
        parameters' real dtype); ``update`` outputs σᵗ + ε (or √((σᵗ)² + ε)), shaped like the gradient. It
        raises ``TypeError`` without the step count ``count``, and ``ValueError`` for updates not shaped like the
        parameters ``init`` saw.

    Raises:
        TypeError: if ``eps`` is not a real number.
        ValueError: if ``eps`` is negative, infinite or NaN.

    References:
        Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning and Stochastic Optimization*,
        JMLR 12 (2011).

    Example:
        >>> import jax.numpy as jnp
        >>> rms = rms_mean()
        >>> s = rms.init(jnp.zeros(1))
        >>> sigma, s = rms.update(jnp.array([3.0]), s, count=0)
        >>> sigma, s = rms.update(jnp.array([-1.0]), s, count=1)
        >>> sigma, s.nu                                         # σ² = (3² + 1²)/2
        (Array([2.236068], dtype=float32), Array([5.], dtype=float32))
    """
    check_hyperparameter("eps", eps)
    return _rms_block("rms_mean", _mean_weight, None, eps, False, eps_in_sqrt)


def rms_ema(
    alpha: float | jax.Array = 0.9,
    eps: float | jax.Array = 0.0,
    *,
    bias_correction: bool = False,
    eps_in_sqrt: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""RMSProp's and Adam's denominator: an exponential moving average of \|g|², rooted.

    * ``bias_correction=False`` — the lecture's RMSProp (course §4.5):
      σᵢ⁰ = \|gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)|gᵢᵗ|² ); the state's ν is σ².
      optax's :func:`optax.scale_by_rms` starts instead from ν = 0 (``initial_scale``), so its σ⁰ = √(1−α)|g⁰|
      and its first steps are 1/√(1−α) times larger; after the first gradient both follow the same recurrence.
    * ``bias_correction=True`` — Adam's second moment (Kingma & Ba 2015): νᵗ = β₂νᵗ⁻¹ + (1−β₂)|gᵗ|² from
      ν = 0 (the state's ``nu``, as optax's), ν̂ᵗ = νᵗ/(1−β₂ᵗ⁺¹), σᵗ = √ν̂ᵗ.

    Both output σᵢᵗ + ε (ε outside the root, as in Adam), or √((σᵢᵗ)² + ε) with ``eps_in_sqrt`` (as optax's
    RMSProp and Adagrad; also cheaper, see :func:`jaxml.optim.rmsprop`). Both need the step count t (the
    keyword ``count``, see the module docstring). ``alpha`` ∈ [0, 1), ``eps`` ≥ 0.

    Args:
        alpha: α ∈ [0, 1) (Adam's β₂), the weight of the previous average.
        eps: ε ≥ 0, added to σ (to σ² with ``eps_in_sqrt``).
        bias_correction: Adam's second moment, from ν = 0 and divided by 1 − αᵗ⁺¹; ``False``: the lecture's
            RMSProp, which starts at σ⁰ = the first gradient's magnitude.
        eps_in_sqrt: output √((σᵢᵗ)² + ε) instead of σᵢᵗ + ε.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`RmsState` (ν = 0 after ``init``, in the
        parameters' real dtype); ``update`` outputs σᵗ + ε (or √((σᵗ)² + ε)), shaped like the gradient. It
        raises ``TypeError`` without the step count ``count``, and ``ValueError`` for updates not shaped like the
        parameters ``init`` saw.

    Raises:
        TypeError: if ``alpha`` or ``eps`` is not a real number.
        ValueError: if ``alpha`` lies outside [0, 1), ``eps`` is negative, or either is infinite or NaN.

    References:
        Tieleman & Hinton, *Lecture 6.5 — RMSProp*, COURSERA: Neural Networks for Machine Learning (2012);
        Kingma & Ba, *Adam*, ICLR 2015.

    Example:
        >>> import jax.numpy as jnp
        >>> rms = rms_ema(0.5)
        >>> s = rms.init(jnp.zeros(1, jnp.complex64))
        >>> sigma, s = rms.update(jnp.array([3 + 4j]), s, count=0)   # σ⁰ = |g⁰|, real for complex g
        >>> sigma
        Array([5.], dtype=float32)
    """
    check_hyperparameter("alpha", alpha, high=1.0)
    check_hyperparameter("eps", eps)
    weight = _adam_weight if bias_correction else _ema_weight
    return _rms_block("rms_ema", weight, alpha, eps, bias_correction, eps_in_sqrt)


def rms_belief(
    b2: float | jax.Array = 0.999, eps: float | jax.Array = 1e-16, eps_root: float | jax.Array = 1e-16
) -> optax.GradientTransformationExtraArgs:
    r"""AdaBelief's denominator: the root of the bias-corrected average of \|g − μ|², the "belief" in g.

        sᵗ = β₂sᵗ⁻¹ + (1−β₂)|gᵗ − μᵗ|² + ε_root  (s⁻¹ = 0),   ŝᵗ = sᵗ/(1−β₂ᵗ⁺¹),   output √ŝᵗ + ε,

    where μᵗ is the first moment's *new* raw average (:func:`first_moment`). Large when g strays from its
    running mean (little belief: a small step), small when g is predictable (a large step). μ is not kept twice:
    the block reads it from the state of the first-moment block that precedes it in the same
    :func:`~jaxml.optim.combine.fan_out` / :func:`~jaxml.optim.combine.divide` (``earlier_states``, field
    ``mu``); ``divide(first_moment(b1), rms_belief(b2))`` is AdaBelief's direction. The state
    :class:`RmsState` ``(nu)`` holds s as optax's ``ScaleByBeliefState.nu`` (ε_root included). Needs the step
    count t. ``b2`` ∈ [0, 1), ``eps``, ``eps_root`` ≥ 0.

    References:
        Zhuang et al., *AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients*,
        NeurIPS 2020 (arXiv:2010.07468).

    Args:
        b2: β₂ ∈ [0, 1), the weight of the previous average sᵗ⁻¹.
        eps: ε ≥ 0, added outside the root.
        eps_root: ε_root ≥ 0, added to s at every update (inside the root), as optax's.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`RmsState` (s = 0 after ``init``, in the
        parameters' real dtype); ``update`` outputs √ŝᵗ + ε, shaped like the gradient. At ``update`` it raises
        ``ValueError`` when no first moment precedes it (no ``mu`` in ``earlier_states``), ``TypeError`` without
        the step count ``count``, and ``ValueError`` for updates not shaped like the parameters ``init`` saw.

    Raises:
        TypeError: if ``b2``, ``eps`` or ``eps_root`` is not a real number.
        ValueError: if ``b2`` lies outside [0, 1), ``eps`` or ``eps_root`` is negative, or any of them is
            infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxml.optim.combine import divide
        >>> direction = divide(first_moment(0.5), rms_belief(0.5, eps=0.0, eps_root=0.0))
        >>> s = direction.init(jnp.zeros(1))
        >>> u, s = direction.update(jnp.array([2.0]), s, count=0)
        >>> s.inner_states[1].nu                       # (1−β₂)|g − μ|² with μ = (1−β₁)g = 1
        Array([0.5], dtype=float32)
    """
    check_hyperparameter("b2", b2, high=1.0)
    check_hyperparameter("eps", eps)
    check_hyperparameter("eps_root", eps_root)
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_rms_init), pytree_fn(_belief_update, hyper=(b2, eps, eps_root))
    )


def _belief_update(
    b2: float | jax.Array,
    eps: float | jax.Array,
    eps_root: float | jax.Array,
    updates: optax.Updates,
    state: RmsState,
    params: optax.Params | None = None,
    *,
    count: Any = None,
    earlier_states: tuple = (),
    **extra_args: Any,
) -> tuple[optax.Updates, RmsState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)
    _check_like("rms_belief", updates, state.nu)
    mu = optax.tree_utils.tree_get(earlier_states, "mu") if earlier_states else None
    if mu is None:
        raise ValueError(
            "rms_belief.update needs the first moment μ: put a first_moment block before it in the same "
            "fan_out/divide, e.g. divide(first_moment(b1), rms_belief(b2))"
        )
    count = _this_update("rms_belief", count)

    def step(v: jax.Array, g: jax.Array, m: jax.Array) -> jax.Array:
        error = _abs_sq(g - m.astype(g.dtype))
        return (_mix(v, error, b2, 1 - b2) + _cast(eps_root, v)).astype(v.dtype)

    nu = jax.tree.map(step, state.nu, updates, mu)
    sigma_sq = jax.tree.map(lambda v: _debias(v, b2, count), nu)
    return _root(sigma_sq, eps, False), RmsState(nu=nu)


# --------------------------------------------------------------------------------------------------------------
# Elementwise blocks: running max (AMSGrad), add ε
# --------------------------------------------------------------------------------------------------------------


class RunningMaxState(NamedTuple):
    """State of :func:`running_max`.

    Attributes:
        maximum: the elementwise maximum of 0 and every input so far, in the parameters' real dtype (in
            :func:`jaxml.optim.amsgrad`: max of σ = √(ν̂ + ε_root); optax's ``nu_max`` is its square minus ε_root).
    """

    maximum: optax.Updates


def running_max() -> optax.GradientTransformationExtraArgs:
    r"""The running maximum of its input: uᵗ ↦ ûᵗ = max(ûᵗ⁻¹, uᵗ), elementwise, from û⁻¹ = 0.

    AMSGrad's fix of Adam (Reddi et al. 2018): with ν̂ₜ = max(ν̂ₜ₋₁, νₜ) in the denominator, σ never shrinks,
    so the effective step η/σ never grows — which restores convergence where Adam's σ forgets a rare large
    gradient. Placed after an RMS block (which outputs σ, √ being monotone max(√a, √b) = √max(a, b)), it is
    that σ̂; :func:`jaxml.optim.amsgrad` is ``divide(first_moment(b1), chain(rms_ema(b2, ε_root,
    bias_correction=True, eps_in_sqrt=True), running_max(), add_eps(ε)))``. State :class:`RunningMaxState`
    ``(maximum)``; for real, non-negative inputs (the start at 0 is optax's ``nu_max`` = 0).

    References:
        Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018 (arXiv:1904.09237).

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with no hyper-parameters and state
        :class:`RunningMaxState` (û⁻¹ = 0, in the parameters' real dtype); ``update`` outputs ûᵗ in the incoming
        updates' dtype, and raises ``ValueError`` for updates not shaped like the parameters ``init`` saw.

    Example:
        >>> import jax.numpy as jnp
        >>> block = running_max()
        >>> s = block.init(jnp.zeros(2))
        >>> _, s = block.update(jnp.array([3.0, 1.0]), s)
        >>> u, s = block.update(jnp.array([2.0, 4.0]), s); u
        Array([3., 4.], dtype=float32)
    """
    return optax.GradientTransformationExtraArgs(pytree_fn(_running_max_init), pytree_fn(_running_max_update))


def _running_max_init(params: optax.Params) -> RunningMaxState:
    return RunningMaxState(maximum=_real_zeros_like(params))


def _running_max_update(
    updates: optax.Updates, state: RunningMaxState, params: optax.Params | None = None, **extra_args: Any
) -> tuple[optax.Updates, RunningMaxState]:
    del params, extra_args
    updates = jax.tree.map(jnp.asarray, updates)
    _check_like("running_max", updates, state.maximum)
    maximum = jax.tree.map(lambda m, u: jnp.maximum(m, u.astype(m.dtype)), state.maximum, updates)
    return jax.tree.map(lambda m, u: m.astype(u.dtype), maximum, updates), RunningMaxState(maximum=maximum)


def add_eps(eps: float | jax.Array = 1e-8) -> optax.GradientTransformationExtraArgs:
    r"""uᵗ ↦ uᵗ + ε: the ε of a denominator σ + ε, as its own block (e.g. after :func:`running_max`).

    ε keeps m̂/(σ + ε) finite where σ = 0 (Kingma & Ba 2015, Algorithm 1). A pytree with one leaf, ε ≥ 0.

    References:
        Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015 (arXiv:1412.6980).

    Args:
        eps: ε ≥ 0, added to every element.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state ``optax.EmptyState()``; ``update`` outputs
        uᵗ + ε (ε cast to each update's dtype).

    Raises:
        TypeError: if ``eps`` is not a real number.
        ValueError: if ``eps`` is negative, infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> add_eps(0.5).update(jnp.array([1.0, 2.0]), add_eps(0.5).init(jnp.zeros(2)))[0]
        Array([1.5, 2.5], dtype=float32)
    """
    check_hyperparameter("eps", eps)
    return optax.GradientTransformationExtraArgs(pytree_fn(_empty_init), pytree_fn(_add_eps_update, hyper=(eps,)))


def _add_eps_update(
    eps: float | jax.Array,
    updates: optax.Updates,
    state: optax.EmptyState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, optax.EmptyState]:
    del params, extra_args
    return jax.tree.map(lambda u: jnp.asarray(u) + _cast(eps, u), updates), state


# --------------------------------------------------------------------------------------------------------------
# Serial forms g / σ, and σ from a state
# --------------------------------------------------------------------------------------------------------------


def scale_by_adagrad(
    eps: float | jax.Array = 1e-8, *, eps_in_sqrt: bool = False
) -> optax.GradientTransformationExtraArgs:
    r"""gᵢᵗ ↦ gᵢᵗ / (σᵢᵗ + ε) with Adagrad's σᵢᵗ = √(1/(t+1) Σₖ \|gᵢᵏ|²) (see :func:`rms_mean`); with
    ``eps_in_sqrt``, gᵢᵗ / √((σᵢᵗ)² + ε) as :func:`jaxml.optim.adagrad` uses it.

    Args:
        eps: ε ≥ 0, added to σ (to σ² with ``eps_in_sqrt``).
        eps_in_sqrt: divide by √((σᵢᵗ)² + ε) instead of σᵢᵗ + ε.

    Returns:
        ``divide(identity(), rms_mean(eps, eps_in_sqrt=eps_in_sqrt))``: an
        ``optax.GradientTransformationExtraArgs`` with state ``FanOutState((EmptyState(), RmsState(nu)))``,
        whose ``update`` needs the step count ``count`` (passed by :func:`~jaxml.optim.combine.chain`).

    Raises:
        TypeError: if ``eps`` is not a real number.
        ValueError: if ``eps`` is negative, infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_adagrad(eps=0.0)
        >>> u, s = opt.update(jnp.array([-4.0, 0.0]), opt.init(jnp.zeros(2)), count=0); u  # g⁰/|g⁰|; 0/0 := 0
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

    Args:
        alpha: α ∈ [0, 1) (Adam's β₂), the weight of the previous average of the squared gradients.
        eps: ε ≥ 0, added to σ (to σ² with ``eps_in_sqrt``).
        bias_correction: Adam's σ (from ν = 0, bias-corrected) instead of the lecture's RMSProp σ.
        eps_in_sqrt: divide by √((σᵢᵗ)² + ε) instead of σᵢᵗ + ε.

    Returns:
        ``divide(identity(), rms_ema(alpha, eps, …))``: an ``optax.GradientTransformationExtraArgs`` with state
        ``FanOutState((EmptyState(), RmsState(nu)))``, whose ``update`` needs the step count ``count``
        (passed by :func:`~jaxml.optim.combine.chain`).

    Raises:
        TypeError: if ``alpha`` or ``eps`` is not a real number.
        ValueError: if ``alpha`` lies outside [0, 1), ``eps`` is negative, or either is infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxml.optim.combine import chain
        >>> opt = chain(scale_by_rms(0.5, eps=0.0), scale_by_learning_rate(1.0))   # the chain passes t
        >>> u, s = opt.update(jnp.array([-4.0]), opt.init(jnp.zeros(1))); u          # σ⁰ = |g⁰|
        Array([1.], dtype=float32)
    """
    return divide(identity(), rms_ema(alpha, eps, bias_correction=bias_correction, eps_in_sqrt=eps_in_sqrt))


_SIGMA_BLOCKS = (_rms_update, _belief_update)


def _is_sigma_block(x: Any) -> bool:
    return isinstance(x, jax.tree_util.Partial) and isinstance(x.func, _Bound) and x.func.fn in _SIGMA_BLOCKS


def sigma(optimizer: optax.GradientTransformation, state: optax.OptState) -> optax.Updates:
    r"""The lecture's σ of an optimizer's state: σ = √ν for Adagrad and RMSProp, √ν̂ = √(ν/(1−β₂ᵗ)) for Adam,
    Nadam and AMSGrad (before the running max), √ŝ for AdaBelief — the same σ the last update divided by
    (without ε).

    ``optimizer`` is built from jaxml blocks with exactly one RMS block (:func:`rms_mean`, :func:`rms_ema`,
    :func:`rms_belief`), ``state`` one of its states — also a state stacked over steps or runs, as
    :func:`jaxml.surfaces.trajectory` returns (σ then has the same leading axes). t is the state's one ``count``.
    Before the first update σ = 0.

    Args:
        optimizer: an optimizer built from jaxml blocks (e.g. :func:`jaxml.optim.adam`) with exactly one RMS
            block.
        state: a state of ``optimizer``, as its ``init`` or ``update`` returns it, or such states stacked
            along leading axes.

    Returns:
        σ, a pytree shaped like the parameters (with the stacked state's leading axes), in their real dtype;
        without ε.

    Raises:
        ValueError: if the optimizer has no or several RMS blocks, the state no or several ν (no or several
            :class:`RmsState`), or, for a bias-corrected σ, the state has no step count.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxml import optim
        >>> opt = optim.adam(0.1, b2=0.5)
        >>> _, s = opt.update(jnp.array([3.0, -4.0]), opt.init(jnp.zeros(2)))
        >>> s[0].inner_states[1].nu, sigma(opt, s)                     # raw ν = (1−β₂)g², σ = √ν̂ = |g|
        (Array([4.5, 8. ], dtype=float32), Array([3., 4.], dtype=float32))
    """
    blocks = [x for x in jax.tree.leaves(optimizer, is_leaf=_is_sigma_block) if _is_sigma_block(x)]
    states = [x for x in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, RmsState)) if isinstance(x, RmsState)]
    if len(blocks) != 1 or len(states) != 1:
        raise ValueError(
            f"sigma needs an optimizer with one RMS block (rms_mean, rms_ema, rms_belief) and its state, got "
            f"{len(blocks)} RMS blocks and {len(states)} RmsState in the state"
        )
    (block,), (rms,) = blocks, states
    if block.func.fn is _belief_update:
        debiased, beta = True, block.args[0]
    else:
        debiased, beta = block.func.static[2], block.args[0]
    if not debiased:
        return jax.tree.map(jnp.sqrt, rms.nu)
    count = step_count(state)
    if count is None:
        raise ValueError("sigma: the state has no step count (LearningRateState); it needs t for ν̂ = ν/(1−β₂ᵗ)")
    count = jnp.asarray(count)

    def root(v: jax.Array) -> jax.Array:
        t = count.reshape(count.shape + (1,) * (v.ndim - count.ndim))
        correction = _one_minus_power(beta, t).astype(v.dtype)
        return jnp.sqrt(v / jnp.where(v == 0, jnp.ones_like(correction), correction))  # before any update: 0

    return jax.tree.map(root, rms.nu)
