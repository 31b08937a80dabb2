r"""The lecture's optimizers, each a composition of the blocks in :mod:`jaxml.optim.transforms`.

All of them are instances of the lecture's summary (SCOPE §4.8), θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ/σᵢᵗ) mᵢᵗ:

=========  ==========================================  ===========================================
optimizer  numerator mᵗ                                denominator σᵗ
=========  ==========================================  ===========================================
sgd        gᵗ                                          1
momentum   λmᵗ⁻¹ − ηgᵗ (η inside, heavy ball)          1
adagrad    gᵗ                                          √(mean of all past |g|² + ε)
rmsprop    gᵗ                                          √(α-average of |g|² + ε), σ⁰ = |g⁰|
adam       bias-corrected β₁-average of g              √(bias-corrected β₂-average of |g|²) + ε
=========  ==========================================  ===========================================

``learning_rate`` may be a float or an ``optax.Schedule``. Each optimizer is a pytree whose leaves are its
numbers (η, β, λ, α, ε; :func:`jaxml.optim.combine.pytree_fn`), so :func:`jaxml.train.fit` compiles one program
for every η of a kind; a schedule is a leaf that is a function, which keeps the optimizer a constant of the
program (compiled per optimizer object, as optax's own are). Hyper-parameters outside their domain (η < 0;
β, α outside [0, 1); ε < 0; any of them infinite or NaN) raise ``ValueError`` naming the argument when they are
concrete numbers; a schedule is called once at t = 0 and must return a finite real scalar ≥ 0. JAX arrays
(tracers under ``vmap``/``jit``/``optax.inject_hyperparams``) are not checked. ε = 0 is allowed everywhere: a
zero numerator over a zero σ is a zero update (:func:`~jaxml.optim.combine.divide`), not NaN.

Every optimizer is an ``optax.GradientTransformationExtraArgs`` (``update`` ignores extra keyword arguments),
works on real and complex parameters (σ² is built from |g|² = g·ḡ, as in optax; pass the conjugate gradient),
and keeps its state as NamedTuples that ``optax.tree_utils.tree_get`` reads by name: ``"sigma_sq"`` (σ², in
adagrad, rmsprop and adam) and ``"m"`` (momentum and adam) are found once in every optimizer that has them.
Each block counts its own updates, so ``"count"`` is unique only in ``sgd``; the step count of every optimizer
is ``tree_get(state, "LearningRateState").count``.

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
    >>> [round(float(x), 2) for x in optax.tree_utils.tree_get(state, "sigma_sq")]   # Adam's σ² = v̂, by name
    [3.27, 14.47]
    >>> optax.tree_utils.tree_get(state, "LearningRateState").count
    Array(3, dtype=int32)
"""

from __future__ import annotations

from typing import Any

import jax
import optax

from jaxml.optim.combine import chain, divide
from jaxml.optim.transforms import (
    check_hyperparameter,
    rms_ema,
    scale_by_adagrad,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_rms,
)

__all__ = ["adagrad", "adam", "momentum", "rmsprop", "sgd"]

Scalar = float | jax.Array


def sgd(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    r"""Gradient descent: θᵗ⁺¹ = θᵗ − ηᵗgᵗ.

    Same as ``optax.sgd(learning_rate)``.

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
    r"""Gradient descent with (heavy-ball) momentum, the lecture's form (SCOPE §4.2):

        m⁰ = 0,  mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹,  θᵗ = θᵗ⁻¹ + mᵗ,   λ = ``beta``.

    The learning rate is applied *before* accumulation (m is a weighted sum of past *steps*). For a constant η
    this equals ``optax.sgd(η, momentum=λ)``, which accumulates past *gradients* and multiplies the sum by −η;
    under a schedule the two differ: here each past gradient keeps the η of its own step.
    ``accumulator_dtype`` stores m in that dtype (e.g. ``jnp.bfloat16``), as optax's ``accumulator_dtype``.

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
    r"""Adagrad as in the lecture (SCOPE §4.4): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε), σᵢᵗ = √(1/(t+1) Σₖ₌₀ᵗ |gᵢᵏ|²).

    σ is the root *mean* square of all past gradients. ``optax.adagrad`` divides by the root of the *sum*
    (plus ``initial_accumulator_value`` = 0.1), i.e. its step is this one with η/√(t+1). ε sits inside the root,
    as in the lecture's Adagrad code and in optax (it only guards against 0/0).

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
    r"""RMSProp as in the lecture (SCOPE §4.5): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε) with

        σᵢ⁰ = |gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)|gᵢᵗ|² ).

    ``optax.rmsprop(η, decay=α)`` starts from σ² = 0 instead (so its first steps are up to 1/√(1−α) larger);
    from the second gradient on the recurrences are the same. ε sits inside the root as in optax: XLA then
    computes g·rsqrt(σ² + ε), where g/(σ + ε) would cost a square root *and* a division per parameter.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = rmsprop(0.5, alpha=0.5)
        >>> u, state = opt.update(jnp.array([3.0, -0.1]), opt.init(jnp.zeros(2)))
        >>> optax.tree_utils.tree_get(state, "sigma_sq")      # σ⁰ = |g⁰|
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
    r"""Adam = RMSProp + Momentum (Kingma & Ba 2015; SCOPE §4.6): θᵗ⁺¹ = θᵗ − η m̂ᵗ / (σᵗ + ε), where

        m̂ᵗ = bias-corrected β₁-average of g,  σᵗ = √(bias-corrected β₂-average of |g|²),

    *both of the raw gradient* — hence :func:`~jaxml.optim.combine.divide`, not a serial chain. Equal to
    ``optax.adam(learning_rate, b1, b2, eps, mu_dtype=mu_dtype)`` step after step (up to rounding), for real
    and complex parameters. ``mu_dtype`` stores the first moment m̂ in that dtype (e.g. ``jnp.bfloat16``).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> opt = adam(0.1, mu_dtype=jnp.bfloat16)
        >>> u, state = opt.update(jnp.array([3.0, -0.5]), opt.init(jnp.zeros(2)))
        >>> u                                                  # the first step is −η·sign(g)
        Array([-0.1,  0.1], dtype=float32)
        >>> optax.tree_utils.tree_get(state, "m")
        Array([3, -0.5], dtype=bfloat16)
    """
    check_hyperparameter("b1", b1, high=1.0)
    check_hyperparameter("b2", b2, high=1.0)
    first_moment = scale_by_momentum(b1, ema=True, bias_correction=True, accumulator_dtype=mu_dtype)
    rms = rms_ema(b2, eps, bias_correction=True)
    return chain(divide(first_moment, rms), scale_by_learning_rate(learning_rate))
