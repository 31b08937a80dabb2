"""Curvature benchmark: jaxml's Hessian spectra against every peer, warm and on the first call, with the floor.

Tasks (scikit-learn's 1,797 digits, x/16, softmax cross-entropy, ReLU MLPs, CPU):

1. ``top``: MLP 64-256-256-10 (85,002 parameters), float32, the same weights everywhere: the top-5 Hessian
   eigenvalues by
   * jaxml ``eigenpairs`` (Lanczos with thick restarts, locking and a probe, default tolerance √eps), its public
     call as a user makes it (the operator's pass included);
   * matfree ``tridiag_sym(n, reortho="full")`` + ``eigh`` of the tridiagonal, with jaxml's H·v operator built
     once and the whole decomposition jitted once, the same number n of products jaxml used (the JAX peer);
   * SciPy's ARPACK ``eigsh(which="LA")`` over one jitted H·v on an operator built once;
   * PyHessian at tol 1e-3 and 1e-5 (power iteration with deflation, PyTorch);
   * curvlinops' ``HessianLinearOperator`` + ``eigsh`` (PyTorch).
   Each is timed warm at its best (what it can build or compile once is built outside the timed region, then
   the median of warm calls) and on its *first call in a fresh process* (a subprocess that builds the model and
   data untimed, then times the setup and one call: compilation included, imports excluded). Errors are
   against a float64 reference (jaxml with residual ≤ 1e-10‖H‖, cross-checked with ARPACK in float64). The
   floor is (H·v products used) × (one H·v's time); jaxml is also timed against it in alternating rounds (a
   warm call, then as many back-to-back products), which cancels the machine's drift between the two.
2. ``bottom``: the 5 most negative eigenvalues of the same model and their vectors, against ARPACK
   ``which="SA"`` in float64, with the H·v counts.
3. ``dense``: MLP 64-48-48-10 (5,962 parameters), float64: ``curvature.hessian`` against P single H·v products,
   and the full spectrum on the same matrix (each method's faster of two calls, in two rounds of opposite order)
   by jaxml's ``dense_spectrum`` (all eigenvalues and the λ_min eigenvector, what ``classify_critical_point``
   uses), SciPy's ``eigh(driver="evd")`` (LAPACK syevd), NumPy's ``eigvalsh``, ``jnp.linalg.eigvalsh`` and
   ``jnp.linalg.eigh``.
4. ``large``: top-5 of an MLP 64-3200-3100-10 (10,162,110 parameters) in a fresh process: time, H·v count, peak
   memory against the basis bound (2k + 20)·P.

Run: ``python -m benchmarks.curvature`` (``--quick``: fewer repeats, no 10M model; ``--tasks top,dense``;
``--large-only``: task 4 alone, printed as JSON).
Timings are wall-clock on this machine; other processes sharing the CPU inflate them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._compile import CompileClock

SIZES = {"top": (256, 256), "dense": (48, 48), "large": (3200, 3100)}


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int32)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (MiB): Linux's VmHWM, the high-water mark of the current address space.
    Not ``ru_maxrss``: across ``exec`` Linux keeps the parent's peak in it, so a child started by a large parent
    would report the parent's size (the 10M-parameter task runs in such a child)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _problem(hidden: tuple[int, ...], dtype: str = "float32"):
    """(objective, params, data) with weights drawn in float32 (the same in every framework), cast to dtype."""
    import jax
    import jax.numpy as jnp

    from jaxml import losses, models, train

    x, y = _digits()
    model = models.mlp(64, list(hidden), 10, activation=jax.nn.relu)
    with jax.enable_x64(False):
        params = jax.tree_util.tree_map(np.asarray, model.init(jax.random.key(0)))
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), params)
    data = (jnp.asarray(x, dtype), jnp.asarray(y))
    return train.supervised(model.apply, losses.softmax_cross_entropy), params, data


def _operator(f, params, data):
    """jaxml's H·v operator and a jitted flat product v ↦ H·v (what every JAX/SciPy peer is given)."""
    import jax

    from jaxml.curvature import _core

    op, theta, _ = _core.operator(f, params, data=data)
    product = jax.jit(_core.apply)
    return op, theta, product


# ------------------------------------------------------------------------------------------------------------
# The peers: each returns (eigenvalues, H·v products) and is called once cold (subprocess) and warm.


def jaxml_top(f, params, data, k=5, which="top", tol=None):
    from jaxml import curvature

    res = curvature.eigenpairs(f, params, k, which=which, data=data, key=1, tol=tol, max_steps=3000)
    return np.asarray(res.eigenvalues, np.float64), res.num_hvps


def matfree_top(f, params, data, k=5, num_matvecs=25):
    return matfree_setup(f, params, data, k, num_matvecs)()


def matfree_setup(f, params, data, k=5, num_matvecs=25):
    """matfree at its best: the operator built once and ``tridiag_sym`` + ``eigvalsh`` jitted once, over a flat
    H·v; returns the call to time (its first call compiles)."""
    import jax
    import jax.numpy as jnp
    from matfree import decomp

    op, theta, product = _operator(f, params, data)
    tridiag = decomp.tridiag_sym(num_matvecs, reortho="full", materialize=True)

    @jax.jit
    def run(op, v0):
        result = tridiag(lambda v, op: product(op, v), v0, op)
        return jnp.linalg.eigvalsh(result.J_small)

    v0 = jax.random.normal(jax.random.key(1), theta.shape, theta.dtype)

    def call():
        vals = np.asarray(run(op, v0), np.float64)
        return np.sort(vals)[::-1][:k], num_matvecs

    return call


def arpack_top(f, params, data, k=5, which="LA", tol=0.0):
    return arpack_setup(f, params, data, k, which, tol)()


def arpack_setup(f, params, data, k=5, which="LA", tol=0.0):
    """ARPACK at its best: SciPy's ``eigsh`` over one jitted H·v on an operator built once."""
    import jax.numpy as jnp
    from scipy.sparse.linalg import LinearOperator, eigsh

    op, theta, product = _operator(f, params, data)
    dtype = np.dtype(theta.dtype)
    v0 = np.random.default_rng(1).normal(size=theta.size).astype(dtype)

    def call():
        count = [0]

        def matvec(v: np.ndarray) -> np.ndarray:
            count[0] += 1
            return np.asarray(product(op, jnp.asarray(v.ravel(), theta.dtype)))

        lin = LinearOperator((theta.size, theta.size), matvec=matvec, dtype=dtype)
        vals = eigsh(lin, k=k, which=which, tol=tol, v0=v0, return_eigenvectors=False)
        vals = np.sort(vals.astype(np.float64))
        return (vals[::-1] if which == "LA" else vals), count[0]

    return call


def _torch_model(params):
    import torch

    torch.set_num_threads(2)
    layers = []
    for i, layer in enumerate(params):
        lin = torch.nn.Linear(*np.shape(layer["w"]))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(np.asarray(layer["w"], np.float32).T)))
            lin.bias.copy_(torch.from_numpy(np.asarray(layer["b"], np.float32)))
        layers.append(lin)
        if i < len(params) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def pyhessian_top(f, params, data, k=5, tol=1e-3):
    import torch
    from pyhessian import hessian

    model = _torch_model(params)
    torch.manual_seed(0)
    x, y = (torch.from_numpy(np.asarray(a)) for a in data)
    comp = hessian(model, torch.nn.CrossEntropyLoss(), data=(x, y.long()), cuda=False)
    vals, _ = comp.eigenvalues(top_n=k, maxIter=1000, tol=tol)
    return np.sort(np.asarray(vals, np.float64))[::-1], None


def curvlinops_top(f, params, data, k=5):
    import torch
    from curvlinops import HessianLinearOperator
    from scipy.sparse.linalg import eigsh

    model = _torch_model(params)
    x, y = (torch.from_numpy(np.asarray(a)) for a in data)
    hess = HessianLinearOperator(
        model, torch.nn.CrossEntropyLoss(), list(model.parameters()), [(x, y.long())], check_deterministic=False
    )
    hess = hess.to_scipy() if hasattr(hess, "to_scipy") else hess
    vals = eigsh(hess, k=k, which="LA", return_eigenvectors=False)
    return np.sort(vals.astype(np.float64))[::-1], None


# Each peer's setup returns the call to time: what a peer can build once (an operator, a jitted program) is
# built there, so that warm calls time the peer at its best. jaxml's public call builds its operator each time.
PEERS: dict[str, Callable] = {
    "jaxml": lambda f, p, d, **kw: (lambda: jaxml_top(f, p, d)),
    "matfree": matfree_setup,
    "arpack": arpack_setup,
    "pyhessian_1e-3": lambda f, p, d, **kw: (lambda: pyhessian_top(f, p, d, tol=1e-3)),
    "pyhessian_1e-5": lambda f, p, d, **kw: (lambda: pyhessian_top(f, p, d, tol=1e-5)),
    "curvlinops": lambda f, p, d, **kw: (lambda: curvlinops_top(f, p, d)),
}


def _first_call(peer: str, extra: dict) -> dict | None:
    """The peer's first call in a fresh process (model and data built untimed): its seconds, and of them the
    seconds JAX reports for tracing + lowering and for XLA compilation (``jax.monitoring`` events)."""
    cmd = [sys.executable, "-m", "benchmarks.curvature", "--first-call", peer, "--extra", json.dumps(extra)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"   ({peer} first call failed: {done.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _first_call_child(peer: str, extra: dict) -> int:
    import jax

    f, params, data = _problem(SIZES["top"])
    jax.block_until_ready(params)
    setup = PEERS[peer]
    with CompileClock() as clock:
        t = time.perf_counter()
        (setup(f, params, data, num_matvecs=extra["num_matvecs"]) if peer == "matfree" else setup(f, params, data))()
        seconds = time.perf_counter() - t
    spent = {"trace_lower": clock.stages("trace", "lower"), "compile": clock.stages("compile")}
    print(json.dumps({"seconds": seconds, **spent}))
    return 0


def _reference(which: str, k: int = 5) -> np.ndarray:
    import jax

    with jax.enable_x64(True):
        f, params, data = _problem(SIZES["top"], "float64")
        vals, _ = jaxml_top(f, params, data, k=k, which=which, tol=1e-10)
        check, _ = arpack_top(f, params, data, k=k, which="LA" if which == "top" else "SA", tol=1e-12)
    assert np.allclose(vals, check, rtol=1e-7), (vals, check)
    return vals


def _relerr(vals: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(vals, np.float64) - ref) / np.abs(ref)))


def task_top(repeats: int, peers: list[str]) -> dict:
    import jax

    f, params, data = _problem(SIZES["top"])
    ref = _reference("top")
    op, theta, product = _operator(f, params, data)
    grad = jax.jit(jax.grad(lambda p: f(p, data)))
    v = jax.random.normal(jax.random.key(2), theta.shape, theta.dtype)
    jax.block_until_ready((grad(params), product(op, v)))
    n = 10 * repeats
    grad_ms = 1e3 * _median_time(lambda: jax.block_until_ready(grad(params)), n)
    hvp_ms = 1e3 * _median_time(lambda: jax.block_until_ready(product(op, v)), n)
    jvp = jax.jit(lambda t, v: jax.jvp(jax.grad(lambda s: f(_unflat(params, s), data)), (t,), (v,))[1])
    jax.block_until_ready(jvp(theta, v))
    jvp_ms = 1e3 * _median_time(lambda: jax.block_until_ready(jvp(theta, v)), n)
    rows = {}
    vals, hvps = jaxml_top(f, params, data)
    # jaxml against its floor in alternating rounds (a warm call, then as many back-to-back products as it
    # used), so that the machine's drift over the run's minutes falls on both sides of the ratio alike.
    rounds = []
    for _ in range(2 * repeats + 1):
        t = time.perf_counter()
        jaxml_top(f, params, data)
        warm = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(hvps):
            jax.block_until_ready(product(op, v))
        rounds.append((warm, time.perf_counter() - t))
    for peer, setup in PEERS.items():
        if peer not in peers:
            continue
        try:
            call = setup(f, params, data, num_matvecs=hvps) if peer == "matfree" else setup(f, params, data)
            out = call()  # untimed: compiles what the peer compiles once
        except ImportError as err:
            print(f"   {peer} not installed ({err}); pip install -e '.[bench]'", file=sys.stderr)
            continue
        warm = _median_time(call, repeats)
        child = _first_call(peer, {"num_matvecs": hvps})
        first = None if child is None else child["seconds"]
        rows[peer] = {"warm": warm, "first": first, "hvps": out[1], "err": _relerr(out[0], ref), "vals": out[0]}
        rows[peer]["first_parts"] = child
    return {
        "params": int(theta.size), "grad_ms": grad_ms, "hvp_ms": hvp_ms, "jvp_ms": jvp_ms, "rows": rows, "ref": ref,
        "rounds": rounds,
    }  # fmt: skip


def _unflat(params, theta):
    from jaxml.curvature import _core

    return _core.unflatten(_core.layout(params), theta)


def task_bottom(repeats: int) -> dict:
    f, params, data = _problem(SIZES["top"])
    ref = _reference("bottom")
    out = {"ref": ref}
    for name, fn in (
        ("jaxml", lambda: jaxml_top(f, params, data, which="bottom", tol=1e-5)),
        ("arpack", lambda: arpack_top(f, params, data, which="SA", tol=1e-5)),
    ):
        vals, hvps = fn()
        out[name] = {"s": _median_time(fn, repeats), "hvps": hvps, "err": _relerr(vals, ref), "vals": vals}
    return out


def task_dense(repeats: int) -> dict:
    import jax
    import jax.numpy as jnp
    import scipy.linalg

    from jaxml import curvature
    from jaxml.curvature.critical import dense_spectrum

    with jax.enable_x64(True):
        f, params, data = _problem(SIZES["dense"], "float64")
        closed = lambda p: f(p, data)  # noqa: E731
        op, theta, product = _operator(f, params, data)
        p = int(theta.size)
        e = jnp.zeros(p).at[0].set(1.0)
        jax.block_until_ready(product(op, e))
        one = _median_time(lambda: jax.block_until_ready(product(op, e)), 20 * repeats)
        t = time.perf_counter()
        h = jax.block_until_ready(curvature.hessian(closed, params))
        first = time.perf_counter() - t
        warm = _median_time(lambda: jax.block_until_ready(curvature.hessian(closed, params)), repeats)
        hn = np.asarray(h)
        spectra = {
            "jaxml dense_spectrum (values + λ_min vector; classify_critical_point)": lambda: dense_spectrum(hn),
            "scipy eigh(driver='evd', values only) = LAPACK syevd": lambda: scipy.linalg.eigh(
                hn, eigvals_only=True, driver="evd"
            ),
            "numpy.linalg.eigvalsh": lambda: np.linalg.eigvalsh(hn),
            "jnp.linalg.eigvalsh": lambda: jax.block_until_ready(jnp.linalg.eigvalsh(h)),
            "jnp.linalg.eigh (with vectors; classify_critical_point before)": lambda: jax.block_until_ready(
                jnp.linalg.eigh(h)
            ),
        }
        fn0 = next(iter(spectra.values()))
        fn0()  # untimed: LAPACK's first call in a process also starts its thread pool
        # ≥ 9 s a call, so few calls: two rounds over the methods, the second in reverse order, and each method's
        # faster call (a slow spell then hits one call of a method, not its time).
        times: dict[str, float] = {}
        for names in (list(spectra), list(spectra)[::-1]):
            for name in names:
                t = _median_time(spectra[name], 1)
                times[name] = min(times.get(name, t), t)
        times = {name: times[name] for name in spectra}
    return {"params": p, "one_hvp_s": one, "hessian_first_s": first, "hessian_s": warm, "spectrum_s": times}


def task_large() -> dict:
    """Run in a fresh process so that its peak RSS measures this task alone."""
    import jax

    from jaxml import curvature

    f, params, data = _problem(SIZES["large"])
    p = curvature.num_params(params)
    jax.block_until_ready(jax.grad(f)(params, data))
    rss0 = _peak_rss_mb()
    t = time.perf_counter()
    top = curvature.eigenpairs(f, params, 5, data=data, key=1, tol=1e-3, max_steps=200)
    seconds = time.perf_counter() - t
    return {
        "params": p,
        "seconds": seconds,
        "hvps": top.num_hvps,
        "top5": np.asarray(top.eigenvalues).tolist(),
        "converged": top.converged,
        "peak_rss_increase_mb": _peak_rss_mb() - rss0,
        "basis_bound_mb": (2 * 5 + 20) * p * 4 / 2**20,
        "params_mb": p * 4 / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.curvature", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 10M-parameter model")
    parser.add_argument("--tasks", default="top,bottom,dense,large", help="comma-separated tasks")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers for task top")
    parser.add_argument("--first-call", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--extra", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--large-only", action="store_true", help="only the 10M-parameter task, as JSON")
    args = parser.parse_args(argv)
    if args.first_call:
        return _first_call_child(args.first_call, json.loads(args.extra))
    if args.large_only:
        print(json.dumps(task_large()))
        return 0
    # No persistent compilation cache here: the first calls measured must compile.
    repeats = 2 if args.quick else 3
    tasks = args.tasks.split(",")

    if "top" in tasks:
        r = task_top(repeats, ["jaxml", *(p for p in args.peers.split(",") if p != "jaxml")])
        rows = r["rows"]
        floor = rows["jaxml"]["hvps"] * r["hvp_ms"] / 1e3
        print(f"\n1. Top-5 eigenvalues, MLP 64-256-256-10 ({r['params']:,} parameters), 1,797 digits, float32, CPU")
        print(f"   reference (float64, residual ≤ 1e-10‖H‖, = ARPACK): {np.array2string(r['ref'], precision=6)}")
        print(
            f"   gradient {r['grad_ms']:.1f} ms; H·v {r['hvp_ms']:.1f} ms (VJP of the gradient, "
            f"{r['hvp_ms'] / r['grad_ms']:.2f}× gradient; JVP of the gradient {r['jvp_ms']:.1f} ms)"
        )
        print(f"   floor = {rows['jaxml']['hvps']} H·v × {r['hvp_ms']:.1f} ms = {floor:.3f} s\n")
        print(
            "| method | first call (s) | warm (s) | H·v | warm / floor | warm / jaxml warm | first / jaxml first "
            "| max rel. error |"
        )
        print("|---|---|---|---|---|---|---|---|")
        jw, jf = rows["jaxml"]["warm"], rows["jaxml"]["first"]
        for name, row in rows.items():
            first = "—" if row["first"] is None else f"{row['first']:.2f}"
            ratio_first = "—" if row["first"] is None or jf is None else f"{row['first'] / jf:.2f}"
            hv = "—" if row["hvps"] is None else str(row["hvps"])
            print(
                f"| {name} | {first} | {row['warm']:.3f} | {hv} | {row['warm'] / floor:.2f} | "
                f"{row['warm'] / jw:.2f} | {ratio_first} | {row['err']:.1e} |"
            )
        ratios = np.array([w / fl for w, fl in r["rounds"]])
        print(
            f"\n   jaxml warm / floor in {ratios.size} alternating rounds (a warm call, then {rows['jaxml']['hvps']} "
            f"back-to-back H·v): median {np.median(ratios):.3f}, range {ratios.min():.3f}–{ratios.max():.3f}; "
            f"warm calls {np.median([w for w, _ in r['rounds']]):.3f} s, floors "
            f"{np.median([fl for _, fl in r['rounds']]):.3f} s (medians)"
        )
        if jf is not None:
            parts = rows["jaxml"]["first_parts"]
            print(
                f"\n   jaxml first call / jaxml warm: {jf / jw:.2f}; first minus warm {jf - jw:.2f} s. Inside the "
                f"first call: XLA compiling {parts['compile']:.2f} s, tracing and lowering {parts['trace_lower']:.2f} s"
            )
    if "bottom" in tasks:
        r = task_bottom(repeats)
        print("\n2. The 5 most negative eigenvalues, same model, float32 (tol 1e-5), against float64 ARPACK 'SA'")
        print(f"   reference: {np.array2string(r['ref'], precision=6)}\n")
        print("| method | s | H·v | max rel. error |")
        print("|---|---|---|---|")
        for name in ("jaxml", "arpack"):
            print(f"| {name} | {r[name]['s']:.2f} | {r[name]['hvps']} | {r[name]['err']:.1e} |")
    if "dense" in tasks:
        r = task_dense(repeats)
        p = r["params"]
        products = p * r["one_hvp_s"]
        print(f"\n3. Dense Hessian, MLP 64-48-48-10 ({p:,} parameters), all digits, float64\n")
        print("| step | s | ratio |")
        print("|---|---|---|")
        print(f"| P single H·v products (P × {1e3 * r['one_hvp_s']:.2f} ms) | {products:.2f} | 1 |")
        print(
            f"| curvature.hessian (vmapped chunks of 256 products, the default), warm | {r['hessian_s']:.2f} | "
            f"{r['hessian_s'] / products:.2f} × P products |"
        )
        print(f"| curvature.hessian, first call | {r['hessian_first_s']:.2f} | |")
        syevd = r["spectrum_s"]["scipy eigh(driver='evd', values only) = LAPACK syevd"]
        best = min(r["spectrum_s"].values())
        for name, s in r["spectrum_s"].items():
            print(f"| full spectrum: {name} | {s:.2f} | {s / syevd:.2f} × syevd, {s / best:.2f} × fastest |")
    if "large" in tasks and not args.quick:
        cmd = [sys.executable, "-m", "benchmarks.curvature", "--large-only"]
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(f"\n4. Top-5, MLP 64-3200-3100-10 ({r['params']:,} parameters), all digits, float32, fresh process\n")
        print(
            f"   {r['seconds']:.1f} s, {r['hvps']} H·v, converged {r['converged']}; top-5 "
            f"{np.array2string(np.asarray(r['top5']), precision=5)}"
        )
        print(
            f"   peak RSS increase over a gradient evaluation: {r['peak_rss_increase_mb']:.0f} MiB; "
            f"basis bound (2k+20)·P·4 B = {r['basis_bound_mb']:.0f} MiB; one copy of θ = {r['params_mb']:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
