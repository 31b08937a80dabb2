r"""Combinators beyond ``optax.chain``: feed the *same* raw gradient to several blocks, then combine.

``optax.chain(a, b)`` is serial: ``b`` sees ``a``'s output. Adam needs two statistics of the same raw gradient,

    θᵗ⁺¹ = θᵗ − η · m̂ᵗ / (σᵗ + ε),   m̂ the (bias-corrected) mean of g,  σ = √(mean of g²),

so a serial ``optax.chain(momentum, rms)`` computes the wrong thing: its RMS is taken of the *momentum*
(√(mean of m̂²)), not of the gradient (SCOPE §4.6). :func:`fan_out` runs its blocks in parallel on one input and
merges their outputs leaf by leaf; :func:`divide` is the case the lecture needs, numerator ÷ denominator.

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
) -> optax.GradientTransformation:
    r"""Run ``transforms`` side by side on the same updates gᵗ and merge their outputs leaf by leaf:

        uᵗ = combine(T₁(gᵗ), T₂(gᵗ), …)

    ``combine`` takes one array per transform (the same leaf of each output) and returns the merged leaf.
    Each inner transform keeps its own state; ``params`` is passed to all of them.

    Raises:
        TypeError: no transforms, something that is not a GradientTransformation, or ``combine`` not callable.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> double = fan_out(optax.identity(), optax.identity(), combine=lambda a, b: a + b)
        >>> double.update(jnp.ones(2), double.init(jnp.zeros(2)))[0]
        Array([2., 2.], dtype=float32)
    """
    if not transforms:
        raise TypeError("fan_out needs at least one transform")
    for i, t in enumerate(transforms):
        if not isinstance(t, optax.GradientTransformation):
            raise TypeError(f"transforms[{i}] must be an optax.GradientTransformation, got {type(t).__name__}")
    if not callable(combine):
        raise TypeError(f"combine must be callable, got {type(combine).__name__}")

    def init_fn(params: optax.Params) -> FanOutState:
        return FanOutState(inner_states=tuple(t.init(params) for t in transforms))

    def update_fn(
        updates: optax.Updates, state: FanOutState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, FanOutState]:
        outs, states = [], []
        for t, s in zip(transforms, state.inner_states, strict=True):
            out, new_s = t.update(updates, s, params)
            outs.append(out)
            states.append(new_s)
        merged = jax.tree.map(combine, *outs)
        return merged, FanOutState(inner_states=tuple(states))

    return optax.GradientTransformation(init_fn, update_fn)


def divide(
    numerator: optax.GradientTransformation, denominator: optax.GradientTransformation
) -> optax.GradientTransformation:
    r"""uᵗ = N(gᵗ) / D(gᵗ), both computed from the same raw gradient: Adam's m̂ᵗ / (σᵗ + ε).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from jaxml.optim.transforms import rms_mean
        >>> adagrad_direction = divide(optax.identity(), rms_mean())   # g / σ
        >>> adagrad_direction.update(jnp.array([-4.0]), adagrad_direction.init(jnp.zeros(1)))[0]
        Array([-1.], dtype=float32)
    """
    return fan_out(numerator, denominator, combine=_divide)


def _divide(n: Any, d: Any) -> jax.Array:
    return jnp.divide(n, d)
