"""Cold start: the first call and the warm call of each public entry point, each in a fresh process.

For every entry point below, a subprocess imports jaxml, builds its inputs untimed (data, parameters, all
materialized), then times

* the *first call* (compilation included: what a script or a fresh notebook kernel pays),
* the seconds of XLA compilation inside it (JAX's monitoring event ``backend_compile_duration``; tracing and
  lowering come on top, about 30–40% more),
* the *warm* call, the median of three more calls with the same shapes,

and the table gives first / warm. No persistent compilation cache is used (it is off unless enabled).

Entry points and sizes (CPU, float32 unless said):

* ``train.fit``: MLP 64-256-256-10 on the 1,797 digits (x/16), ``optim.adam(1e-3)``, B = 128, 20 epochs;
* ``train.fit`` again in the same process with another learning rate and epoch count (the first call of that run:
  it must not compile);
* ``train.fit_sweep``: the same model, 4 learning rates at once, 20 epochs;
* ``generative.fit`` + ``predict_proba``: 1,000,000 × 50 NumPy float64, 3 classes, full covariance
  (the size of ``benchmarks.generative``);
* ``curvature.hvp``, ``eigenpairs`` (top 5), ``spectral_density`` (4 vectors × 64 steps),
  ``hutchinson_trace``: the MLP 64-256-256-10 (85,002 parameters) on all digits;
* ``curvature.hessian`` and ``classify_critical_point``: MLP 64-16-10 (1,210 parameters), float64.

Run: ``python -m benchmarks.coldstart`` (``--only NAME[,NAME]``). Wall-clock on this machine: other processes
sharing the CPU inflate every number.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._compile import CompileClock


def _digits(dtype: str = "float32") -> tuple[Any, Any]:
    import jax.numpy as jnp
    from sklearn.datasets import load_digits

    d = load_digits()
    return jnp.asarray(d.data / 16.0, dtype), jnp.asarray(d.target, jnp.int32)


def _mlp(hidden: list[int], dtype: str = "float32") -> tuple[Any, Any, Any, Any]:
    import jax

    from jaxml import losses, models, train

    x, y = _digits(dtype)
    model = models.mlp(64, hidden, 10, activation=jax.nn.relu)
    params = jax.tree_util.tree_map(lambda a: a.astype(dtype), model.init(jax.random.key(0)))
    return model, train.supervised(model.apply, losses.softmax_cross_entropy), params, (x, y)


# Each setup builds its inputs (untimed) and returns (first, warm): the call to time first, and the call to
# time warm (the same call, unless the entry point's first call differs on purpose).


def _fit() -> tuple[Callable, Callable]:
    from jaxml import optim, train

    _, f, params, data = _mlp([256, 256])
    call = lambda: train.fit(f, params, optim.adam(1e-3), data, key=0, epochs=20, batch_size=128, progress=False)
    return call, call


def _fit_other_eta() -> tuple[Callable, Callable]:
    from jaxml import optim, train

    _, f, params, data = _mlp([256, 256])
    run = lambda eta, epochs: train.fit(  # noqa: E731
        f, params, optim.adam(eta), data, key=0, epochs=epochs, batch_size=128, progress=False
    )
    _block(run(1e-3, 20))  # untimed: the program is compiled by a first fit
    return (lambda: run(3e-3, 25)), (lambda: run(3e-3, 25))


def _fit_sweep() -> tuple[Callable, Callable]:
    import jax
    import jax.numpy as jnp

    from jaxml import optim, train

    _, f, params, data = _mlp([256, 256])
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * 4), params)
    keys = jax.random.split(jax.random.key(0), 4)
    etas = jnp.array([3e-4, 1e-3, 3e-3, 1e-2])
    call = lambda: train.fit_sweep(  # noqa: E731
        f, stacked, optim.adam, data, keys=keys, epochs=20, batch_size=128, learning_rates=etas, progress=False
    )
    return call, call


def _generative() -> tuple[Callable, Callable]:
    from jaxml import generative

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 1_000_000)
    x = rng.normal(size=(1_000_000, 50)) + y[:, None] * 0.5
    call = lambda: generative.predict_proba(generative.fit(x, y, "full"), x)
    return call, call


def _curv(name: str) -> tuple[Callable, Callable]:
    from jaxml import curvature

    _, f, params, data = _mlp([256, 256])
    if name == "hvp":
        call = lambda: curvature.hvp(f, params, params, data=data)
    elif name == "eigenpairs":
        call = lambda: curvature.eigenpairs(f, params, 5, data=data, key=1)
    elif name == "spectral_density":
        call = lambda: curvature.spectral_density(f, params, data=data, key=1)
    else:
        call = lambda: curvature.hutchinson_trace(f, params, data=data, key=1)
    return call, call


def _dense(name: str) -> tuple[Callable, Callable]:
    import jax

    jax.config.update("jax_enable_x64", True)
    from jaxml import curvature

    _, f, params, data = _mlp([16], "float64")
    if name == "hessian":
        call = lambda: curvature.hessian(f, params, data=data)
    else:
        call = lambda: curvature.classify_critical_point(f, params, data=data)
    return call, call


ENTRY_POINTS: dict[str, Callable[[], tuple[Callable, Callable]]] = {
    "train.fit (20 epochs)": _fit,
    "train.fit, another η and epoch count": _fit_other_eta,
    "train.fit_sweep (4 η, 20 epochs)": _fit_sweep,
    "generative.fit + predict_proba (full)": _generative,
    "curvature.hvp": lambda: _curv("hvp"),
    "curvature.eigenpairs (top 5)": lambda: _curv("eigenpairs"),
    "curvature.spectral_density": lambda: _curv("spectral_density"),
    "curvature.hutchinson_trace": lambda: _curv("hutchinson_trace"),
    "curvature.hessian (P = 1,210, float64)": lambda: _dense("hessian"),
    "curvature.classify_critical_point (dense)": lambda: _dense("classify"),
}


def _block(out: Any) -> Any:
    import jax

    return jax.block_until_ready(jax.tree_util.tree_map(lambda a: a if hasattr(a, "shape") else 0, out))


def _child(name: str) -> dict[str, float]:
    first, warm = ENTRY_POINTS[name]()
    # XLA's compilation only: tracing events nest (a jit inside a traced function reports its own trace
    # inside its caller's), so their sum would count some seconds twice.
    with CompileClock() as clock:
        t = time.perf_counter()
        _block(first())
        first_s = time.perf_counter() - t
    compile_s = clock.stages("compile")
    times = []
    for _ in range(3):
        t = time.perf_counter()
        _block(warm())
        times.append(time.perf_counter() - t)
    return {"first": first_s, "compile": compile_s, "warm": float(np.median(times))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.coldstart", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=None, help="comma-separated entry points (a substring of the name)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    names = list(ENTRY_POINTS)
    if args.only:
        names = [n for n in names if any(part in n for part in args.only.split(","))]
    print("| entry point | first call (s) | of which XLA compiling (s) | warm (s) | first / warm |")
    print("|---|---|---|---|---|")
    for name in names:
        cmd = [sys.executable, "-m", "benchmarks.coldstart", "--child", name]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} | | | |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {name} | {r['first']:.2f} | {r['compile']:.2f} | {r['warm']:.3f} | {r['first'] / r['warm']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
