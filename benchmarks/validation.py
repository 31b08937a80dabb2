"""What input validation costs: public entry points with their checks against the same computation without them.

Data: 1,000,000 × 50 float64 (400 MB, 64-byte aligned so that XLA shares NumPy's buffer), 3 classes. Outside
``jit`` the checks read concrete values: a finiteness pass over every float input (:func:`jaxml._checks.finite`: a
sum that is finite proves the array finite, so one reduction without a temporary; the element-wise test only runs
when the sum is not finite) plus label-range and shape checks. Inside ``jit`` nothing is read: shapes are checked
at trace time (free) and the label losses add one ``where`` that turns invalid labels into NaN.

Rows:
* ``finite`` — the check alone: NumPy x (sum fast path), the textbook ``np.all(np.isfinite(x))``, JAX x (on
  the CPU a NumPy view of its buffer, elsewhere one fused XLA reduction on the device), and that XLA reduction.
* ``generative.fit`` — public ``fit`` (validation: labels, shapes, the finiteness of the fitted estimates
  standing in for a pass over x, the singular-covariance test) vs the jitted core alone.
* ``predict_proba`` — public (one finiteness pass over x) vs the jitted posterior alone.
* ``mse`` eager — ``losses.mse`` on JAX arrays vs ``jnp.mean(jnp.square(p − t))``.
* ``softmax_cross_entropy`` under ``jit`` — jaxml's (label NaN guard) vs the same formula without it.

Each time is the fastest of ``--repeats`` calls after one warm-up call (compilation excluded); a checked call
and its unchecked twin are called alternately, so that a busy spell on a shared machine hits both alike.
Run: ``python -m benchmarks.validation`` (``--rows 100000`` for a quick run).
Timings are wall-clock on this machine; other processes sharing the CPU inflate them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _warm(fn: Callable[[], Any]) -> None:
    import jax

    jax.block_until_ready(fn())  # compilation and caches


def _once(fn: Callable[[], Any]) -> float:
    import jax

    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def _best(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` calls after a warm-up: the least disturbed by other processes on the CPU."""
    _warm(fn)
    return min(_once(fn) for _ in range(repeats))


def _pair(checked: Callable[[], Any], unchecked: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Fastest times of the two, called alternately so that a busy spell on the machine hits both alike."""
    _warm(checked)
    _warm(unchecked)
    a, b = [], []
    for _ in range(repeats):
        a.append(_once(checked))
        b.append(_once(unchecked))
    return min(a), min(b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.validation", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from benchmarks.generative import aligned_copy
    from jaxml import _checks, generative, losses

    rng = np.random.default_rng(0)
    n, d, k = args.rows, args.features, 3
    y = rng.integers(0, k, n)
    # 64-byte aligned, so that XLA shares the buffer: no 400 MB copy per call (and its page faults) to blur the
    # comparison (benchmarks.generative times the unaligned case).
    x = aligned_copy(rng.normal(size=(n, d)) + y[:, None])
    xj, tj = jnp.asarray(x), jnp.asarray(rng.normal(size=(n, d)))
    logits, labels = xj, jnp.asarray(rng.integers(0, d, n))
    r = args.repeats
    rows: list[tuple[str, float, float | None]] = []

    rows.append(("finite: NumPy x, jaxml (sum fast path)", _best(lambda: _checks.finite(x, "x"), r), None))
    rows.append(("finite: NumPy x, np.all(np.isfinite(x))", _best(lambda: np.all(np.isfinite(x)), r), None))
    rows.append(("finite: JAX x, jaxml", _best(lambda: _checks.finite(xj, "x"), r), None))
    rows.append(("finite: JAX x, XLA all(isfinite(x))", _best(lambda: _checks._device_all_finite(xj), r), None))

    fit_core = lambda: generative._fit_jit(generative._to_device(x), y, k, "shared", 0.0, None)
    rows.append(("generative.fit(x, y, 'shared')", *_pair(lambda: generative.fit(x, y, "shared"), fit_core, r)))
    model = fit_core()
    checks = lambda: (_checks.class_labels(y, None, 1, "a class mean"), _checks.fitted_gaussian(model, x))
    rows.append(("  its checks alone (labels, fitted estimates)", _best(checks, r), None))
    posterior = lambda: generative._posterior(model, generative._to_device(x), "proba")
    proba = lambda: generative.predict_proba(model, x)
    rows.append(("generative.predict_proba(model, x)", *_pair(proba, posterior, r)))
    raw_mse = lambda p, t: jnp.mean(jnp.square(p - t))
    rows.append(("losses.mse eager (JAX arrays)", *_pair(lambda: losses.mse(xj, tj), lambda: raw_mse(xj, tj), r)))
    jit_mse, jit_raw_mse = jax.jit(losses.mse), jax.jit(raw_mse)
    rows.append(("losses.mse under jit", *_pair(lambda: jit_mse(xj, tj), lambda: jit_raw_mse(xj, tj), r)))

    def raw_sce(z: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean(jax.nn.logsumexp(z, axis=-1) - jnp.sum(jax.nn.one_hot(y, z.shape[-1], dtype=z.dtype) * z, -1))

    sce = lambda: losses.softmax_cross_entropy(logits, labels)
    rows.append(("losses.softmax_cross_entropy eager", *_pair(sce, lambda: raw_sce(logits, labels), r)))
    jit_sce, jit_raw_sce = jax.jit(losses.softmax_cross_entropy), jax.jit(raw_sce)
    rows.append(
        (
            "losses.softmax_cross_entropy under jit",
            *_pair(lambda: jit_sce(logits, labels), lambda: jit_raw_sce(logits, labels), r),
        )
    )

    print(f"{n:,} × {d} float64, fastest of {r} calls after a warm-up; backend {jax.default_backend()}")
    print(f"{'call':<44} {'checked (ms)':>13} {'unchecked (ms)':>15} {'cost':>8}")
    for name, checked, unchecked in rows:
        cost = f"{checked / unchecked - 1:+.0%}" if unchecked else ""
        plain = f"{1e3 * unchecked:15.1f}" if unchecked else f"{'':>15}"
        print(f"{name:<44} {1e3 * checked:13.1f} {plain} {cost:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
