r"""Combinators beyond ``optax.chain``: feed the *same* raw gradient to several blocks, then combine.

``optax.chain(a, b)`` is serial: ``b`` sees ``a``'s output. Adam needs two statistics of the same raw gradient,

    θᵗ⁺¹ = θᵗ − η · m̂ᵗ / (σᵗ + ε),   m̂ the (bias-corrected) mean of g,  σ = √(mean of \|g|²),

so a serial ``optax.chain(momentum, rms)`` computes the wrong thing: its RMS is taken of the *momentum*
(√(mean of m̂²)), not of the gradient (course §4.6). :func:`fan_out` runs its blocks in parallel on one input and
merges their outputs leaf by leaf; :func:`divide` is the case the lecture needs, numerator ÷ denominator.

Every transformation built here is a *pytree whose leaves are its float hyper-parameters*: ``init`` and
``update`` are ``jax.tree_util.Partial`` s of module-level functions, the numbers (η, β, ε, …) their
arguments and everything that shapes the program (flags, dtypes, ``combine``) bound statically
(:func:`pytree_fn`). Two ``adam(η)`` with different η then share one tree structure, so a compiled program
can take the optimizer as an *argument* (:func:`jaxml.train.fit` does) and another η reuses the program.
:func:`chain` is ``optax.chain`` built the same way (optax's own closes over its links).

**The step count.** An optimizer keeps exactly one step count t (int32, the number of updates made so far, as
optax's ``count``): the state of its :func:`~jaxml.optim.transforms.scale_by_learning_rate` block,
:class:`LearningRateState` (the t of a schedule). Blocks whose math needs t (bias correction, Nesterov's
look-ahead, RMSProp's σ⁰ = \|g⁰|, Adagrad's mean) keep no counter of their own: :func:`chain` and
:func:`fan_out` read t from the :class:`LearningRateState` among their links' states *before* running them and
pass it to every link as the keyword argument ``count`` (t = 0 on the first update); a combinator without one
passes on the ``count`` it was given. So ``optax.tree_utils.tree_get(state, "count")`` is unambiguous.
:func:`fan_out` also passes branch k the new states of branches 0 … k−1 (keyword ``earlier_states``), so a
block can use a statistic another block keeps (AdaBelief's s needs the first moment μ) without a duplicate.

This module depends on optax and JAX only; :mod:`jaxml.optim.transforms` builds on it.

Example:
    >>> import jax.numpy as jnp, optax
    >>> from jaxml.optim.combine import chain, divide
    >>> from jaxml.optim.transforms import first_moment, rms_ema, scale_by_learning_rate
    >>> direction = divide(first_moment(0.9), rms_ema(0.999, 1e-8, bias_correction=True))   # m̂ / (σ + ε)
    >>> adam = chain(direction, scale_by_learning_rate(1e-3))
    >>> u, state = adam.update(jnp.array([3.0]), adam.init(jnp.zeros(1)))
    >>> round(float(u[0]), 8)  # the first Adam step is −η·sign(g)
    -0.001
    >>> optax.tree_utils.tree_get(state, "count"), optax.tree_utils.tree_get(state, "mu")   # one count; raw μ
    (Array(1, dtype=int32), Array([0.3], dtype=float32))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = [
    "FanOutState",
    "LearningRateState",
    "chain",
    "divide",
    "fan_out",
    "identity",
    "numeric_pytree",
    "pytree_fn",
    "step_count",
]


class LearningRateState(NamedTuple):
    """State of :func:`~jaxml.optim.transforms.scale_by_learning_rate`, and the optimizer's one step count.

    Attributes:
        count: t, the number of updates made so far (int32 scalar, as optax's ``count``); the schedule's
            argument, and what :func:`chain` and :func:`fan_out` pass to their links as ``count``.
    """

    count: jax.Array  # int32 scalar


def step_count(state: optax.OptState) -> jax.Array | None:
    """t: the ``count`` of the first :class:`LearningRateState` in ``state`` (depth first), or ``None``.

    Works on the state of any optimizer built from jaxml blocks, also inside optax's wrappers (``chain``,
    ``inject_hyperparams``, ``MultiSteps``, …), and on states stacked over steps (then an array of counts).

    Args:
        state: an optimizer state (any pytree), as the optimizer's ``init`` or ``update`` returns it, possibly
            inside optax wrappers' states or stacked along leading axes.

    Returns:
        The int32 ``count`` t of the first :class:`LearningRateState` found (a scalar; for a stacked state an
        array of the stacked counts), or ``None`` when the state holds none (e.g. a pure optax optimizer's).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxml import optim
        >>> opt = optim.adam(0.1)
        >>> _, s = opt.update(jnp.ones(2), opt.init(jnp.zeros(2)))
        >>> step_count(s)
        Array(1, dtype=int32)
    """
    for node in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, LearningRateState)):
        if isinstance(node, LearningRateState):
            return node.count
    return None


def _with_count(states: Any, extra_args: dict[str, Any]) -> dict[str, Any]:
    """``extra_args`` with ``count`` = t of the links' own counter when they have one, else as given."""
    count = step_count(states)
    return extra_args if count is None else {**extra_args, "count": count}


@dataclasses.dataclass(frozen=True)
class _Bound:
    """``fn`` with static arguments bound in front; equal (and hashing alike) when ``fn`` and they are, so it
    can be the static part (the tree structure) of a ``jax.tree_util.Partial``."""

    fn: Callable[..., Any]
    static: tuple[Any, ...]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*self.static, *args, **kwargs)


def pytree_fn(fn: Callable[..., Any], static: tuple = (), hyper: tuple = ()) -> jax.tree_util.Partial:
    r"""``fn(*static, *hyper, …)`` as a pytree: ``hyper`` are its leaves, ``static`` part of its structure.

    ``static`` holds what must stay a Python value when traced (flags, dtypes, functions; hashable);
    ``hyper`` the numbers a program may receive as arguments (η, β, ε, or other transformations' functions).
    Two such functions of the same ``fn`` and ``static`` have the same tree structure whatever their ``hyper``.

    Args:
        fn: the function, called as ``fn(*static, *hyper, *args, **kwargs)``; a module-level function, so that
            two pytrees built from it compare equal in structure (a new ``lambda`` each time never does).
        static: the leading arguments, part of the tree structure: hashable Python values (flags, dtypes,
            functions) that must stay concrete when traced.
        hyper: the arguments after ``static``, the pytree's children: numbers (η, β, ε) or other pytrees, such
            as transformations' ``init``/``update`` functions.

    Returns:
        A ``jax.tree_util.Partial`` ``p`` whose call ``p(*args, **kwargs)`` is
        ``fn(*static, *hyper, *args, **kwargs)``; its leaves are those of ``hyper``.

    Example:
        >>> import jax
        >>> scale = lambda sign, eta, u: sign * eta * u
        >>> a, b = pytree_fn(scale, static=(-1,), hyper=(0.1,)), pytree_fn(scale, static=(-1,), hyper=(0.3,))
        >>> jax.tree_util.tree_leaves(a), a(2.0)
        ([0.1], -0.2)
        >>> jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
        True
    """
    return jax.tree_util.Partial(_Bound(fn, tuple(static)), *hyper)


def numeric_pytree(transformation: Any) -> bool:
    """Whether every leaf is a float number or a float array and the tree structure hashes: then a compiled
    program can take ``transformation`` as an argument (:func:`jaxml.train.fit` and
    :func:`jaxml.surfaces.trajectory` do), and another η or β reuses the program. optax's own transformations
    (functions as leaves) and jaxml's with a schedule are not: they stay constants of the program.

    Args:
        transformation: any pytree, typically an ``optax.GradientTransformation``.

    Returns:
        ``True`` when every leaf is a Python float or an inexact (floating or complex) array and the tree
        structure is hashable, else ``False`` (an integer leaf, such as ``adam(1)``'s η, counts as not numeric).

    Example:
        >>> numeric_pytree(chain(identity())), numeric_pytree(optax.identity())
        (True, False)
    """
    leaves, treedef = jax.tree_util.tree_flatten(transformation)
    try:
        hash(treedef)
    except TypeError:  # a static part that cannot be a cache key
        return False
    return all(isinstance(a, float) or jnp.issubdtype(getattr(a, "dtype", object), jnp.inexact) for a in leaves)


def _empty_init(params: optax.Params) -> optax.EmptyState:
    del params
    return optax.EmptyState()


def _identity_update(
    updates: optax.Updates, state: optax.OptState, params: optax.Params | None = None, **extra_args: Any
) -> tuple[optax.Updates, optax.OptState]:
    del params, extra_args
    return updates, state


def identity() -> optax.GradientTransformationExtraArgs:
    """``optax.identity()`` as a pytree (no leaves): uᵗ = gᵗ.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose ``init`` returns ``optax.EmptyState()`` and whose
        ``update`` returns the updates unchanged (ignoring ``params`` and extra keyword arguments).

    Example:
        >>> import jax.numpy as jnp
        >>> identity().update(jnp.ones(2), identity().init(jnp.zeros(2)))[0]
        Array([1., 1.], dtype=float32)
    """
    return optax.GradientTransformationExtraArgs(pytree_fn(_empty_init), pytree_fn(_identity_update))


def _chain_init(inits: tuple[Callable[..., Any], ...], params: optax.Params) -> tuple[optax.OptState, ...]:
    return tuple(init(params) for init in inits)


def _chain_update(
    updates_fns: tuple[Callable[..., Any], ...],
    updates: optax.Updates,
    state: tuple[optax.OptState, ...],
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, tuple[optax.OptState, ...]]:
    if not isinstance(state, tuple) or len(state) != len(updates_fns):
        raise ValueError(
            f"chain of {len(updates_fns)} transforms needs the tuple of states its init made, got "
            f"{type(state).__name__}"
        )
    extra_args = _with_count(state, extra_args)
    new_state = []
    for fn, s in zip(updates_fns, state, strict=True):
        updates, s = fn(updates, s, params, **extra_args)
        new_state.append(s)
    return updates, tuple(new_state)


def chain(*transforms: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    r"""``optax.chain``: uᵗ = Tₖ(…T₂(T₁(gᵗ))), the state a tuple of the links' states — as a pytree whose
    leaves are the links' (their hyper-parameters when the links are jaxml blocks; a link that is not a pytree,
    such as an optax transformation, is one leaf).

    Unlike ``optax.chain`` it passes every link the step count t as the keyword argument ``count``: the count
    of the :class:`LearningRateState` among the links' states (read before any link runs), else the ``count``
    this chain was given. Blocks that need t (bias correction, …) therefore work in any order, before or after
    the learning-rate block that counts.

    Args:
        *transforms: the links T₁, …, Tₖ, each an ``optax.GradientTransformation`` (jaxml blocks or optax's
            own), applied in this order; none at all is the identity.

    Returns:
        An ``optax.GradientTransformationExtraArgs``: ``init`` returns the tuple of the links' states, ``update``
        the last link's output and the tuple of their new states (it raises ``ValueError`` given a state that is
        not such a tuple of the right length).

    Raises:
        TypeError: if a link is not an ``optax.GradientTransformation``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from jaxml.optim.transforms import scale_by_learning_rate, scale_by_momentum
        >>> heavy_ball = chain(scale_by_learning_rate(0.1), scale_by_momentum(0.9))
        >>> jax.tree_util.tree_leaves(heavy_ball)                   # η and λ
        [0.1, 0.9]
        >>> heavy_ball.update(jnp.ones(1), heavy_ball.init(jnp.zeros(1)))[0]
        Array([-0.1], dtype=float32)
    """
    inner = _extra_args(transforms, "chain")
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_chain_init, hyper=(tuple(t.init for t in inner),)),
        pytree_fn(_chain_update, hyper=(tuple(t.update for t in inner),)),
    )


def _extra_args(
    transforms: tuple[optax.GradientTransformation, ...], name: str
) -> tuple[optax.GradientTransformationExtraArgs, ...]:
    for i, t in enumerate(transforms):
        if not isinstance(t, optax.GradientTransformation):
            raise TypeError(f"{name}: transforms[{i}] must be an optax.GradientTransformation, got {type(t).__name__}")
    return tuple(optax.with_extra_args_support(t) for t in transforms)


class FanOutState(NamedTuple):
    """State of :func:`fan_out`: the inner transformations' states, in order.

    Attributes:
        inner_states: the tuple of the inner transformations' states, one per transform of :func:`fan_out`, in
            the order given.
    """

    inner_states: tuple[optax.OptState, ...]


def fan_out(
    *transforms: optax.GradientTransformation,
    combine: Callable[..., jax.Array],
) -> optax.GradientTransformationExtraArgs:
    r"""Run ``transforms`` side by side on the same updates gᵗ and merge their outputs leaf by leaf:

        uᵗ = combine(T₁(gᵗ), T₂(gᵗ), …)

    ``combine`` takes one array per transform (the same leaf of each output) and returns the merged leaf.
    Each inner transform keeps its own state; ``params`` and any extra keyword arguments of ``update`` are
    passed to all of them (transforms that take none ignore them, as in ``optax.chain``), with the step count
    ``count`` as in :func:`chain`. The transforms run in order, and transform k also receives
    ``earlier_states``: the tuple of the *new* states of transforms 0 … k−1, so a block can use a statistic an
    earlier one keeps (e.g. AdaBelief's s needs the first moment μ: :func:`~jaxml.optim.transforms.rms_belief`
    reads it as ``tree_get(earlier_states, "mu")``).

    Args:
        *transforms: T₁, …, Tₖ (k ≥ 1), each an ``optax.GradientTransformation`` whose output has the tree
            structure of the updates; all receive the same gᵗ.
        combine: a function of k arrays (the same leaf of each output) returning the merged leaf. It is part of
            the tree structure: pass a module-level function (a new ``lambda`` per call is a new structure, so a
            compiled program taking the result as an argument compiles again).

    Returns:
        An ``optax.GradientTransformationExtraArgs`` with state :class:`FanOutState`; ``update`` returns
        ``combine`` applied leaf by leaf to the k outputs, and the new state (it raises ``ValueError`` given a
        state that is not the :class:`FanOutState` its ``init`` made).

    Raises:
        TypeError: if no transform is given, one is not an ``optax.GradientTransformation``, or ``combine`` is
            not callable.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> double = fan_out(optax.identity(), optax.identity(), combine=lambda a, b: a + b)
        >>> double.update(jnp.ones(2), double.init(jnp.zeros(2)), some_extra_arg=1)[0]
        Array([2., 2.], dtype=float32)
    """
    if not transforms:
        raise TypeError("fan_out needs at least one transform")
    inner = _extra_args(transforms, "fan_out")
    if not callable(combine):
        raise TypeError(f"combine must be callable, got {type(combine).__name__}")
    return optax.GradientTransformationExtraArgs(
        pytree_fn(_fan_out_init, hyper=(tuple(t.init for t in inner),)),
        pytree_fn(_fan_out_update, static=(combine,), hyper=(tuple(t.update for t in inner),)),
    )


def _fan_out_init(inits: tuple[Callable[..., Any], ...], params: optax.Params) -> FanOutState:
    return FanOutState(inner_states=tuple(init(params) for init in inits))


def _fan_out_update(
    combine: Callable[..., jax.Array],
    update_fns: tuple[Callable[..., Any], ...],
    updates: optax.Updates,
    state: FanOutState,
    params: optax.Params | None = None,
    **extra_args: Any,
) -> tuple[optax.Updates, FanOutState]:
    if not isinstance(state, FanOutState) or len(state.inner_states) != len(update_fns):
        raise ValueError(
            f"fan_out of {len(update_fns)} transforms needs the FanOutState its init made, got {type(state).__name__}"
        )
    extra_args = _with_count(state.inner_states, extra_args)
    outs, states = [], []
    for fn, s in zip(update_fns, state.inner_states, strict=True):
        out, new_s = fn(updates, s, params, **{**extra_args, "earlier_states": tuple(states)})
        outs.append(out)
        states.append(new_s)
    return jax.tree.map(combine, *outs), FanOutState(inner_states=tuple(states))


def _zero_over_anything_is_zero(n: jax.Array, d: jax.Array) -> jax.Array:
    """n / d, except 0 / d = 0 for every d, 0 included (one select; no NaN for a parameter that never moved)."""
    return n / jnp.where(n == 0, jnp.ones_like(d), d)


def divide(
    numerator: optax.GradientTransformation, denominator: optax.GradientTransformation
) -> optax.GradientTransformationExtraArgs:
    r"""uᵗ = N(gᵗ) / D(gᵗ), both computed from the same raw gradient: Adam's m̂ᵗ / (σᵗ + ε).

    A zero numerator gives a zero update whatever the denominator, so 0/0 := 0. With ε = 0 a parameter whose
    gradients have all been zero has m̂ = 0 and σ = 0: it stays where it is instead of becoming NaN. Any
    other quotient is plain IEEE division (n/0 = ±inf for n ≠ 0: the guard tests the numerator only).

    Args:
        numerator: N, an ``optax.GradientTransformation`` giving the numerator (e.g.
            :func:`~jaxml.optim.transforms.first_moment`, or ``optax.identity()`` for g itself).
        denominator: D, an ``optax.GradientTransformation`` giving the denominator, shaped like the gradient
            (e.g. an RMS block's σ + ε).

    Returns:
        ``fan_out(numerator, denominator, combine=…)``: an ``optax.GradientTransformationExtraArgs`` with state
        ``FanOutState((N's state, D's state))``, whose ``update`` outputs N(gᵗ) / D(gᵗ) leaf by leaf.

    Raises:
        TypeError: if ``numerator`` or ``denominator`` is not an ``optax.GradientTransformation`` (the message
            names :func:`fan_out`).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from jaxml.optim.transforms import rms_mean
        >>> adagrad_direction = divide(optax.identity(), rms_mean())   # g / σ
        >>> adagrad_direction.update(jnp.array([-4.0, 0.0]), adagrad_direction.init(jnp.zeros(2)), count=0)[0]
        Array([-1.,  0.], dtype=float32)
    """
    return fan_out(numerator, denominator, combine=_zero_over_anything_is_zero)
