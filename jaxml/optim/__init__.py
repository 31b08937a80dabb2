"""Optax-style optimizers of the lecture, built from small blocks (course §4).

* :mod:`~jaxml.optim.transforms` — blocks: learning rate (and the step count), momentum, first moment (Adam's,
  Nesterov's), RMS (Adagrad / RMSProp / Adam / AdaBelief σ), running max, add ε; :func:`sigma` reads σ back.
* :mod:`~jaxml.optim.combine` — :func:`chain`, :func:`fan_out` / :func:`divide` (several blocks on the *same*
  raw gradient), :func:`pytree_fn` / :func:`numeric_pytree` (blocks as pytrees of their numbers).
* :mod:`~jaxml.optim.alias` — :func:`sgd`, :func:`momentum`, :func:`adagrad`, :func:`rmsprop`, :func:`adam`,
  and the research variants :func:`nadam`, :func:`amsgrad`, :func:`adabelief`.
* :mod:`~jaxml.optim.schedules` — learning-rate decay and warm-up schedules.

Every optimizer is an ``optax.GradientTransformationExtraArgs``, so it composes with ``optax.chain``,
``optax.inject_hyperparams``, ``optax.MultiSteps``, ``optax.apply_if_finite``, ``jit`` and ``vmap``, takes
real or complex parameters, and keeps NamedTuple states in optax's conventions that
``optax.tree_utils.tree_get`` reads by name: one ``count`` (t), the raw moments ``mu`` and ``nu``.
It is also a pytree whose leaves are its float hyper-parameters (η, β, λ, α, ε): another η keeps the tree
structure, so :func:`jaxml.train.fit` passes it into its compiled program as an argument and does not compile
again. A learning rate given as an ``optax.Schedule`` is one leaf that is a function: such an optimizer (and
any ``optax.chain`` of ours with optax's own, which close over their numbers) is a constant of the program.

Write your own optimizer from blocks
------------------------------------
An optimizer is a :func:`chain` whose last link is :func:`scale_by_learning_rate` (−η, and the optimizer's one
step count t, which :func:`chain` and :func:`fan_out` hand to every block as ``count``), and whose first link
computes the direction m / σ with :func:`divide` — numerator and denominator both see the *raw* gradient.
Use the blocks as they are (their numbers stay leaves: :func:`numeric_pytree` holds and another η compiles
nothing in :func:`jaxml.train.fit`), or write a new block the same way: two module-level functions
``init(*static, params)`` and ``update(*static, *hyper, updates, state, params=None, *, count=None, **extra)``
wrapped by :func:`pytree_fn` (``static``: flags, dtypes; ``hyper``: the numbers), a NamedTuple state holding
raw statistics, and the hyper-parameters checked with :func:`check_hyperparameter`. A block needing another's
statistic reads it from ``earlier_states`` (see :func:`fan_out`). AMSGrad, built by hand and compared with
optax's:

    >>> import jax, jax.numpy as jnp, optax
    >>> from jaxml import optim
    >>> def my_amsgrad(eta, b1=0.9, b2=0.999, eps=1e-8):
    ...     sigma_hat = optim.chain(optim.rms_ema(b2, bias_correction=True), optim.running_max(), optim.add_eps(eps))
    ...     return optim.chain(optim.divide(optim.first_moment(b1), sigma_hat), optim.scale_by_learning_rate(eta))
    >>> opt, ref = my_amsgrad(0.1), optax.amsgrad(0.1)
    >>> optim.numeric_pytree(opt), jax.tree_util.tree_leaves(opt)       # b1, b2, ε (rms's own), ε, η
    (True, [0.9, 0.999, 0.0, 1e-08, 0.1])
    >>> s, r = opt.init(jnp.zeros(2)), ref.init(jnp.zeros(2))
    >>> for g in jnp.array([[4.0, -1.0], [1.0, 2.0], [0.5, 0.1]]):
    ...     u, s = opt.update(g, s)
    ...     v, r = ref.update(g, r)
    >>> bool(jnp.allclose(u, v, rtol=1e-5)), optax.tree_utils.tree_get(s, "count")
    (True, Array(3, dtype=int32))

A toy block, ``scale(c)`` (uᵗ ↦ c·uᵗ), written as the library's own are:

    >>> def _scale_update(c, updates, state, params=None, **extra):
    ...     return jax.tree.map(lambda u: c * u, updates), state
    >>> def scale(c):
    ...     optim.check_hyperparameter("c", c)
    ...     update = optim.pytree_fn(_scale_update, hyper=(c,))    # c is a leaf: a number the program receives
    ...     return optax.GradientTransformationExtraArgs(optim.identity().init, update)
    >>> half_sgd = optim.chain(scale(0.5), optim.sgd(0.2))
    >>> half_sgd.update(jnp.ones(1), half_sgd.init(jnp.zeros(1)))[0], jax.tree_util.tree_leaves(half_sgd)
    (Array([-0.1], dtype=float32), [0.5, 0.2])

Example:
    >>> opt = optax.chain(optax.clip_by_global_norm(1.0), optim.adam(optim.schedules.cosine_decay(1e-3, 1000)))
    >>> state = opt.init(jnp.zeros(3))
    >>> optax.tree_utils.tree_get(state, "nu"), optax.tree_utils.tree_get(state, "count")
    (Array([0., 0., 0.], dtype=float32), Array(0, dtype=int32))
"""

from jaxml._checks import check_hyperparameter
from jaxml.optim import schedules
from jaxml.optim.alias import adabelief, adagrad, adam, amsgrad, momentum, nadam, rmsprop, sgd
from jaxml.optim.combine import (
    FanOutState,
    LearningRateState,
    chain,
    divide,
    fan_out,
    identity,
    numeric_pytree,
    pytree_fn,
    step_count,
)
from jaxml.optim.transforms import (
    FirstMomentState,
    MomentumState,
    RmsState,
    RunningMaxState,
    add_eps,
    first_moment,
    rms_belief,
    rms_ema,
    rms_mean,
    running_max,
    scale_by_adagrad,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_rms,
    sigma,
)

__all__ = [
    # the lecture's optimizers, and research variants built from the same blocks
    "adabelief",
    "adagrad",
    "adam",
    "amsgrad",
    "momentum",
    "nadam",
    "rmsprop",
    "sgd",
    # their blocks and the states those keep
    "FirstMomentState",
    "LearningRateState",
    "MomentumState",
    "RmsState",
    "RunningMaxState",
    "add_eps",
    "first_moment",
    "rms_belief",
    "rms_ema",
    "rms_mean",
    "running_max",
    "scale_by_adagrad",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_rms",
    # reading a state: the lecture's σ, the step count t
    "sigma",
    "step_count",
    # combinators: several blocks on one raw gradient, optax's chain/identity as pytrees, writing new blocks
    "FanOutState",
    "chain",
    "divide",
    "fan_out",
    "identity",
    "numeric_pytree",
    "pytree_fn",
    # learning-rate schedules, and the domain check the blocks and schedules share
    "check_hyperparameter",
    "schedules",
]
