"""Training throughput: jaxml's compiled trainer against optax + jit (Python loop), PyTorch and scikit-learn.

The task (issue #2): scikit-learn's digits scaled by 1/16, an MLP 64-256-256-10 (ReLU), softmax cross-entropy,
Adam η = 1e-3, batch 64, 150 epochs. All peers run in this one process, one after another, on the CPU:

* jaxml        ``jaxml.train.fit`` with ``jaxml.optim.adam`` — the whole run is one XLA program (lax.scan inside
               lax.while_loop) that takes η as an argument;
* jaxml ×8     ``jaxml.train.fit_sweep`` over 8 seeds in one program (per-model time reported);
* optax+jit    a jitted optax step called from a Python loop (the usual hand-written JAX loop);
* PyTorch      eager ``torch.optim.Adam`` with 2 threads;
* sklearn      ``MLPClassifier(solver="adam", tol=0)``.

Steady-state ms/step excludes compilation (jaxml: the difference of two run lengths, both compiled). Whole-run
time is the wall time of one 150-epoch training call, compilation included, imports and data loading not.

Compilation share (issue 13: ≤ 0.5 s of the whole run): the seconds ``jax.monitoring`` reports for tracing,
lowering to MLIR and XLA compilation during jaxml's first 150-epoch call, next to that call's wall time; then
the same for the first call of a second ``fit`` with another η (3e-3) and another epoch count in the same
power-of-two history bucket, which should compile nothing; and the programs that took the most compile time.

The compilation floor: the same seconds for programs that train this MLP in one XLA call, from the least one
(SGD over a fixed batch order) up to jaxml's, adding one feature at a time (:func:`bench_compile_floor`).

Run: ``python -m benchmarks.train`` (``--quick`` for 15 epochs; ``--single-thread`` adds a run with XLA's CPU
backend limited to one thread, which suits a model this small).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks._compile import CompileClock

HIDDEN = (256, 256)
LR = 1e-3
BATCH = 64


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int32)


def bench_jaxml(epochs: int, seeds: int = 8) -> dict[str, float]:
    import jax
    import jax.numpy as jnp

    from jaxml import losses, models, optim, train

    x, y = digits()
    data = (jnp.asarray(x), jnp.asarray(y))
    model = models.mlp(64, HIDDEN, 10, activation=jax.nn.relu)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])
    optimizer = optim.adam(LR)
    params = model.init(jax.random.PRNGKey(0))
    steps = len(y) // BATCH

    def run(n_epochs: int, opt: object = optimizer) -> tuple[float, train.FitResult]:
        start = time.perf_counter()
        res = train.fit(
            objective,
            params,
            opt,
            data,
            key=0,
            epochs=n_epochs,
            batch_size=BATCH,
            metrics={"accuracy": accuracy},
            progress=False,
        )
        jax.block_until_ready(res.params)
        return time.perf_counter() - start, res

    with CompileClock() as first:
        whole, res = run(epochs)  # first call: compiles, then trains
    other_epochs = epochs - max(1, epochs // 10)  # another count in the same power-of-two history bucket
    with CompileClock() as second:
        second_whole = run(other_epochs, optim.adam(3 * LR))[0]
    short_epochs = max(2, epochs // 10)
    t_short = min(run(short_epochs)[0] for _ in range(3))
    t_long = min(run(epochs)[0] for _ in range(2))
    step_ms = 1e3 * (t_long - t_short) / ((epochs - short_epochs) * steps)

    keys = jax.random.split(jax.random.PRNGKey(1), seeds)
    stacked = jax.vmap(model.init)(keys)

    def sweep(n_epochs: int) -> float:
        start = time.perf_counter()
        r = train.fit_sweep(
            objective, stacked, optimizer, data, keys=keys, epochs=n_epochs, batch_size=BATCH, progress=False
        )
        jax.block_until_ready(r.params)
        return time.perf_counter() - start

    sweep(short_epochs)  # compile
    s_short = min(sweep(short_epochs) for _ in range(2))
    s_long = sweep(epochs)
    sweep_ms = 1e3 * (s_long - s_short) / ((epochs - short_epochs) * steps * seeds)
    return {
        "step_ms": step_ms,
        "whole_s": whole,
        "accuracy": float(res.history["train_accuracy"][-1]),
        "sweep_step_ms": sweep_ms,
        "compile_s": first.seconds,
        "second_whole_s": second_whole,
        "second_compile_s": second.seconds,
        "other_epochs": other_epochs,
        "top_programs": sorted(first.by_program.items(), key=lambda kv: -kv[1])[:3],
    }


def bench_compile_floor() -> list[tuple[str, float]]:
    """Trace + lower + XLA seconds of programs that train the benchmark's MLP, from the least one up to what
    jaxml's trainer does: what compiling a one-program trainer of this model with those features costs on this
    machine (the least programs we could write, not a proven lower bound).

    Each is one ``jax.jit`` of a ``lax.while_loop`` over epochs around a ``lax.scan`` over the 28 batches of 64,
    compiled once in a fresh closure (nothing cached between them). Features are added one at a time:
    Adam instead of SGD (optax's, a constant), a fresh permutation per epoch (``jax.random.permutation`` of
    ``fold_in(key, epoch)``), the divergence guard (finite loss, gradient and parameters, else keep the last
    finite state: one ``lax.cond``), and the per-epoch history (mean loss, whole-split accuracy). The last row
    is jaxml's own trainer program as ``train.fit`` compiles it; the optax+jit peer compiles one step instead.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from jaxml import losses, models, optim, train

    x, y = digits()
    data = (jnp.asarray(x), jnp.asarray(y))
    model = models.mlp(64, HIDDEN, 10, activation=jax.nn.relu)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])  # noqa: E731
    params = model.init(jax.random.PRNGKey(0))
    n, steps = len(y), len(y) // BATCH

    def program(adam: bool, shuffle: bool, guard: bool, history: bool) -> float:
        opt = optax.adam(LR) if adam else optax.sgd(LR)
        finite = lambda t: jnp.isfinite(sum(jnp.sum(jnp.square(a)) for a in jax.tree_util.tree_leaves(t)))  # noqa: E731

        def step(carry, batch):
            p, s = carry
            loss, g = jax.value_and_grad(objective)(p, batch)
            u, s2 = opt.update(g, s, p)
            p2 = optax.apply_updates(p, u)
            if guard:  # as jaxml's trainer does it: one conditional
                ok = jnp.isfinite(loss) & finite(g) & finite(p2)
                p2, s2 = jax.lax.cond(ok, lambda: (p2, s2), lambda: (p, s))
            return (p2, s2), loss

        def run(p, s, stop, key):
            def epoch(c):
                p, s, e, hist = c
                if shuffle:
                    order = jax.random.permutation(jax.random.fold_in(key, e), n)[: steps * BATCH]
                else:
                    order = jnp.arange(steps * BATCH)
                index = order.reshape(steps, BATCH)
                (p, s), batch_losses = jax.lax.scan(step, (p, s), (data[0][index], data[1][index]))
                if history:
                    hist = hist.at[0, e].set(jnp.mean(batch_losses)).at[1, e].set(accuracy(p, data))
                return p, s, e + 1, hist

            return jax.lax.while_loop(lambda c: c[2] < stop, epoch, (p, s, 0, jnp.zeros((2, 256))))

        with CompileClock() as clock:
            jax.jit(run).lower(params, opt.init(params), 150, jax.random.PRNGKey(0)).compile()
        return clock.seconds

    rows = [
        ("SGD, fixed batch order", program(False, False, False, False)),
        ("Adam, fixed batch order", program(True, False, False, False)),
        ("Adam, a permutation per epoch", program(True, True, False, False)),
        ("+ divergence guard", program(True, True, True, False)),
        ("+ history (loss, accuracy)", program(True, True, True, True)),
    ]
    with CompileClock() as clock:
        train.fit(
            objective, params, optim.adam(LR), data, key=0, epochs=150, batch_size=BATCH,
            metrics={"accuracy": accuracy}, progress=False,
        )  # fmt: skip
    rows.append(("jaxml train.fit (optim.adam, checks, metrics)", clock.seconds))
    opt = optax.adam(LR)

    def optax_step(p, s, xb, yb):
        loss, g = jax.value_and_grad(lambda q: losses.softmax_cross_entropy(model.apply(q, xb), yb))(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    with CompileClock() as clock:
        jax.jit(optax_step).lower(params, opt.init(params), data[0][:BATCH], data[1][:BATCH]).compile()
    rows.append(("optax + jit: one step (the Python loop's program)", clock.seconds))
    return rows


def bench_optax_loop(epochs: int) -> dict[str, float]:
    import jax
    import jax.numpy as jnp
    import optax

    from jaxml import losses, models

    x, y = digits()
    xd, yd = jnp.asarray(x), jnp.asarray(y)
    model = models.mlp(64, HIDDEN, 10, activation=jax.nn.relu)
    optimizer = optax.adam(LR)

    @jax.jit
    def step(params, opt_state, xb, yb):
        loss, grads = jax.value_and_grad(lambda p: losses.softmax_cross_entropy(model.apply(p, xb), yb))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    steps = len(y) // BATCH
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    params = model.init(jax.random.PRNGKey(0))
    opt_state = optimizer.init(params)
    step_times = []
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        t0 = time.perf_counter()
        for i in range(steps):
            idx = perm[i * BATCH : (i + 1) * BATCH]
            params, opt_state, loss = step(params, opt_state, xd[idx], yd[idx])
        jax.block_until_ready(params)
        step_times.append((time.perf_counter() - t0) / steps)
    whole = time.perf_counter() - start
    acc = float(jnp.mean(jnp.argmax(model.apply(params, xd), -1) == yd))
    return {"step_ms": 1e3 * float(np.median(step_times[1:])), "whole_s": whole, "accuracy": acc}


def bench_torch(epochs: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    x, y = digits()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    net = torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(*HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps = len(y) // BATCH
    start = time.perf_counter()
    step_times = []
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        t0 = time.perf_counter()
        for i in range(steps):
            idx = perm[i * BATCH : (i + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        step_times.append((time.perf_counter() - t0) / steps)
    whole = time.perf_counter() - start
    with torch.no_grad():
        acc = float((net(xt).argmax(1) == yt).float().mean())
    return {"step_ms": 1e3 * float(np.median(step_times[1:])), "whole_s": whole, "accuracy": acc}


def bench_sklearn(epochs: int) -> dict[str, float]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x, y = digits()
    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        solver="adam",
        learning_rate_init=LR,
        batch_size=BATCH,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=epochs + 1,
        alpha=0.0,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    whole = time.perf_counter() - start
    steps = -(-len(y) // BATCH)  # sklearn keeps the last, smaller batch
    return {"step_ms": 1e3 * whole / (epochs * steps), "whole_s": whole, "accuracy": float(clf.score(x, y))}


def _cell(value: float, width: int, digits: int) -> str:
    """A table cell; "—" where the peer was not run or the row measures nothing (never "nan")."""
    return f"{value:{width}.{digits}f}" if value == value else f"{'—':>{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 epochs instead of 150")
    parser.add_argument("--single-thread", action="store_true", help="also time jaxml with single-threaded XLA")
    parser.add_argument("--only-jaxml", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    epochs = 15 if args.quick else 150

    if args.only_jaxml:  # child process for the single-threaded XLA run
        r = bench_jaxml(epochs)
        print(f"{r['step_ms']:.4f} {r['whole_s']:.3f} {r['accuracy']:.4f} {r['sweep_step_ms']:.4f}")
        return 0

    results = {"jaxml": bench_jaxml(epochs)}
    share = {k: results["jaxml"].pop(k) for k in ("compile_s", "second_whole_s", "second_compile_s", "other_epochs")}
    top = results["jaxml"].pop("top_programs")
    results["jaxml ×8 seeds (per model)"] = {
        "step_ms": results["jaxml"].pop("sweep_step_ms"),
        "whole_s": float("nan"),
        "accuracy": float("nan"),
    }
    if args.single_thread:
        env = {**os.environ, "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.train", "--only-jaxml"] + (["--quick"] if args.quick else []),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        step, whole, acc, sweep = map(float, out[-4:])
        results["jaxml (XLA 1 thread)"] = {"step_ms": step, "whole_s": whole, "accuracy": acc}
        results["jaxml ×8 (XLA 1 thread, per model)"] = {
            "step_ms": sweep,
            "whole_s": float("nan"),
            "accuracy": float("nan"),
        }
    results["optax + jit, Python loop"] = bench_optax_loop(epochs)
    try:
        results["PyTorch eager (2 threads)"] = bench_torch(epochs)
    except ImportError:
        print("PyTorch not installed (pip install -e '.[bench]'); skipping it", file=sys.stderr)
    results["scikit-learn MLPClassifier"] = bench_sklearn(epochs)

    ref = results["jaxml"]
    torch_step = results.get("PyTorch eager (2 threads)", {}).get("step_ms", float("nan"))
    sk_whole = results["scikit-learn MLPClassifier"]["whole_s"]
    print(f"\ndigits (1797×64, /16), MLP 64-256-256-10, Adam 1e-3, batch {BATCH}, {epochs} epochs, CPU\n")
    print(f"| {'peer':<36} | ms/step | ×jaxml step | whole run (s) | ×jaxml run | train acc | step / PyTorch step |")
    print(f"|{'-' * 38}|---------|-------------|---------------|------------|-----------|---------------------|")
    for name, r in results.items():
        print(
            f"| {name:<36} | {r['step_ms']:7.3f} | {r['step_ms'] / ref['step_ms']:11.2f} "
            f"| {_cell(r['whole_s'], 13, 2)} | {_cell(r['whole_s'] / ref['whole_s'], 10, 2)} "
            f"| {_cell(r['accuracy'], 9, 4)} | {_cell(r['step_ms'] / torch_step, 19, 2)} |"
        )
    print(f"\njaxml whole run / scikit-learn whole run: {ref['whole_s'] / sk_whole:.2f}")
    verdict = "holds" if share["compile_s"] <= 0.5 else "does not hold"
    print(
        f"jaxml compilation (trace + lower + XLA): {share['compile_s']:.2f} s of the {ref['whole_s']:.2f} s first "
        f"{epochs}-epoch run ({share['compile_s'] / ref['whole_s']:.0%}; target ≤ 0.5 s {verdict}); a second fit "
        f"with η = {3 * LR:g} and {share['other_epochs']} epochs: {share['second_compile_s']:.2f} s of "
        f"{share['second_whole_s']:.2f} s"
    )
    print("most compile time: " + ", ".join(f"{name} {sec:.2f} s" for name, sec in top))
    print("\nCompiling programs that train this MLP (trace + lower + XLA, each in a fresh closure):\n")
    print("| program | compile s |\n|---|---|")
    for name, sec in bench_compile_floor():
        print(f"| {name} | {sec:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
