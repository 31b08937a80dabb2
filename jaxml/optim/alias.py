r"""The lecture's optimizers and three research variants, each a composition of the blocks in
:mod:`jaxml.optim.transforms`.

All of them are instances of the lecture's summary (course §4.8), θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ/σᵢᵗ) mᵢᵗ:

=========  ==========================================  ===========================================
optimizer  numerator mᵗ                                denominator σᵗ
=========  ==========================================  ===========================================
sgd        gᵗ                                          1
momentum   λmᵗ⁻¹ − ηgᵗ (η inside, heavy ball)          1
adagrad    gᵗ                                          √(mean of all past \|g|² + ε)
rmsprop    gᵗ                                          √(α-average of \|g|² + ε), σ⁰ = \|g⁰|
adam       bias-corrected β₁-average of g              √(bias-corrected β₂-average of \|g|²) + ε
nadam      Adam's, looking one step ahead (Nesterov)   Adam's
amsgrad    Adam's                                      running max of Adam's σ, + ε
adabelief  Adam's                                      √(bias-corrected β₂-average of \|g − μ|²) + ε
=========  ==========================================  ===========================================

``learning_rate`` may be a float or an ``optax.Schedule``. Each optimizer is a pytree whose leaves are its
numbers (η, β, λ, α, ε; :func:`jaxml.optim.combine.pytree_fn`), so :func:`jaxml.train.fit` compiles one program
for every η of a kind; a schedule is a leaf that is a function, which keeps the optimizer a constant of the
program (compiled per optimizer object, as optax's own are). Hyper-parameters outside their domain (η < 0;
β, α outside [0, 1); ε < 0; any of them infinite or NaN) raise ``ValueError`` naming the argument when they are
concrete numbers or arrays (:func:`jaxml.optim.check_hyperparameter`); a schedule is called once at t = 0 and
must return a finite real scalar ≥ 0. Tracers (under ``vmap``/``jit``/``optax.inject_hyperparams``) are not
checked. ε = 0 is allowed everywhere: a zero numerator over a zero σ is a zero update
(:func:`~jaxml.optim.combine.divide`), not NaN.

Every optimizer is an ``optax.GradientTransformationExtraArgs`` (``update`` ignores extra keyword arguments),
works on real and complex parameters (ν is built from \|g|² = g·ḡ, as in optax; pass the conjugate gradient).

**States** follow optax's conventions: NamedTuples that ``optax.tree_utils.tree_get`` reads by name, each name
found once. Every optimizer has one ``count`` (t, int32: the updates made so far, in
:class:`~jaxml.optim.combine.LearningRateState`); the moments are stored *raw* — ``mu`` (μ, not m̂) and
``nu`` (ν, not ν̂), as in ``optax.ScaleByAdamState`` — and bias-corrected in ``update``. Each alias's docstring
lists its fields; :func:`~jaxml.optim.transforms.sigma` returns the lecture's σ from any of these states.

Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from jaxml import optim
    >>> loss = lambda θ: jnp.sum(θ ** 2)
    >>> opt = optim.adam(0.1)
    >>> θ = jnp.array([1.0, -2.0]); state = opt.init(θ)
    >>> for _ in range(3):
    ...     u, state = opt.update(jax.grad(loss)(θ), state, θ)
    ...     θ = optax.apply_updates(θ, u)
    >>> [round(float(x), 3) for x in θ]
    [0.702, -1.701]
    >>> optax.tree_utils.tree_get(state, "count")
    Array(3, dtype=int32)
    >>> [round(float(x), 2) for x in optim.sigma(opt, state)]      # Adam's σ = √ν̂
    [1.81, 3.8]
"""

from __future__ import annotations

from typing import Any

import jax
import optax

from jaxml._checks import check_hyperparameter
from jaxml.optim.combine import chain, divide
from jaxml.optim.transforms import (
    add_eps,
    first_moment,
    rms_belief,
    rms_ema,
    running_max,
    scale_by_adagrad,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_rms,
)

__all__ = ["adabelief", "adagrad", "adam", "amsgrad", "momentum", "nadam", "rmsprop", "sgd"]

Scalar = float | jax.Array


def sgd(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    r"""Gradient descent: θᵗ⁺¹ = θᵗ − ηᵗgᵗ.

    Same as ``optax.sgd(learning_rate)``. State: ``LearningRateState(count)`` — ``count``, t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).

    Returns:
        An ``optax.GradientTransformationExtraArgs`` (:func:`~jaxml.optim.transforms.scale_by_learning_rate`)
        whose ``update`` outputs −ηᵗgᵗ.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar.
        ValueError: if η (or the schedule's η⁰) is negative, infinite or NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = sgd(0.1)
        >>> opt.update(jnp.array([1.0, -2.0]), opt.init(jnp.zeros(2)), some_extra_arg=1)[0]
        Array([-0.1,  0.2], dtype=float32)
    """
    return scale_by_learning_rate(learning_rate)


def momentum(
    learning_rate: optax.ScalarOrSchedule, beta: Scalar = 0.9, *, accumulator_dtype: Any | None = None
) -> optax.GradientTransformationExtraArgs:
    r"""Gradient descent with (heavy-ball) momentum, the lecture's form (course §4.2):

        m⁰ = 0,  mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹,  θᵗ = θᵗ⁻¹ + mᵗ,   λ = ``beta``.

    The learning rate is applied *before* accumulation (m is a weighted sum of past *steps*). For a constant η
    this equals ``optax.sgd(η, momentum=λ)``, which accumulates past *gradients* and multiplies the sum by −η;
    under a schedule the two differ: here each past gradient keeps the η of its own step.
    ``accumulator_dtype`` stores m in that dtype (e.g. ``jnp.bfloat16``), as optax's ``accumulator_dtype``.

    State ``(LearningRateState(count), MomentumState(m))``: ``count`` t; ``m`` the lecture's mᵗ (= −η × optax's
    ``trace`` for a constant η, hence not named ``trace``).

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        beta: λ ∈ [0, 1), the weight of the previous momentum mᵗ⁻¹.
        accumulator_dtype: the dtype m is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs the step mᵗ (in the gradients'
        dtype), with the state above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, ``beta`` is not
            a real number, or ``accumulator_dtype`` is not a dtype.
        ValueError: if η (or η⁰) is negative, ``beta`` lies outside [0, 1), or either is infinite or NaN.

    References:
        Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR Comp. Math. 4 (1964).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = momentum(0.1, 0.9, accumulator_dtype=jnp.bfloat16)
        >>> state = opt.init(jnp.zeros(2))
        >>> u, state = opt.update(jnp.array([1.0, -2.0]), state)
        >>> u, optax.tree_utils.tree_get(state, "m").dtype
        (Array([-0.1,  0.2], dtype=float32), dtype(bfloat16))
    """
    return chain(scale_by_learning_rate(learning_rate), scale_by_momentum(beta, accumulator_dtype=accumulator_dtype))


def adagrad(learning_rate: optax.ScalarOrSchedule, eps: Scalar = 1e-8) -> optax.GradientTransformationExtraArgs:
    r"""Adagrad as in the lecture (course §4.4): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε), σᵢᵗ = √(1/(t+1) Σₖ₌₀ᵗ \|gᵢᵏ|²).

    σ is the root *mean* square of all past gradients. ``optax.adagrad`` divides by the root of the *sum*
    (plus ``initial_accumulator_value`` = 0.1), i.e. its step is this one with η/√(t+1). ε sits inside the root,
    as in the lecture's Adagrad code and in optax (it only guards against 0/0).

    State ``(FanOutState((EmptyState(), RmsState(nu))), LearningRateState(count))``: ``nu`` = (σᵗ)², the running
    mean of \|g|² (optax's Adagrad keeps the sum, ``sum_of_squares``: another quantity, hence another name);
    ``count`` t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        eps: ε ≥ 0, added to σ² inside the root.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ gᵗ / √((σᵗ)² + ε), with the
        state above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, or ``eps`` is
            not a real number.
        ValueError: if η (or η⁰) or ``eps`` is negative, infinite or NaN.

    References:
        Duchi, Hazan & Singer, *Adaptive Subgradient Methods*, JMLR 12 (2011).

    Example:
        >>> import jax.numpy as jnp
        >>> opt = adagrad(0.5, eps=0.0)
        >>> opt.update(jnp.array([3.0, -0.1]), opt.init(jnp.zeros(2)))[0]   # first step −η·sign(g)
        Array([-0.5,  0.5], dtype=float32)
    """
    return chain(scale_by_adagrad(eps, eps_in_sqrt=True), scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: optax.ScalarOrSchedule, alpha: Scalar = 0.9, eps: Scalar = 1e-8
) -> optax.GradientTransformationExtraArgs:
    r"""RMSProp as in the lecture (course §4.5): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε) with

        σᵢ⁰ = \|gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)|gᵢᵗ|² ).

    ``optax.rmsprop(η, decay=α)`` starts from σ² = 0 instead (so its first steps are up to 1/√(1−α) larger);
    from the second gradient on the recurrences are the same. ε sits inside the root as in optax: XLA then
    computes g·rsqrt(σ² + ε), where g/(σ + ε) would cost a square root *and* a division per parameter.

    State ``(FanOutState((EmptyState(), RmsState(nu))), LearningRateState(count))``: ``nu`` = (σᵗ)², the
    α-average of \|g|² (optax's ``nu``, but started at \|g⁰|²); ``count`` t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        alpha: α ∈ [0, 1), the weight of the previous average (optax's ``decay``).
        eps: ε ≥ 0, added to σ² inside the root.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ gᵗ / √((σᵗ)² + ε), with the
        state above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, or ``alpha`` or
            ``eps`` is not a real number.
        ValueError: if η (or η⁰) or ``eps`` is negative, ``alpha`` lies outside [0, 1), or any of them is infinite or
            NaN.

    References:
        Tieleman & Hinton, *Lecture 6.5 — RMSProp*, COURSERA: Neural Networks for Machine Learning (2012).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = rmsprop(0.5, alpha=0.5)
        >>> u, state = opt.update(jnp.array([3.0, -0.1]), opt.init(jnp.zeros(2)))
        >>> optax.tree_utils.tree_get(state, "nu")      # σ⁰ = |g⁰|
        Array([9.  , 0.01], dtype=float32)
    """
    return chain(scale_by_rms(alpha, eps, eps_in_sqrt=True), scale_by_learning_rate(learning_rate))


def adam(
    learning_rate: optax.ScalarOrSchedule,
    b1: Scalar = 0.9,
    b2: Scalar = 0.999,
    eps: Scalar = 1e-8,
    *,
    mu_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Adam = RMSProp + Momentum (course §4.6): θᵗ⁺¹ = θᵗ − η m̂ᵗ / (σᵗ + ε), where (t = 1, 2, … here)

        μᵗ = β₁μᵗ⁻¹ + (1−β₁)gᵗ,  νᵗ = β₂νᵗ⁻¹ + (1−β₂)|gᵗ|²,  m̂ᵗ = μᵗ/(1−β₁ᵗ),  σᵗ = √(νᵗ/(1−β₂ᵗ)),

    *both of the raw gradient* — hence :func:`~jaxml.optim.combine.divide`, not a serial chain:
    ``chain(divide(first_moment(b1), rms_ema(b2, eps, bias_correction=True)), scale_by_learning_rate(η))``.
    Equal to ``optax.adam(learning_rate, b1, b2, eps, mu_dtype=mu_dtype)`` step after step (to rounding), for real
    and complex parameters. ``mu_dtype`` stores μ in that dtype (e.g. ``jnp.bfloat16``).

    State ``(FanOutState((FirstMomentState(mu), RmsState(nu))), LearningRateState(count))`` — ``mu``, ``nu``,
    ``count`` exactly as ``optax.ScaleByAdamState``: the raw averages (bias-corrected only in ``update``) and t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        b1: β₁ ∈ [0, 1), the weight of the previous first moment μᵗ⁻¹.
        b2: β₂ ∈ [0, 1), the weight of the previous second moment νᵗ⁻¹.
        eps: ε ≥ 0, added to σ outside the root.
        mu_dtype: the dtype μ is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ m̂ᵗ / (σᵗ + ε), with the state
        above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, a
            hyper-parameter is not a real number, or ``mu_dtype`` is not a dtype.
        ValueError: if η (or η⁰) or ``eps`` is negative, ``b1`` or ``b2`` lies outside [0, 1), or any of them is
            infinite or NaN.

    References:
        Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015 (arXiv:1412.6980).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = adam(0.1, mu_dtype=jnp.bfloat16)
        >>> u, state = opt.update(jnp.array([3.0, -0.5]), opt.init(jnp.zeros(2)))
        >>> [round(float(x), 6) for x in u]                    # the first step is −η·sign(g)
        [-0.1, 0.1]
        >>> optax.tree_utils.tree_get(state, "mu")             # raw μ¹ = (1−β₁)g
        Array([0.300781, -0.0500488], dtype=bfloat16)
    """
    check_hyperparameter("b2", b2, high=1.0)  # named as the caller knows it (the block calls it alpha)
    return chain(
        divide(first_moment(b1, mu_dtype=mu_dtype), rms_ema(b2, eps, bias_correction=True)),
        scale_by_learning_rate(learning_rate),
    )


def nadam(
    learning_rate: optax.ScalarOrSchedule,
    b1: Scalar = 0.9,
    b2: Scalar = 0.999,
    eps: Scalar = 1e-8,
    *,
    mu_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Nadam: Adam whose first moment looks one step ahead (Nesterov momentum), as ``optax.nadam``:

        θᵗ⁺¹ = θᵗ − η m̄ᵗ / (σᵗ + ε),   m̄ᵗ = β₁μᵗ/(1−β₁ᵗ⁺¹) + (1−β₁)gᵗ/(1−β₁ᵗ),

    μ and σ as in :func:`adam`: ``chain(divide(first_moment(b1, nesterov=True), rms_ema(b2, eps,
    bias_correction=True)), scale_by_learning_rate(η))``. Equal to ``optax.nadam(learning_rate, b1, b2, eps)``
    (which, like most implementations, leaves out the extra β₂ factor of Dozat's Algorithm 2).

    State ``(FanOutState((FirstMomentState(mu), RmsState(nu))), LearningRateState(count))`` as :func:`adam`.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        b1: β₁ ∈ [0, 1), the weight of the previous first moment μᵗ⁻¹.
        b2: β₂ ∈ [0, 1), the weight of the previous second moment νᵗ⁻¹.
        eps: ε ≥ 0, added to σ outside the root.
        mu_dtype: the dtype μ is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ m̄ᵗ / (σᵗ + ε), with the state
        above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, a
            hyper-parameter is not a real number, or ``mu_dtype`` is not a dtype.
        ValueError: if η (or η⁰) or ``eps`` is negative, ``b1`` or ``b2`` lies outside [0, 1), or any of them is
            infinite or NaN.

    References:
        Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = nadam(0.1, b1=0.5)
        >>> u, state = opt.update(jnp.array([2.0]), opt.init(jnp.zeros(1)))
        >>> u     # μ = (1−β₁)g = 1, m̄ = β₁μ/(1−β₁²) + (1−β₁)g/(1−β₁) = 2/3 + 2, σ = |g| = 2: −η·(8/3)/2
        Array([-0.13333334], dtype=float32)
    """
    check_hyperparameter("b2", b2, high=1.0)
    return chain(
        divide(first_moment(b1, nesterov=True, mu_dtype=mu_dtype), rms_ema(b2, eps, bias_correction=True)),
        scale_by_learning_rate(learning_rate),
    )


def amsgrad(
    learning_rate: optax.ScalarOrSchedule,
    b1: Scalar = 0.9,
    b2: Scalar = 0.999,
    eps: Scalar = 1e-8,
    eps_root: Scalar = 0.0,
    *,
    mu_dtype: Any | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""AMSGrad: Adam whose σ never shrinks, as ``optax.amsgrad`` (bias-corrected μ and ν, its defaults):

        σ̂ᵗ = max(σ̂ᵗ⁻¹, √(ν̂ᵗ + ε_root)),   θᵗ⁺¹ = θᵗ − η m̂ᵗ / (σ̂ᵗ + ε),

    i.e. ν̂ₜ = max(ν̂ₜ₋₁, νₜ) under the root (√ is monotone, so the max may be taken after it):
    ``chain(divide(first_moment(b1), chain(rms_ema(b2, eps_root, bias_correction=True, eps_in_sqrt=True),
    running_max(), add_eps(eps))), scale_by_learning_rate(η))``. A large rare gradient then keeps damping later
    steps, which Adam forgets — the counterexample of Reddi et al., where Adam fails to converge.

    State ``(FanOutState((FirstMomentState(mu), (RmsState(nu), RunningMaxState(maximum), EmptyState()))),
    LearningRateState(count))``: ``mu``, ``nu`` raw as in :func:`adam`; ``maximum`` = σ̂ᵗ, the running max of
    √(ν̂ + ε_root) (optax's ``nu_max`` is ``maximum² − ε_root``); ``count`` t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        b1: β₁ ∈ [0, 1), the weight of the previous first moment μᵗ⁻¹.
        b2: β₂ ∈ [0, 1), the weight of the previous second moment νᵗ⁻¹.
        eps: ε ≥ 0, added to σ̂ outside the root.
        eps_root: ε_root ≥ 0, added to ν̂ inside the root, before the running max.
        mu_dtype: the dtype μ is stored in, e.g. ``jnp.bfloat16``; ``None``: the parameters'.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ m̂ᵗ / (σ̂ᵗ + ε), with the state
        above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, a
            hyper-parameter is not a real number, or ``mu_dtype`` is not a dtype.
        ValueError: if η (or η⁰) or ``eps`` or ``eps_root`` is negative, ``b1`` or ``b2`` lies outside [0, 1), or any of
            them is infinite or NaN.

    References:
        Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018 (arXiv:1904.09237).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = amsgrad(0.1, b2=0.5, eps=0.0)
        >>> state = opt.init(jnp.zeros(1))
        >>> _, state = opt.update(jnp.array([4.0]), state)
        >>> u, state = opt.update(jnp.array([1.0]), state)
        >>> optax.tree_utils.tree_get(state, "maximum")  # σ̂ keeps |g⁰| = 4 (Adam's σ would be √(8.5/1.5·…))
        Array([4.], dtype=float32)
    """
    check_hyperparameter("b2", b2, high=1.0)
    check_hyperparameter("eps_root", eps_root)
    denominator = chain(rms_ema(b2, eps_root, bias_correction=True, eps_in_sqrt=True), running_max(), add_eps(eps))
    return chain(divide(first_moment(b1, mu_dtype=mu_dtype), denominator), scale_by_learning_rate(learning_rate))


def adabelief(
    learning_rate: optax.ScalarOrSchedule,
    b1: Scalar = 0.9,
    b2: Scalar = 0.999,
    eps: Scalar = 1e-16,
    eps_root: Scalar = 1e-16,
    *,
    nesterov: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""AdaBelief: Adam whose σ measures how far g strays from its own running mean μ, as ``optax.adabelief``:

        sᵗ = β₂sᵗ⁻¹ + (1−β₂)|gᵗ − μᵗ|² + ε_root,   θᵗ⁺¹ = θᵗ − η m̂ᵗ / (√(sᵗ/(1−β₂ᵗ)) + ε),

    μ and m̂ as in :func:`adam` (Nesterov's look-ahead with ``nesterov``, as :func:`nadam`):
    ``chain(divide(first_moment(b1), rms_belief(b2, eps, eps_root)), scale_by_learning_rate(η))`` — the
    denominator reads μ from the numerator's state, so μ is kept once.

    State ``(FanOutState((FirstMomentState(mu), RmsState(nu))), LearningRateState(count))``: ``mu`` raw μ;
    ``nu`` = s (ε_root included), as ``optax.ScaleByBeliefState``; ``count`` t.

    Args:
        learning_rate: η ≥ 0, a real number or an ``optax.Schedule`` t ↦ ηᵗ (called once here at t = 0).
        b1: β₁ ∈ [0, 1), the weight of the previous first moment μᵗ⁻¹.
        b2: β₂ ∈ [0, 1), the weight of the previous average sᵗ⁻¹.
        eps: ε ≥ 0, added to √ŝ outside the root.
        eps_root: ε_root ≥ 0, added to s at every update (inside the root).
        nesterov: use Nesterov's look-ahead first moment, as :func:`nadam`.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``update`` outputs −ηᵗ m̂ᵗ / (√ŝᵗ + ε), with the state
        above.

    Raises:
        TypeError: if ``learning_rate`` is neither a real number nor a schedule returning a real scalar, or a
            hyper-parameter is not a real number.
        ValueError: if η (or η⁰), ``eps`` or ``eps_root`` is negative, ``b1`` or ``b2`` lies outside [0, 1), or any of
            them is infinite or NaN.

    References:
        Zhuang et al., *AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients*,
        NeurIPS 2020 (arXiv:2010.07468).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = adabelief(0.1)
        >>> u, state = opt.update(jnp.array([2.0, -1.0]), opt.init(jnp.zeros(2)))
        >>> [round(float(x), 6) for x in u]     # first step: g − μ = β₁g, so −η·g/(β₁|g|) = −(η/β₁)·sign(g)
        [-0.111111, 0.111111]
    """
    return chain(
        divide(first_moment(b1, nesterov=nesterov), rms_belief(b2, eps, eps_root)),
        scale_by_learning_rate(learning_rate),
    )
