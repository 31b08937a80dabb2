r"""Combinators beyond ``optax.chain``: feed the *same* raw gradient to several blocks, then combine.

``optax.chain(a, b)`` is serial: ``b`` sees ``a``'s output. Adam needs two statistics of the same raw gradient,

    θᵗ⁺¹ = θᵗ − η · m̂ᵗ / (σᵗ + ε),   m̂ the (bias-corrected) mean of g,  σ = √(mean of |g|²),

so a serial ``optax.chain(momentum, rms)`` computes the wrong thing: its RMS is taken of the *momentum*
(√(mean of m̂²)), not of the gradient (SCOPE §4.6). :func:`fan_out` runs its blocks in parallel on one input and
merges their outputs leaf by leaf; :func:`divide` is the case the lecture needs, numerator ÷ denominator.

This module depends on optax and JAX only; :mod:`jaxml.optim.transforms` builds on it.

Example:
    >>> import jax.numpy as jnp, optax
    >>> from jaxml.optim.combine import divide
    >>> from jaxml.optim.transforms import rms_ema, scale_by_momentum, scale_by_learning_rate
    >>> adam = optax.chain(
    ...     divide(scale_by_momentum(0.9, ema=True, bias_correction=True), rms_ema(0.999, 1e-8, bias_correction=True)),
    ...     scale_by_learning_rate(1e-3),
    ... )
    >>> u, _ = adam.update(jnp.array([3.0]), adam.init(jnp.zeros(1)))
    >>> u  # the first Adam step is −η·sign(g)
    Array([-0.001], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = ["FanOutState", "divide", "fan_out"]


class FanOutState(NamedTuple):
    """State of :func:`fan_out`: the inner transformations' states, in order."""

    inner_states: tuple[optax.OptState, ...]


def fan_out(
    *transforms: optax.GradientTransformation,
    combine: Callable[..., jax.Array],
) -> optax.GradientTransformationExtraArgs:
    r"""Run ``transforms`` side by side on the same updates gᵗ and merge their outputs leaf by leaf:

        uᵗ = combine(T₁(gᵗ), T₂(gᵗ), …)

    ``combine`` takes one array per transform (the same leaf of each output) and returns the merged leaf.
    Each inner transform keeps its own state; ``params`` and any extra keyword arguments of ``update`` are
    passed to all of them (transforms that take none ignore them, as in ``optax.chain``).

    Raises:
        TypeError: no transforms, something that is not a GradientTransformation, or ``combine`` not callable.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> double = fan_out(optax.identity(), optax.identity(), combine=lambda a, b: a + b)
        >>> double.update(jnp.ones(2), double.init(jnp.zeros(2)), some_extra_arg=1)[0]
        Array([2., 2.], dtype=float32)
    """
    if not transforms:
        raise TypeError("fan_out needs at least one transform")
    for i, t in enumerate(transforms):
        if not isinstance(t, optax.GradientTransformation):
            raise TypeError(f"transforms[{i}] must be an optax.GradientTransformation, got {type(t).__name__}")
    if not callable(combine):
        raise TypeError(f"combine must be callable, got {type(combine).__name__}")
    inner = tuple(optax.with_extra_args_support(t) for t in transforms)

    def init_fn(params: optax.Params) -> FanOutState:
        return FanOutState(inner_states=tuple(t.init(params) for t in inner))

    def update_fn(
        updates: optax.Updates, state: FanOutState, params: optax.Params | None = None, **extra_args: Any
    ) -> tuple[optax.Updates, FanOutState]:
        if not isinstance(state, FanOutState) or len(state.inner_states) != len(inner):
            raise ValueError(
                f"fan_out of {len(inner)} transforms needs the FanOutState its init made, got {type(state).__name__}"
            )
        outs, states = [], []
        for t, s in zip(inner, state.inner_states, strict=True):
            out, new_s = t.update(updates, s, params, **extra_args)
            outs.append(out)
            states.append(new_s)
        return jax.tree.map(combine, *outs), FanOutState(inner_states=tuple(states))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _zero_over_anything_is_zero(n: jax.Array, d: jax.Array) -> jax.Array:
    """n / d, except 0 / d = 0 for every d, 0 included (one select; no NaN for a parameter that never moved)."""
    return n / jnp.where(n == 0, jnp.ones_like(d), d)


def divide(
    numerator: optax.GradientTransformation, denominator: optax.GradientTransformation
) -> optax.GradientTransformationExtraArgs:
    r"""uᵗ = N(gᵗ) / D(gᵗ), both computed from the same raw gradient: Adam's m̂ᵗ / (σᵗ + ε).

    A zero numerator gives a zero update whatever the denominator, so 0/0 := 0. With ε = 0 a parameter whose
    gradients have all been zero has m̂ = 0 and σ = 0: it stays where it is instead of becoming NaN. Any
    other quotient is plain IEEE division.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from jaxml.optim.transforms import rms_mean
        >>> adagrad_direction = divide(optax.identity(), rms_mean())   # g / σ
        >>> adagrad_direction.update(jnp.array([-4.0, 0.0]), adagrad_direction.init(jnp.zeros(2)))[0]
        Array([-1.,  0.], dtype=float32)
    """
    return fan_out(numerator, denominator, combine=_zero_over_anything_is_zero)
