"""jaxml's optimizers against optax's: is building them from blocks (and Adam from a fan-out) free?

Two measurements, each jaxml vs optax side by side in this one process, with repeats interleaved
(A, B, B, A, …) and medians taken (minima too: on a shared machine, load only adds time):

1. **Training step** — scikit-learn's digits (x/16), MLP 64-256-256-10 (ReLU), softmax cross-entropy, batch 64,
   trained by ``jaxml.train.fit``: ``jaxml.optim.adam`` vs ``optax.adam``, ``jaxml.optim.rmsprop`` vs
   ``optax.rmsprop``, ``jaxml.optim.momentum`` vs ``optax.sgd(momentum=…)``. Steady-state time per step comes
   from fit's per-chunk callback (``checkpoint_every`` epochs per compiled call; the first chunk, which compiles,
   is dropped).
   The same step is also timed outside fit, as a jitted lax.scan over one epoch, the two sides alternating
   call by call — a paired measurement that background load cannot bias.
2. **Update alone** — a jitted ``update`` + ``optax.apply_updates`` on a 10M-parameter pytree (float32), fed
   its own outputs, timed with ``block_until_ready``.

The target is a ratio jaxml/optax ≤ 1.05. ``--hlo`` also prints, for the update alone, the number of fusions
and instructions in each optimized XLA program (where a slower composition would show up).

Run: ``python -m benchmarks.optim`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxml import data, losses, models, optim, train

LR = 1e-3
BATCH = 64
CONTROL = "control: optax.adam vs itself"


def pairs() -> dict[str, tuple[optax.GradientTransformation, optax.GradientTransformation]]:
    """(jaxml, optax) with the same hyper-parameters (rmsprop's σ⁰ differs: same cost). The last row times
    optax.adam against itself: its ratio is the measurement's noise floor on this machine."""
    return {
        "adam": (optim.adam(LR), optax.adam(LR)),
        "rmsprop": (optim.rmsprop(LR, alpha=0.9, eps=1e-8), optax.rmsprop(LR, decay=0.9, eps=1e-8)),
        "momentum": (optim.momentum(0.01, beta=0.9), optax.sgd(0.01, momentum=0.9)),
        CONTROL: (optax.adam(LR), optax.adam(LR)),
    }


def _interleaved(rounds: int, names: list[str]) -> list[tuple[int, str, int]]:
    """(round, pair, side) in an order that alternates which side of each pair runs first."""
    order = []
    for r in range(rounds):
        for name in names:
            sides = (0, 1) if r % 2 == 0 else (1, 0)
            order += [(r, name, s) for s in sides]
    return order


def bench_training(rounds: int, chunks: int, chunk_epochs: int) -> dict[str, tuple[float, float, float, float]]:
    """Steady-state ms per training step: (jaxml median, optax median, jaxml min, optax min) per optimizer.

    Every chunk of ``chunk_epochs`` epochs after the first (which compiles) is one sample; samples from all
    rounds are pooled. The minimum is reported beside the median because on a shared machine a background
    load only ever adds time.
    """
    digits = data.load("digits")
    train_set = data.to_device(digits.x / 16.0, digits.y, dtype=jnp.float32)
    model = models.mlp(64, (256, 256), 10, activation=jax.nn.relu)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    params = jax.jit(model.init)(jax.random.PRNGKey(0))
    steps_per_epoch = len(digits.y) // BATCH
    opts = pairs()
    samples: dict[tuple[str, int], list[float]] = {(n, s): [] for n in opts for s in (0, 1)}
    for _, name, side in _interleaved(rounds, list(opts)):
        stamps: list[float] = []
        res = train.fit(
            objective,
            params,
            opts[name][side],
            train_set,
            key=0,
            epochs=(chunks + 1) * chunk_epochs,
            batch_size=BATCH,
            checkpoint_every=chunk_epochs,  # one compiled call per chunk, no checkpoint_dir: nothing written
            callback=lambda epoch, state, stamps=stamps: stamps.append(time.perf_counter()),
            progress=False,
        )
        jax.block_until_ready(res.params)
        per_chunk = np.diff(stamps)  # drops the first chunk, which includes compilation
        samples[(name, side)] += list(1e3 * per_chunk / (chunk_epochs * steps_per_epoch))
    return {
        n: (
            float(np.median(samples[(n, 0)])),
            float(np.median(samples[(n, 1)])),
            float(np.min(samples[(n, 0)])),
            float(np.min(samples[(n, 1)])),
        )
        for n in opts
    }


def bench_step_paired(calls: int) -> dict[str, tuple[float, float, float, float]]:
    """The same training step outside fit, paired call by call: a jitted epoch (lax.scan over the 22 batches of
    64) for each side, alternating A B B A …; returns ms/step medians, median paired ratio, ratio of minima.

    fit's chunks can only be interleaved run by run, so on a loaded machine its ratios are noisy; this isolates
    exactly what differs between the two sides (the optimizer inside the compiled step).
    """
    digits = data.load("digits")
    x, y = data.to_device(digits.x / 16.0, digits.y, dtype=jnp.float32)
    steps = len(digits.y) // BATCH
    xb, yb = x[: steps * BATCH].reshape(steps, BATCH, -1), y[: steps * BATCH].reshape(steps, BATCH)
    model = models.mlp(64, (256, 256), 10, activation=jax.nn.relu)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    params = jax.jit(model.init)(jax.random.PRNGKey(0))

    def epoch_fn(opt: optax.GradientTransformation) -> Callable:
        def step(carry, batch):
            p, s = carry
            u, s = opt.update(jax.grad(objective)(p, batch), s, p)
            return (optax.apply_updates(p, u), s), None

        return jax.jit(lambda p, s: jax.lax.scan(step, (p, s), (xb, yb))[0])

    out = {}
    for name, sides in pairs().items():
        fns = [epoch_fn(opt) for opt in sides]
        live = [(params, opt.init(params)) for opt in sides]
        for i in (0, 1):
            for _ in range(3):
                live[i] = jax.block_until_ready(fns[i](*live[i]))
        times: list[list[float]] = [[], []]
        for k in range(calls):
            for i in (0, 1) if k % 2 == 0 else (1, 0):
                start = time.perf_counter()
                live[i] = jax.block_until_ready(fns[i](*live[i]))
                times[i].append(time.perf_counter() - start)
        t = 1e3 * np.asarray(times) / steps
        out[name] = (float(np.median(t[0])), float(np.median(t[1])), float(np.median(t[0] / t[1])),
                     float(t[0].min() / t[1].min()))  # fmt: skip
    return out


def ten_million_params(key: jax.Array) -> dict[str, jax.Array]:
    """A pytree of 10,004,000 float32 parameters (two dense layers' worth)."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return {
        "layer1": {"w": jax.random.normal(k1, (3000, 2000)), "b": jax.random.normal(k2, (2000,))},
        "layer2": {"w": jax.random.normal(k3, (2000, 2000)), "b": jax.random.normal(k4, (2000,))},
    }


def _update_step(opt: optax.GradientTransformation) -> Callable:
    def step(grads, state, params):
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return jax.jit(step)


def bench_update(rounds: int, calls: int) -> dict[str, tuple[float, float, float, float]]:
    """ms per jitted update + apply_updates on 10M parameters: (jaxml median, optax median, median of the
    call-by-call ratios, ratio of minima).

    The two sides alternate call by call (A B B A …), so a background load hits both alike.
    """
    params = ten_million_params(jax.random.PRNGKey(0))
    grads = jax.tree.map(lambda p: 1e-3 * jnp.cos(p), params)
    out = {}
    for name, sides in pairs().items():
        steps = [_update_step(opt) for opt in sides]
        live = [(params, opt.init(params)) for opt in sides]
        for i, step in enumerate(steps):  # compile and warm up
            p, st = live[i]
            for _ in range(3):
                p, st = step(grads, st, p)
            live[i] = jax.block_until_ready((p, st))
        times: list[list[float]] = [[], []]
        for k in range(rounds * calls):
            for i in (0, 1) if k % 2 == 0 else (1, 0):
                p, st = live[i]
                start = time.perf_counter()
                live[i] = jax.block_until_ready(steps[i](grads, st, p))
                times[i].append(time.perf_counter() - start)
        t = np.asarray(times)
        paired = float(np.median(t[0] / t[1]))  # each call against its neighbour: slow drifts in load cancel
        out[name] = (1e3 * float(np.median(t[0])), 1e3 * float(np.median(t[1])), paired, float(t[0].min() / t[1].min()))
        del live
    return out


def hlo_summary() -> dict[str, tuple[str, str]]:
    """Fusions and instructions in the optimized HLO of each update step (jaxml, optax)."""
    params = ten_million_params(jax.random.PRNGKey(0))
    out = {}
    for name, (ours, theirs) in pairs().items():
        cells = []
        for opt in (ours, theirs):
            text = _update_step(opt).lower(params, opt.init(params), params).compile().as_text()
            entry = text[text.index("ENTRY") :]
            fusions = len(re.findall(r"= \S+ fusion\(", entry))
            instructions = sum(1 for line in entry.splitlines() if " = " in line)
            cells.append(f"{fusions} fusions / {instructions} instructions")
        out[name] = (cells[0], cells[1])
    return out


def _table(title: str, unit: str, results: dict[str, tuple[float, float, float, float]], paired: bool) -> str:
    ratio = "median of paired ratios" if paired else "ratio of medians"
    lines = [
        title,
        f"| optimizer | jaxml {unit} (median) | optax {unit} (median) | {ratio} | ratio of minima |",
        "|---|---|---|---|---|",
    ]
    for name, (ours, theirs, third, fourth) in results.items():
        r, r_min = (third, fourth) if paired else (ours / theirs, third / fourth)
        lines.append(f"| {name} | {ours:.4f} | {theirs:.4f} | {r:.3f} | {r_min:.3f} |")
    return "\n".join(lines)


def _ratios(results: dict[str, tuple[float, float, float, float]], paired: bool) -> list[tuple[float, float]]:
    """(ratio, ratio of minima) of every row but the control."""
    rows = [r for name, r in results.items() if name != CONTROL]
    return [(r[2], r[3]) if paired else (r[0] / r[1], r[2] / r[3]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optim", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test)")
    parser.add_argument("--hlo", action="store_true", help="also count fusions/instructions of each update")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else 4
    print(f"jax {jax.__version__}, optax {optax.__version__}, backend {jax.default_backend()}, "
          f"{jax.device_count()} device(s)")  # fmt: skip
    training = bench_training(rounds, chunks=4 if args.quick else 12, chunk_epochs=3)
    print(_table(f"\nTraining step (digits, MLP 64-256-256-10, batch {BATCH}, jaxml.train.fit), {rounds} "
                 "interleaved runs each", "ms/step", training, paired=False))  # fmt: skip
    paired = bench_step_paired(calls=20 if args.quick else 100)
    print(_table(f"\nThe same training step outside fit (jit(lax.scan) over an epoch of {BATCH}-batches), calls "
                 "alternating jaxml/optax", "ms/step", paired, paired=True))  # fmt: skip
    update = bench_update(rounds, calls=5 if args.quick else 40)
    print(_table("\nUpdate alone (jit(update + apply_updates), 10,004,000 float32 parameters), calls "
                 "alternating jaxml/optax", "ms/call", update, paired=True))  # fmt: skip
    if args.hlo:
        print("\nOptimized HLO of the update alone (jaxml | optax)")
        for name, (ours, theirs) in hlo_summary().items():
            if name == CONTROL:
                continue
            print(f"  {name:9s} {ours} | {theirs}")
    ratios = _ratios(training, paired=False) + _ratios(paired, paired=True) + _ratios(update, paired=True)
    worst, worst_min = max(r for r, _ in ratios), max(m for _, m in ratios)
    print(
        f"\nworst ratio (median-based): {worst:.3f}, of minima: {worst_min:.3f} "
        "(target ≤ 1.05; the control row shows the noise)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
