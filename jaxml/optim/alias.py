r"""The lecture's optimizers, each a composition of the blocks in :mod:`jaxml.optim.transforms`.

All of them are instances of the lecture's summary (SCOPE §4.8), θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ/σᵢᵗ) mᵢᵗ:

=========  ==========================================  ===========================================
optimizer  numerator mᵗ                                denominator σᵗ
=========  ==========================================  ===========================================
sgd        gᵗ                                          1
momentum   λmᵗ⁻¹ − ηgᵗ (η inside, heavy ball)          1
adagrad    gᵗ                                          √(mean of all past g² + ε)
rmsprop    gᵗ                                          √(α-average of g² + ε), σ⁰ = |g⁰|
adam       bias-corrected β₁-average of g              √(bias-corrected β₂-average of g²) + ε
=========  ==========================================  ===========================================

``learning_rate`` may be a float or an ``optax.Schedule``. Hyper-parameters outside their domain (η < 0;
β, α outside [0, 1); ε < 0) raise ``ValueError`` when they are concrete numbers; JAX arrays (tracers under
``vmap``/``jit``/``optax.inject_hyperparams``) are not checked.

Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from jaxml import optim
    >>> loss = lambda θ: jnp.sum(θ ** 2)
    >>> opt = optim.adam(0.1)
    >>> θ = jnp.array([1.0, -2.0]); state = opt.init(θ)
    >>> for _ in range(3):
    ...     u, state = opt.update(jax.grad(loss)(θ), state, θ)
    ...     θ = optax.apply_updates(θ, u)
"""

from __future__ import annotations

import jax
import optax

from jaxml.optim.combine import divide
from jaxml.optim.transforms import (
    check_hyperparameter,
    rms_ema,
    rms_mean,
    scale_by_learning_rate,
    scale_by_momentum,
)

__all__ = ["adagrad", "adam", "momentum", "rmsprop", "sgd"]

Scalar = float | jax.Array


def sgd(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformation:
    r"""Gradient descent: θᵗ⁺¹ = θᵗ − ηᵗgᵗ.

    Same as ``optax.sgd(learning_rate)``.
    """
    return scale_by_learning_rate(learning_rate)


def momentum(learning_rate: optax.ScalarOrSchedule, beta: Scalar = 0.9) -> optax.GradientTransformation:
    r"""Gradient descent with (heavy-ball) momentum, the lecture's form (SCOPE §4.2):

        m⁰ = 0,  mᵗ = λmᵗ⁻¹ − ηgᵗ⁻¹,  θᵗ = θᵗ⁻¹ + mᵗ,   λ = ``beta``.

    The learning rate is applied *before* accumulation (m is a weighted sum of past *steps*). For a constant η
    this equals ``optax.sgd(η, momentum=λ)``, which accumulates past *gradients* and multiplies the sum by −η;
    under a schedule the two differ: here each past gradient keeps the η of its own step.
    """
    check_hyperparameter("beta", beta, high=1.0)
    return optax.chain(scale_by_learning_rate(learning_rate), scale_by_momentum(beta))


def adagrad(learning_rate: optax.ScalarOrSchedule, eps: Scalar = 1e-8) -> optax.GradientTransformation:
    r"""Adagrad as in the lecture (SCOPE §4.4): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε), σᵢᵗ = √(1/(t+1) Σₖ₌₀ᵗ (gᵢᵏ)²).

    σ is the root *mean* square of all past gradients. ``optax.adagrad`` divides by the root of the *sum*
    (plus ``initial_accumulator_value`` = 0.1), i.e. its step is this one with η/√(t+1). ε sits inside the root,
    as in the lecture's Adagrad code and in optax (it only guards against 0/0).
    """
    check_hyperparameter("eps", eps)
    rms = rms_mean(eps, eps_in_sqrt=True)
    return optax.chain(divide(optax.identity(), rms), scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: optax.ScalarOrSchedule, alpha: Scalar = 0.9, eps: Scalar = 1e-8
) -> optax.GradientTransformation:
    r"""RMSProp as in the lecture (SCOPE §4.5): θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε) with

        σᵢ⁰ = |gᵢ⁰|,  σᵢᵗ = √( α(σᵢᵗ⁻¹)² + (1−α)(gᵢᵗ)² ).

    ``optax.rmsprop(η, decay=α)`` starts from σ² = 0 instead (so its first steps are up to 1/√(1−α) larger);
    from the second gradient on the recurrences are the same. ε sits inside the root as in optax: XLA then
    computes g·rsqrt(σ² + ε), where g/(σ + ε) would cost a square root *and* a division per parameter.
    """
    check_hyperparameter("alpha", alpha, high=1.0)
    check_hyperparameter("eps", eps)
    rms = rms_ema(alpha, eps, eps_in_sqrt=True)
    return optax.chain(divide(optax.identity(), rms), scale_by_learning_rate(learning_rate))


def adam(
    learning_rate: optax.ScalarOrSchedule, b1: Scalar = 0.9, b2: Scalar = 0.999, eps: Scalar = 1e-8
) -> optax.GradientTransformation:
    r"""Adam = RMSProp + Momentum (Kingma & Ba 2015; SCOPE §4.6): θᵗ⁺¹ = θᵗ − η m̂ᵗ / (σᵗ + ε), where

        m̂ᵗ = bias-corrected β₁-average of g,  σᵗ = √(bias-corrected β₂-average of g²),

    *both of the raw gradient* — hence :func:`~jaxml.optim.combine.divide`, not a serial chain. Equal to
    ``optax.adam(learning_rate, b1, b2, eps)`` step after step (up to rounding).
    """
    check_hyperparameter("b1", b1, high=1.0)
    check_hyperparameter("b2", b2, high=1.0)
    check_hyperparameter("eps", eps)
    momentum_ = scale_by_momentum(b1, ema=True, bias_correction=True)
    rms = rms_ema(b2, eps, bias_correction=True)
    return optax.chain(divide(momentum_, rms), scale_by_learning_rate(learning_rate))
