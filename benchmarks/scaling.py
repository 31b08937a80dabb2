"""Scaling out: data-parallel ``fit`` on 1, 2 and 4 devices, and a vmapped learning-rate sweep.

The task is benchmarks/train.py's: scikit-learn's digits scaled by 1/16, an MLP 64-256-256-10 (ReLU), softmax
cross-entropy, Adam, global batch 64. Two comparisons:

* data parallel — ``train.fit(..., mesh=Mesh(devices, ("data",)))`` on D = 1, 2, 4 devices, the same global
  batch (so 64/D examples per device and step). Each D runs in its own process started with
  ``XLA_FLAGS=--xla_force_host_platform_device_count=D`` (JAX fixes the device count at start-up); D = 1 is
  plain ``fit`` without a mesh. Beside it, in the same process, the usual hand-written data-parallel loop
  (batches pre-cut and sharded over "data", params replicated, one jitted ``lax.scan``) as the floor that
  any sharded trainer on this backend pays. On a CPU the forced devices share the same cores, so this measures
  the overhead of sharding (the per-step gradient all-reduce, D device threads meeting at it), not a
  speed-up; the target is a 4-device step at most 1.2× the 1-device step.
* sweep — ``train.fit_sweep`` over 16 learning rates (one vmapped program) against 16 sequential ``fit`` calls
  in one process, both compile-inclusive (what a user waits for: each new ``optax.adam(η)`` is a new
  program) and steady-state (every program already compiled).

jaxml's ms/step is steady state: the difference of the median times of a long and a short run, which removes
compilation and per-call work. Medians of ``--repeats`` runs; the machine may be shared, so expect noise.

Run: ``python -m benchmarks.scaling`` (``--quick``: fewer epochs and repeats; ``--batch 512``: another
global batch; ``--skip-sweep``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HIDDEN = (256, 256)
LR = 1e-3
BATCH = 64
SWEEP = 16


def _setup():
    import jax
    import jax.numpy as jnp

    from benchmarks.train import digits
    from jaxml import losses, models, train

    x, y = digits()
    data = (jnp.asarray(x), jnp.asarray(y))
    model = models.mlp(64, HIDDEN, 10, activation=jax.nn.relu)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    return model, objective, data


def _timed(fn, repeats: int) -> tuple[float, float]:
    """(first call's seconds — it compiles —, median seconds of ``repeats`` further calls; NaN if none)."""
    import jax

    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return first, float(np.median(times)) if times else float("nan")


def child_data_parallel(devices: int, epochs: int, repeats: int, batch: int) -> dict[str, float]:
    """Runs inside a process with ``devices`` forced host devices: jaxml's fit and a hand-written peer."""
    import jax
    import jax.numpy as jnp
    import optax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxml import train

    assert jax.device_count() == devices, jax.devices()
    model, objective, data = _setup()
    params = model.init(jax.random.PRNGKey(0))
    optimizer = optax.adam(LR)
    mesh = Mesh(np.array(jax.devices()), ("data",)) if devices > 1 else None
    steps = len(data[1]) // batch
    short = max(1, epochs // 5)

    def fit(n_epochs: int):
        return lambda: train.fit(
            objective, params, optimizer, data, key=0, epochs=n_epochs, batch_size=batch, progress=False, mesh=mesh
        )

    first, _ = _timed(lambda: fit(epochs)().params, 0)
    _, t_short = _timed(lambda: fit(short)().params, repeats)
    _, t_long = _timed(lambda: fit(epochs)().params, repeats)
    # Steady state: the difference of two run lengths removes compilation and per-call work.
    step_ms = 1e3 * (t_long - t_short) / ((epochs - short) * steps)
    loss = float(fit(epochs)().history["train_loss"][-1])

    # Peer: the usual hand-written data-parallel loop — pre-cut batches sharded over "data" (no reshuffling),
    # params replicated, one jitted lax.scan over the steps of all epochs.
    x, y = (np.asarray(a)[: steps * batch] for a in data)
    split = NamedSharding(mesh, P(None, "data")) if mesh else jax.devices()[0]
    xb = jax.device_put(x.reshape(steps, batch, -1), split)
    yb = jax.device_put(y.reshape(steps, batch), split)
    p0 = jax.device_put(params, NamedSharding(mesh, P()) if mesh else jax.devices()[0])

    @jax.jit
    def peer(p, xs, ys):
        def step(carry, b):
            p, s = carry
            loss, g = jax.value_and_grad(objective)(p, b)
            u, s = optimizer.update(g, s, p)
            return (optax.apply_updates(p, u), s), loss

        epoch = lambda _, c: jax.lax.scan(step, c, (xs, ys))[0]
        return jax.lax.fori_loop(0, epochs, epoch, (p, optimizer.init(p)))[0]

    _, t_peer = _timed(lambda: peer(p0, xb, yb), repeats)

    # The part no data-parallel trainer avoids: one all-reduce of a gradient-sized vector per step.
    allreduce_ms = 0.0
    if mesh is not None:
        size = sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(params))
        parts = jax.device_put(np.ones((devices, size), np.float32), NamedSharding(mesh, P("data")))
        replicated = NamedSharding(mesh, P())

        @jax.jit
        def allreduce(parts):
            def body(c, _):  # the carry makes every iteration depend on the last: no hoisting
                total = jax.lax.with_sharding_constraint(jnp.sum(parts * c, axis=0), replicated)
                return c + 1e-12 * total[0], None

            return jax.lax.scan(body, jnp.ones(()), None, length=steps * epochs)[0]

        _, t_ar = _timed(lambda: allreduce(parts), repeats)
        allreduce_ms = 1e3 * t_ar / (steps * epochs)
    return {
        "first_s": first,
        "step_ms": step_ms,
        "peer_step_ms": 1e3 * t_peer / (epochs * steps),
        "allreduce_ms": allreduce_ms,
        "loss": loss,
    }


def bench_sweep(epochs: int, batch: int, repeats: int) -> dict[str, dict[str, float]]:
    import jax
    import jax.numpy as jnp
    import optax

    from jaxml import train

    model, objective, data = _setup()
    lrs = np.logspace(-4, -2, SWEEP)
    keys = jax.random.split(jax.random.PRNGKey(0), SWEEP)
    stacked = jax.vmap(model.init)(keys)
    sweep = lambda: train.fit_sweep(
        objective, stacked, optax.adam, data, keys=keys, epochs=epochs, batch_size=batch,
        learning_rates=jnp.asarray(lrs), progress=False,
    ).params  # fmt: skip
    first, median = _timed(sweep, repeats)

    optimizers = [optax.adam(float(lr)) for lr in lrs]  # one program each: the runner cache keys on them
    inits = [model.init(k) for k in keys]

    def sequential():
        return [
            train.fit(objective, p, opt, data, key=k, epochs=epochs, batch_size=batch, progress=False).params
            for p, opt, k in zip(inits, optimizers, keys)
        ]

    seq_first, seq_median = _timed(sequential, max(1, repeats // 2))
    return {
        f"fit_sweep, {SWEEP} η vmapped": {"first_s": first, "run_s": median},
        f"{SWEEP} sequential fit": {"first_s": seq_first, "run_s": seq_median},
    }


def _spawn(devices: int, epochs: int, repeats: int, batch: int) -> dict[str, float]:
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={devices}"])
    args = [sys.executable, "-m", "benchmarks.scaling", "--child", str(devices), "--epochs", str(epochs)]
    args += ["--repeats", str(repeats), "--batch", str(batch)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"the {devices}-device run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per measurement (median)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"global batch size (default {BATCH})")
    parser.add_argument("--skip-sweep", action="store_true", help="only the data-parallel comparison")
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    epochs = args.epochs or (5 if args.quick else 25)
    repeats = args.repeats or (3 if args.quick else 7)

    if args.child is not None:  # one data-parallel measurement, in a process with that many devices
        print(json.dumps(child_data_parallel(args.child, epochs, repeats, args.batch)))
        return 0

    dp = {d: _spawn(d, epochs, repeats, args.batch) for d in (1, 2, 4)}
    steps = epochs * (1797 // args.batch)
    print(
        f"\ndigits MLP 64-256-256-10, Adam, global batch {args.batch}, {epochs} epochs ({steps} steps), "
        f"CPU ({os.cpu_count()} cores) split into forced host devices"
    )
    print(f"medians of {repeats} runs; other jobs share this machine, so timings are noisy\n")
    print("| data parallel              | jaxml fit ms/step | × 1 device | hand-written peer ms/step | × 1 device "
          "| jaxml / peer | gradient all-reduce alone, ms | compile + run (s) | final loss |")  # fmt: skip
    print("|----------------------------|-------------------|------------|---------------------------|------------"
          "|--------------|-------------------------------|-------------------|------------|")  # fmt: skip
    for d, r in dp.items():
        name = "1 device (no mesh)" if d == 1 else f"{d} devices, mesh data={d}"
        print(
            f"| {name:<26} | {r['step_ms']:17.3f} | {r['step_ms'] / dp[1]['step_ms']:10.2f} "
            f"| {r['peer_step_ms']:25.3f} | {r['peer_step_ms'] / dp[1]['peer_step_ms']:10.2f} "
            f"| {r['step_ms'] / r['peer_step_ms']:12.2f} | {r['allreduce_ms']:29.3f} | {r['first_s']:17.2f} "
            f"| {r['loss']:10.6f} |"
        )
    print(f"\n4 devices / 1 device, jaxml step: {dp[4]['step_ms'] / dp[1]['step_ms']:.2f}× (target ≤ 1.2×)")

    if not args.skip_sweep:
        sweep_epochs = max(2, epochs // 2)
        sweep = bench_sweep(sweep_epochs, args.batch, repeats)
        (_, v), (_, s) = sweep.items()
        print(f"\n| {SWEEP}-way learning-rate sweep, {sweep_epochs} epochs | steady (s) | incl. compile (s) |")
        print("|---------------------------------------|------------|-------------------|")
        for name, r in sweep.items():
            print(f"| {name:<37} | {r['run_s']:10.2f} | {r['first_s']:17.2f} |")
        print(
            f"\nsequential / vmapped: {s['run_s'] / v['run_s']:.2f}× steady state, "
            f"{s['first_s'] / v['first_s']:.2f}× including compilation"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
