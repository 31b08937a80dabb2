"""Optax-style optimizers of the lecture, built from small blocks (SCOPE §4).

* :mod:`~jaxml.optim.transforms` — blocks: learning rate, momentum, RMS (Adagrad / RMSProp / Adam σ).
* :mod:`~jaxml.optim.combine` — :func:`fan_out` / :func:`divide`: several blocks on the *same* raw gradient.
* :mod:`~jaxml.optim.alias` — :func:`sgd`, :func:`momentum`, :func:`adagrad`, :func:`rmsprop`, :func:`adam`.
* :mod:`~jaxml.optim.schedules` — learning-rate decay and warm-up schedules.

Every optimizer is an ``optax.GradientTransformationExtraArgs``, so it composes with ``optax.chain``,
``optax.inject_hyperparams``, ``optax.MultiSteps``, ``optax.apply_if_finite``, ``jit`` and ``vmap``, takes
real or complex parameters, and keeps NamedTuple states that ``optax.tree_utils.tree_get`` reads by name.
It is also a pytree whose leaves are its float hyper-parameters (η, β, λ, α, ε): another η keeps the tree
structure, so :func:`jaxml.train.fit` passes it into its compiled program as an argument and does not compile
again. A learning rate given as an ``optax.Schedule`` is one leaf that is a function: such an optimizer (and
any ``optax.chain`` of ours with optax's own, which close over their numbers) is a constant of the program.

Example:
    >>> import jax.numpy as jnp, optax
    >>> from jaxml import optim
    >>> opt = optax.chain(optax.clip_by_global_norm(1.0), optim.adam(optim.schedules.cosine_decay(1e-3, 1000)))
    >>> state = opt.init(jnp.zeros(3))
    >>> optax.tree_utils.tree_get(state, "sigma_sq")
    Array([0., 0., 0.], dtype=float32)
"""

from jaxml.optim import schedules
from jaxml.optim.alias import adagrad, adam, momentum, rmsprop, sgd
from jaxml.optim.combine import FanOutState, chain, divide, fan_out, identity
from jaxml.optim.transforms import (
    LearningRateState,
    MomentumState,
    RmsState,
    check_hyperparameter,
    rms_ema,
    rms_mean,
    scale_by_adagrad,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_rms,
)

__all__ = [
    # the lecture's optimizers
    "adagrad",
    "adam",
    "momentum",
    "rmsprop",
    "sgd",
    # their blocks and the states those keep
    "LearningRateState",
    "MomentumState",
    "RmsState",
    "rms_ema",
    "rms_mean",
    "scale_by_adagrad",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_rms",
    # combinators: several blocks on one raw gradient, and optax's chain/identity as pytrees
    "FanOutState",
    "chain",
    "divide",
    "fan_out",
    "identity",
    # learning-rate schedules, and the domain check the blocks and schedules share
    "check_hyperparameter",
    "schedules",
]
