"""Several processes: two local processes joined by jax.distributed train to one process's parameters.

The oracle is the same training in this (single) process. The children talk over 127.0.0.1 (gloo collectives
on the CPU), each holding half of the data set and two forced CPU devices, so the global mesh has four devices
in two processes. Every wait is bounded and the children are killed on failure.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh

from jaxml import distributed, losses, models, train

N, D, CLASSES = 64, 4, 3


def problem():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, D))
    y = np.argmax(x[:, :CLASSES], axis=1).astype(np.int32)
    model = models.mlp(D, [8], CLASSES, activation=jnp.tanh)
    return model, train.supervised(model.apply, losses.softmax_cross_entropy), (x, y)


def fit_case(data, mesh=None):
    model, objective, (x, y) = problem()
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(0)),
        optax.adam(0.02),
        data,
        key=4,
        epochs=4,
        batch_size=16,
        val_data=(x[:16], y[:16]),
        mesh=mesh,
    )


def sweep_case(mesh=None):
    model, objective, data = problem()
    keys = jax.random.split(jax.random.PRNGKey(3), 4)
    lrs = jnp.array([0.003, 0.01, 0.03, 0.1])
    params = jax.vmap(model.init)(keys)
    return train.fit_sweep(
        objective, params, optax.sgd, data, keys=keys, epochs=3, batch_size=16, learning_rates=lrs, mesh=mesh
    )


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])


CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from jaxml import distributed
    config = distributed.initialize(timeout_s=60)  # before anything touches the backend
    import jax, numpy as np
    import test_distributed as t

    assert config.num_processes == 2 and jax.process_count() == 2 and jax.device_count() == 4
    with jax.enable_x64(True):
        _, _, (x, y) = t.problem()
        mesh = distributed.global_mesh()  # ("data",) over the 4 devices of both processes
        rows = distributed.local_rows(mesh, len(x))  # this process loads only its half
        assert rows.stop - rows.start == len(x) // 2
        data = distributed.global_array((x[rows], y[rows]), mesh)
        assert not data[0].is_fully_addressable
        fit = t.fit_case(data, mesh)
        grid = distributed.global_mesh((2, 2), ("sweep", "data"))  # runs split across the processes
        sweep = t.sweep_case(grid)
        host = distributed.to_host({"fit": fit.params, "sweep": sweep.params})
        if jax.process_index() == 0:
            np.savez(sys.argv[1], fit=t._flat(host["fit"]), sweep=t._flat(host["sweep"]),
                     fit_loss=fit.history["train_loss"], val_loss=fit.history["val_loss"],
                     sweep_loss=sweep.history["train_loss"], rows=[rows.start, rows.stop])
""")


def test_two_processes_train_to_the_single_process_parameters(tmp_path):
    out = tmp_path / "result.npz"
    started = time.monotonic()
    # The launcher waits for the children in a thread; this process computes the reference meanwhile.
    codes: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            codes.extend(
                distributed.launch(
                    [sys.executable, "-c", CHILD, str(out), os.path.dirname(__file__)],
                    2,
                    devices_per_process=2,
                    timeout_s=150,
                    log_dir=tmp_path / "logs",
                    env={"XLA_FLAGS": "--xla_backend_optimization_level=0"},  # tiny programs: compile fast
                )
            )
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    with jax.enable_x64(True):
        _, _, data = problem()
        ref_fit, ref_sweep = fit_case(data), sweep_case()
    thread.join(timeout=170)
    logs = "\n".join(p.read_text()[-3000:] for p in sorted((tmp_path / "logs").glob("*.log")))
    assert not thread.is_alive() and not errors, (errors, logs)
    assert codes == [0, 0], logs
    assert time.monotonic() - started < 170
    with np.load(out) as got:
        assert list(got["rows"]) == [0, N // 2]  # process 0 held the first half of the examples
        np.testing.assert_allclose(got["fit"], _flat(ref_fit.params), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["fit_loss"], ref_fit.history["train_loss"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["val_loss"], ref_fit.history["val_loss"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["sweep"], _flat(ref_sweep.params), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["sweep_loss"], ref_sweep.history["train_loss"], rtol=0, atol=1e-10)


def test_config_from_env_reads_jaxml_then_jax_names():
    env = {"JAXML_COORDINATOR": "10.0.0.1:1234", "JAXML_NUM_PROCESSES": "4", "JAXML_PROCESS_ID": "3"}
    assert distributed.config_from_env(env) == distributed.DistributedConfig("10.0.0.1:1234", 4, 3)
    jax_names = {"JAX_COORDINATOR_ADDRESS": "h:1", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0"}
    assert distributed.config_from_env(jax_names) == distributed.DistributedConfig("h:1", 2, 0)
    assert distributed.config_from_env({**jax_names, "JAXML_PROCESS_ID": "1"}).process_id == 1
    assert distributed.config_from_env({}) is None


@pytest.mark.parametrize(
    "env, match",
    [
        ({"JAXML_COORDINATOR": "h:1", "JAXML_NUM_PROCESSES": "2"}, "JAXML_PROCESS_ID"),
        ({"JAXML_COORDINATOR": "h:1", "JAXML_NUM_PROCESSES": "two", "JAXML_PROCESS_ID": "0"}, "JAXML_NUM_PROCESSES"),
        ({"JAXML_COORDINATOR": "h:1", "JAXML_NUM_PROCESSES": "2", "JAXML_PROCESS_ID": "2"}, "JAXML_PROCESS_ID"),
        ({"JAXML_COORDINATOR": "h", "JAXML_NUM_PROCESSES": "2", "JAXML_PROCESS_ID": "0"}, "host:port"),
    ],
)
def test_bad_environment_is_refused_naming_the_variable(env, match):
    with pytest.raises(ValueError, match=match):
        distributed.config_from_env(env)


def test_single_process_helpers():
    assert distributed.initialize(distributed.DistributedConfig(None, 1, 0)).num_processes == 1  # a no-op
    mesh = distributed.global_mesh()
    assert isinstance(mesh, Mesh) and mesh.axis_names == ("data",) and mesh.size == jax.device_count()
    assert distributed.local_rows(mesh, 10) == slice(0, 10)
    x = np.arange(12.0).reshape(6, 2)
    (g,) = distributed.global_array((x,), mesh)
    np.testing.assert_array_equal(distributed.to_host(g), x)
    with pytest.raises(ValueError, match="multiply to the number of devices"):
        distributed.global_mesh((jax.device_count() + 1,))


def test_launch_kills_the_others_when_one_fails_and_honours_its_timeout(tmp_path):
    crash_or_wait = "import os, sys, time; sys.exit(3) if os.environ['JAXML_PROCESS_ID'] == '0' else time.sleep(60)"
    started = time.monotonic()
    codes = distributed.launch([sys.executable, "-c", crash_or_wait], 2, timeout_s=30, log_dir=tmp_path)
    assert codes[0] == 3 and codes[1] != 0  # the waiting peer was terminated...
    assert time.monotonic() - started < 20  # ...long before its 60 s sleep
    with pytest.raises(TimeoutError, match="still running"):
        distributed.launch([sys.executable, "-c", "import time; time.sleep(60)"], 2, timeout_s=1)
