"""A/B of the trainer's plain path: this working tree against a git revision, in alternating fresh processes.

The task is :mod:`benchmarks.train`'s (digits, MLP 64-256-256-10, Adam η = 1e-3, batch 64): each process times
jaxml's steady-state ms per step (the difference of two compiled run lengths, compilation excluded) and the
first 150-epoch call (compilation included). Revision A is checked out into a temporary ``git worktree``; the
rounds alternate A, B, A, B, … so that the machine's drift falls on both sides. The ratio B/A of the medians
is printed per measure (> 1: this tree is slower).

Run: ``python -m benchmarks.ab [--against REV] [--rounds K] [--epochs E]`` (defaults: HEAD, 5 rounds, 150).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One process: what it measures, printed as JSON on its last line.
PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import jax, jax.numpy as jnp
from benchmarks.train import BATCH, HIDDEN, LR, digits
import jaxml
from jaxml import losses, models, optim, train

assert jaxml.__file__.startswith(sys.argv[1]), f"imported {jaxml.__file__}, not the tree under test"
x, y = digits()
data = (jnp.asarray(x), jnp.asarray(y))
model = models.mlp(64, HIDDEN, 10, activation=jax.nn.relu)
objective = train.supervised(model.apply, losses.softmax_cross_entropy)
params = model.init(jax.random.PRNGKey(0))
epochs = int(sys.argv[2])

def run(n):
    start = time.perf_counter()
    res = train.fit(objective, params, optim.adam(LR), data, key=0, epochs=n, batch_size=BATCH, progress=False)
    jax.block_until_ready(res.params)
    return time.perf_counter() - start

first = run(epochs)
short = max(2, epochs // 10)
run(short)
t_short = min(run(short) for _ in range(3))
t_long = min(run(epochs) for _ in range(2))
step_ms = 1e3 * (t_long - t_short) / ((epochs - short) * (len(y) // BATCH))
print(json.dumps({"step_ms": step_ms, "first_s": first}))
"""


def measure(tree: Path, epochs: int) -> dict[str, float]:
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"), "JAXML_COMPILATION_CACHE": "0"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tree), str(epochs)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="the git revision A (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "a"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.against],
                       check=True, capture_output=True)  # fmt: skip
        try:
            results: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
            for k in range(args.rounds):
                for name, tree in (("A", base), ("B", ROOT)) if k % 2 == 0 else (("B", ROOT), ("A", base)):
                    results[name].append(measure(tree, args.epochs))
                    print(f"round {k + 1} {name}: {results[name][-1]}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    print(f"\nA = {args.against}, B = this working tree; {args.rounds} alternating rounds, {args.epochs} epochs")
    print(f"{'measure':<10} {'A median':>10} {'B median':>10} {'B/A':>7}")
    for key in ("step_ms", "first_s"):
        a = statistics.median(r[key] for r in results["A"])
        b = statistics.median(r[key] for r in results["B"])
        print(f"{key:<10} {a:>10.4f} {b:>10.4f} {b / a:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
