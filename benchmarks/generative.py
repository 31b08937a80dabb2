"""Generative classifiers: jaxml.generative against scikit-learn's LDA, QDA and GaussianNB.

Task: fit + predict_proba on the same synthetic data, 1,000,000 rows × 50 features, 3 Gaussian classes
(float64 everywhere). Peers, each with the structure it implements:

* ``covariance="shared"``   vs ``LinearDiscriminantAnalysis(solver="lsqr")`` (its covariance_ is the same
  prior-weighted 1/Nₖ Σ; its priors are the class frequencies);
* ``covariance="full"``     vs ``QuadraticDiscriminantAnalysis()`` (scikit-learn ≥ 1.8 uses 1/Nₖ too);
* ``covariance="diagonal"`` vs ``GaussianNB(var_smoothing=0.0)`` (no variance floor, as ``reg=0``).

Both libraries get the same NumPy arrays and return NumPy probabilities; jaxml's time includes moving x onto
the device (in ``fit`` and again in ``predict_proba``), validation and the conversion back. jaxml streams a
NumPy x to XLA in row blocks of fixed shape: on CPU a 64-byte-aligned block is shared with XLA (zero-copy), and
block starts are picked at aligned rows when the row size allows (NumPy only guarantees 16 bytes), so no copy of
the whole array is made. Both inputs are timed: "NumPy x" is the array as NumPy allocated it, "aligned x" the same
values in a 64-byte-aligned buffer.
"first call" is one fit + predict_proba in a fresh Python process (a subprocess that imports everything and
builds the data untimed): what a script pays, tracing and XLA compilation included (no persistent compilation
cache). "warm" is the median of later calls in this process. scikit-learn's warm time is the median of its calls
on the NumPy x, its first call is timed in a fresh process too. Max |Δp| is the largest absolute difference
between the (N, 3) probability matrices.

Targets (issue 13): first call ≤ 2× warm (NumPy x); first call faster than the peer's warm call; warm (NumPy x)
≥ 3× faster than the peer. Each is printed with the measured ratio and whether it holds.

Run: ``python -m benchmarks.generative`` (``--quick``: 100,000 rows, fewer repeats).
``--compile-times`` instead prints, for each covariance kind, what one fresh process's first fit + predict_proba
spends per compiled program: tracing, lowering to MLIR and XLA compilation (from ``jax.monitoring`` events).
Timings are wall-clock on this machine; other processes sharing the CPU inflate them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._compile import CompileClock


def make_data(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """K Gaussian classes with different covariances and unequal sizes, float64."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=np.arange(1, k + 1) / np.arange(1, k + 1).sum())
    x = np.empty((n, d))
    for c in range(k):
        rows = np.flatnonzero(y == c)
        a = np.eye(d) + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)  # well conditioned: QDA checks rank
        x[rows] = rng.normal(size=(len(rows), d)) @ a + rng.normal(size=d) * 0.3 + 5.0
    return x, y


def aligned_copy(x: np.ndarray, alignment: int = 64) -> np.ndarray:
    """The same values in a buffer whose address is a multiple of ``alignment`` bytes."""
    raw = np.empty(x.nbytes + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    out = raw[offset : offset + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def _time(fn: Callable[[], np.ndarray], repeats: int) -> tuple[list[float], np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def _peers() -> dict[str, tuple[str, Callable[[], Any]]]:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
    from sklearn.naive_bayes import GaussianNB

    return {
        "shared": ("LinearDiscriminantAnalysis(solver='lsqr')", lambda: LinearDiscriminantAnalysis(solver="lsqr")),
        "full": ("QuadraticDiscriminantAnalysis()", lambda: QuadraticDiscriminantAnalysis()),
        "diagonal": ("GaussianNB(var_smoothing=0)", lambda: GaussianNB(var_smoothing=0.0)),
    }


def _ours(kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from jaxml import generative

    model = generative.fit(x, y, kind)  # NumPy in, NumPy out, as for scikit-learn
    return np.asarray(generative.predict_proba(model, x))


def first_call(library: str, kind: str, n: int, d: int) -> float:
    """Seconds of one fit + predict_proba in this (fresh) process; imports and data are untimed."""
    import jax

    peers = _peers()
    from jaxml import generative  # noqa: F401  (imports excluded from the timing)

    x, y = make_data(n, d, 3)
    with jax.enable_x64(True):
        start = time.perf_counter()
        if library == "jaxml":
            _ours(kind, x, y)
        else:
            peers[kind][1]().fit(x, y).predict_proba(x)
        return time.perf_counter() - start


def compile_times(kind: str, n: int, d: int) -> dict[str, dict[str, float]]:
    """Per compiled program, seconds of tracing / lowering / XLA compilation in one first fit + predict_proba."""
    import jax

    from jaxml import generative  # noqa: F401

    x, y = make_data(n, d, 3)
    with jax.enable_x64(True), CompileClock() as clock:
        _ours(kind, x, y)
    return clock.by_program_stage


def _first_call_in_fresh_process(library: str, kind: str, n: int, d: int) -> float:
    env = {**os.environ, "JAXML_COMPILATION_CACHE": "0"}
    cmd = [sys.executable, "-m", "benchmarks.generative", "--first-call", library, kind, "--rows", str(n)]
    out = subprocess.run([*cmd, "--features", str(d)], capture_output=True, text=True, check=True, env=env)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generative", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows and fewer repeats")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=None, help="warm calls per library")
    parser.add_argument("--compile-times", action="store_true", help="per-program compile time of a first call")
    parser.add_argument("--first-call", nargs=2, metavar=("LIBRARY", "KIND"), help=argparse.SUPPRESS)
    parser.add_argument("--compile-times-of", metavar="KIND", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n = args.rows or (100_000 if args.quick else 1_000_000)
    if args.first_call:
        print(json.dumps({"seconds": first_call(*args.first_call, n, args.features)}))
        return 0
    if args.compile_times_of:
        print(json.dumps(compile_times(args.compile_times_of, n, args.features)))
        return 0
    if args.compile_times:
        print(f"{n:,} rows × {args.features} features; seconds per program of one fresh process's first call")
        print("| covariance | program | trace s | lower s | XLA compile s |")
        print("|---|---|---|---|---|")
        for kind in ("shared", "full", "diagonal"):
            cmd = [sys.executable, "-m", "benchmarks.generative", "--compile-times-of", kind, "--rows", str(n)]
            out = subprocess.run([*cmd, "--features", str(args.features)], capture_output=True, text=True, check=True)
            per = json.loads(out.stdout.strip().splitlines()[-1])
            for name, t in per.items():
                cells = " | ".join(f"{t.get(stage, 0.0):.3f}" for stage in ("trace", "lower", "compile"))
                print(f"| {kind} | {name} | {cells} |")
            total = [sum(t.get(stage, 0.0) for t in per.values()) for stage in ("trace", "lower", "compile")]
            print(f"| {kind} | **all** | {total[0]:.3f} | {total[1]:.3f} | {total[2]:.3f} |", flush=True)
        return 0

    import jax
    import sklearn

    repeats = args.repeats or (3 if args.quick else 3)
    x, y = make_data(n, args.features, 3)
    xa = aligned_copy(x)
    print(
        f"{n:,} rows × {args.features} features, 3 classes, float64; jax {jax.__version__} "
        f"({jax.default_backend()}), scikit-learn {sklearn.__version__}; {os.cpu_count()} CPU cores; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows = []
    for kind, (peer_name, make_peer) in _peers().items():
        first = _first_call_in_fresh_process("jaxml", kind, n, args.features)
        peer_first = _first_call_in_fresh_process("scikit-learn", kind, n, args.features)
        with jax.enable_x64(True):
            _ours(kind, x, y)  # compile in this process
            steady, p_ours = _time(lambda kind=kind: _ours(kind, x, y), repeats)
            steady_aligned, p_aligned = _time(lambda kind=kind: _ours(kind, xa, y), repeats)
        sk_times, p_sk = _time(lambda make_peer=make_peer: make_peer().fit(x, y).predict_proba(x), repeats)
        t_ours, t_al, t_sk = (float(np.median(t)) for t in (steady, steady_aligned, sk_times))
        gap = float(max(np.max(np.abs(p_ours - p_sk)), np.max(np.abs(p_aligned - p_sk))))
        rows.append((kind, peer_name, t_sk, peer_first, t_ours, t_al, first, gap))
        print(
            f"  {kind:<8} scikit-learn {t_sk:7.3f} s (first {peer_first:.3f} s)   jaxml {t_ours:7.3f} s, aligned x "
            f"{t_al:7.3f} s, first call {first:.3f} s   max |Δp| {gap:.1e}",
            flush=True,
        )
    print()
    print(
        "| covariance | scikit-learn peer | peer s (first call) | jaxml first call s | jaxml warm s, NumPy x "
        "| jaxml warm s, aligned x | first / warm (target ≤ 2) | peer / first (target > 1) "
        "| peer / warm NumPy (target ≥ 3) | peer / warm aligned | max abs Δp |"
    )
    print("|" + "---|" * 11)
    verdict = lambda ok: "✓" if ok else "✗"  # noqa: E731
    for kind, peer, t_sk, peer_first, t_ours, t_al, t_first, gap in rows:
        r1, r2, r3 = t_first / t_ours, t_sk / t_first, t_sk / t_ours
        print(f"| {kind} | {peer} | {t_sk:.3f} ({peer_first:.3f}) | {t_first:.3f} | {t_ours:.3f} | {t_al:.3f} "
              f"| {r1:.2f} {verdict(r1 <= 2)} | {r2:.2f} {verdict(r2 > 1)} | {r3:.2f} {verdict(r3 >= 3)} "
              f"| {t_sk / t_al:.2f} | {gap:.1e} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
