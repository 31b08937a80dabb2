"""Data parallelism over a device mesh: 4 forced CPU devices give the one-device numbers.

Two child processes run side by side (JAX fixes the device count at start-up): one with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` trains and measures curvature on meshes, the other, with
one device, computes the same quantities without a mesh. The oracles: the one-device run (float64, so
reassociating the gradient sum across devices moves results by ~1e-15), the dense Hessian and numpy's
``eigvalsh`` for the curvature, and the compiled HLO itself for what crosses devices.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh

from jaxml import curvature, losses, models, train
from jaxml.curvature import _core

N, D, CLASSES, HIDDEN, BATCH = 96, 5, 3, 16, 16
ATOL = 1e-10  # float64: device count only reorders sums


def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D))
    y = np.argmax(x[:, :CLASSES] + 0.3 * rng.normal(size=(N, CLASSES)), axis=1).astype(np.int32)
    model = models.mlp(D, [HIDDEN], CLASSES, activation=jnp.tanh)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy)
    accuracy = lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1])
    return model, objective, accuracy, (x, y)


def fit_case(mesh=None):
    model, objective, accuracy, (x, y) = problem()
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(0)),
        optax.adam(0.01),
        (x, y),
        key=3,
        epochs=5,
        batch_size=BATCH,
        val_data=(x[:20], y[:20]),
        metrics={"accuracy": accuracy},
        mesh=mesh,
    )


def full_batch_case(mesh=None):
    model, objective, _, data = problem()
    return train.fit(objective, model.init(jax.random.PRNGKey(1)), optax.sgd(0.5), data, key=0, epochs=4, mesh=mesh)


def sweep_case(mesh=None):
    model, objective, _, data = problem()
    keys = jax.random.split(jax.random.PRNGKey(2), 4)
    return train.fit_sweep(
        objective,
        jax.vmap(model.init)(keys),
        optax.adam,
        data,
        keys=keys,
        epochs=4,
        batch_size=BATCH,
        learning_rates=jnp.array([0.001, 0.01, 0.03, 0.1]),
        val_data=data,
        mesh=mesh,
    )


def curvature_point():
    model, objective, _, data = problem()
    params = model.init(jax.random.PRNGKey(5))
    v = jax.tree_util.tree_map(lambda a: jnp.cos(jnp.arange(a.size, dtype=a.dtype)).reshape(a.shape), params)
    return objective, params, v, data


def curvature_case(data):
    """HVP, Lanczos, SLQ and Hutchinson on ``data`` (sharded or not), as the objective's closure and as data=."""
    objective, params, v, _ = curvature_point()
    # The objective closes over the batch; jit makes the batch an argument, so it keeps its sharding.
    closure_hvp = jax.jit(lambda p, u, batch: curvature.hvp(lambda q: objective(q, batch), p, u))
    flat = lambda tree: np.asarray(ravel_pytree(tree)[0])
    rho = curvature.spectral_density(objective, params, key=jax.random.key(1), num_vectors=2, num_steps=12, data=data)
    trace = curvature.hutchinson_trace(objective, params, key=jax.random.key(2), max_samples=20, data=data)
    top_data = curvature.top_eigenvalues(objective, params, 3, key=jax.random.key(0), data=data)
    # The H·v operator's saved residuals: passed as data=, a sharded batch keeps them split over the mesh.
    op, _, _ = _core.operator(objective, params, data=data)
    specs = sorted({str(getattr(leaf.sharding, "spec", None)) for leaf in jax.tree_util.tree_leaves(op)})
    return {
        "hvp_closure": flat(closure_hvp(params, v, data)),
        "hvp_data": flat(curvature.hvp(objective, params, v, data=data)),
        "hvp_batched": flat(curvature.hvp(objective, params, v, data=data, batch_size=24)),
        "top_data": np.asarray(top_data),
        "slq_nodes": rho.nodes,
        "slq_weights": rho.weights,
        "trace_samples": trace.samples,
        "top_data_sharding": specs,
    }


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])


CHILD = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    sys.path.insert(0, sys.argv[2])
    import test_sharding as t

    devices = int(sys.argv[3])
    out, info = {}, {}
    with jax.enable_x64(True):
        assert jax.device_count() == devices, jax.devices()
        meshed = devices > 1
        data_mesh = jax.make_mesh((4,), ("data",)) if meshed else None  # Explicit axes: fit must cope
        grid = Mesh(np.array(jax.devices()).reshape(2, 2), ("sweep", "data")) if meshed else None
        res = t.fit_case(data_mesh)
        out["fit_params"] = t._flat(res.params)
        out.update({f"fit_{k}": v for k, v in res.history.items()})
        out["full_params"] = t._flat(t.full_batch_case(data_mesh).params)
        sweep = t.sweep_case(grid)
        out["sweep_params"] = t._flat(sweep.params)
        out.update({f"sweep_{k}": v for k, v in sweep.history.items()})
        info["sweep_spec"] = list(getattr(jax.tree_util.tree_leaves(sweep.params)[0].sharding, "spec", []))
        info["fit_spec"] = list(getattr(jax.tree_util.tree_leaves(res.params)[0].sharding, "spec", []))

        _, _, _, data = t.problem()
        if meshed:
            # Auto axes: under make_mesh's default Explicit axes, jnp ops on sharded operands must name their
            # output sharding, which the curvature code (like most code) does not.
            auto = Mesh(np.array(jax.devices()), ("data",))
            data = tuple(jax.device_put(a, NamedSharding(auto, P("data"))) for a in data)
        curv = t.curvature_case(data)
        info["top_data_sharding"] = curv.pop("top_data_sharding")
        out.update({f"curv_{k}": v for k, v in curv.items()})

        model, objective, _, (x, y) = t.problem()
        params = model.init(jax.random.PRNGKey(0))
        keys = jax.random.split(jax.random.PRNGKey(0), 3)
        sgd = t.optax.sgd(0.1)
        cases = {
            "batch": lambda: t.train.fit(objective, params, sgd, (x, y), key=0, epochs=1, batch_size=10,
                                         mesh=data_mesh),
            "full_batch": lambda: t.train.fit(objective, params, sgd, (x[:90], y[:90]), key=0, epochs=1,
                                              mesh=data_mesh),
            "runs": lambda: t.train.fit_sweep(objective, jax.vmap(model.init)(keys), sgd, (x, y), keys=keys,
                                              epochs=1, batch_size=16, mesh=grid),
            "fit_axes": lambda: t.train.fit(objective, params, sgd, (x, y), key=0, epochs=1, batch_size=16,
                                            mesh=grid),
        }
        for name, call in cases.items() if meshed else ():
            try:
                call()
                info[name] = "no error"
            except Exception as err:
                info[name] = f"{type(err).__name__}: {err}"
    np.savez(sys.argv[1] + "/result.npz", **out)
    with open(sys.argv[1] + "/info.json", "w") as f:
        json.dump(info, f)
""")


def _start(work: Path, devices: int) -> tuple[subprocess.Popen, object]:
    work.mkdir()
    flags = "--xla_backend_optimization_level=0"  # these programs are tiny: compile fast, run slow
    if devices > 1:
        flags += f" --xla_force_host_platform_device_count={devices} --xla_dump_hlo_as_text"
        flags += f" --xla_dump_to={work / 'hlo'} --xla_dump_hlo_module_re=jit_run"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": flags}
    log = open(work / "log.txt", "w+")  # noqa: SIM115 - closed by the fixture
    args = [sys.executable, "-c", CHILD, str(work), os.path.dirname(__file__), str(devices)]
    return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT), log


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    """(4-device arrays, their info, HLO dump folder, 1-device arrays): two children run side by side."""
    work = tmp_path_factory.mktemp("sharding")
    runs = {devices: _start(work / f"devices_{devices}", devices) for devices in (4, 1)}
    deadline = time.monotonic() + 240
    try:
        for proc, _ in runs.values():
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc, log in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.seek(0)
            output = log.read()
            log.close()
            assert proc.returncode == 0, output[-4000:]
    loaded = {}
    for devices in runs:
        with np.load(work / f"devices_{devices}" / "result.npz") as f:
            loaded[devices] = dict(f)
    info = json.loads((work / "devices_4" / "info.json").read_text())
    return loaded[4], info, work / "devices_4" / "hlo", loaded[1]


def _assert_same(four: dict, one: dict, prefix: str, **tol) -> None:
    names = sorted(k for k in one if k.startswith(prefix))
    assert names and names == sorted(k for k in four if k.startswith(prefix))
    for name in names:
        np.testing.assert_allclose(four[name], one[name], err_msg=name, **tol)


def test_data_parallel_fit_on_4_devices_equals_one_device(child):
    four, info, _, one = child
    _assert_same(four, one, "fit_", rtol=0, atol=ATOL)  # params and every history entry
    _assert_same(four, one, "full_", rtol=0, atol=ATOL)  # full batch: N split over the 4 devices
    assert info["fit_spec"] == []  # θ replicated


def test_sweep_over_sweep_and_data_axes_equals_one_device(child):
    four, info, _, one = child
    _assert_same(four, one, "sweep_", rtol=0, atol=ATOL)
    assert info["sweep_spec"] == ["sweep"]  # runs spread over the sweep axis


def _collectives(text: str) -> list[tuple[str, int]]:
    """(op, number of elements it outputs) for every cross-device collective in an HLO module."""
    found = []
    for line in text.splitlines():
        m = re.search(
            r"=\s*(.*?)\s(all-reduce|all-gather|all-to-all|collective-permute|reduce-scatter)(-start)?\(", line
        )
        if m:
            sizes = [int(np.prod([int(d) for d in dims.split(",") if d])) for dims in re.findall(r"\[([\d,]*)\]", m[1])]
            found.append((m[2], sum(sizes)))
    return found


def test_compiled_step_all_reduces_the_gradient_and_never_gathers_the_data(child):
    _, _, dump, _ = child
    modules = [p.read_text() for p in sorted(Path(dump).glob("*jit_run*after_optimizations.txt"))]
    partitioned = [m for m in modules if "num_partitions=4" in m]
    assert len(partitioned) == 3, "expected the fit, full-batch and sweep runners compiled for 4 devices"
    _, objective, _, (x, _) = problem()
    num_params = _flat(models.mlp(D, [HIDDEN], CLASSES).init(jax.random.PRNGKey(0))).size
    for text in partitioned:
        ops = _collectives(text)
        assert {op for op, _ in ops} == {"all-reduce"}, ops  # no all-gather / all-to-all of anything
        assert sum(n for _, n in ops) >= num_params  # the gradient crosses devices...
        assert max(n for _, n in ops) < x.size  # ...the data set never does


def test_curvature_with_data_sharded_over_the_mesh_equals_one_device(child, x64):
    four, info, _, one = child
    _assert_same(four, one, "curv_", rtol=1e-9, atol=1e-10)  # HVPs, Lanczos, SLQ nodes/weights, z^T H z
    # Independent oracle: the dense Hessian of the same objective.
    objective, params, v, data = curvature_point()
    h = np.asarray(curvature.hessian(lambda p: objective(p, data), params))
    for name in ("curv_hvp_closure", "curv_hvp_data", "curv_hvp_batched"):
        np.testing.assert_allclose(four[name], h @ _flat(v), rtol=1e-9, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(four["curv_top_data"], np.linalg.eigvalsh(h)[::-1][:3], rtol=1e-6)
    nodes, weights = four["curv_slq_nodes"], four["curv_slq_weights"]  # SLQ: E[vᵀHv]/P = tr(H)/P per vector
    np.testing.assert_allclose(np.sum(weights, axis=1), 1.0, rtol=1e-9)
    assert np.all(nodes[weights > 0] <= np.linalg.eigvalsh(h)[-1] + 1e-9)
    samples = four["curv_trace_samples"]  # unbiased: within 4 standard errors of tr(H)
    assert abs(samples.mean() - np.trace(h)) <= 4 * samples.std(ddof=1) / np.sqrt(samples.size)
    # Passed as data=, the sharded batch is an argument of the compiled programs: the products run on the mesh,
    # with the per-example residuals split over "data".
    assert "P('data',)" in info["top_data_sharding"]


def test_indivisible_sizes_are_refused_naming_the_axis(child):
    _, info, _, _ = child
    assert re.match(r"ValueError: batch_size \(10\) .*'data' \(4\)", info["batch"]), info["batch"]
    assert re.match(r"ValueError: the full batch .*\(90\) .*'data' \(4\)", info["full_batch"]), info["full_batch"]
    assert re.match(r"ValueError: the number of runs N .*\(3\) .*'sweep' \(2\)", info["runs"]), info["runs"]
    assert info["fit_axes"].startswith("ValueError: mesh for fit must have axes among ('data',)")


def test_one_device_mesh_and_bad_meshes_in_process():
    x = np.linspace(-1, 1, 32)[:, None]
    model = models.linear(1)
    objective, data, params = train.supervised(model.apply, losses.mse), (x, 2 * x[:, 0]), model.init(0)
    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    plain = train.fit(objective, params, optax.sgd(0.1), data, key=0, epochs=3, batch_size=8)
    meshed = train.fit(objective, params, optax.sgd(0.1), data, key=0, epochs=3, batch_size=8, mesh=mesh)
    np.testing.assert_allclose(_flat(meshed.params), _flat(plain.params), rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError, match="mesh must be a jax.sharding.Mesh"):
        train.fit(objective, params, optax.sgd(0.1), data, key=0, epochs=1, mesh="data")
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    with pytest.raises(ValueError, match="mesh for fit_sweep must have axes among"):
        bad = Mesh(np.array(jax.devices()[:1]), ("batch",))
        train.fit_sweep(objective, jax.vmap(model.init)(keys), optax.sgd(0.1), data, keys=keys, epochs=1, mesh=bad)
