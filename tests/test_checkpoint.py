"""Checkpoints that know their run: resume refuses any other run, corrupt files, and survives SIGTERM.

The oracle for "refused" is the fingerprint field that was changed on purpose: each case changes exactly one
thing against a finished base run and the ValueError must name the file and that field. The positive control
is an uninterrupted run: resuming the same run returns it bit for bit.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import serialization

from jaxml import checkpoint, losses, models, optim, train
from jaxml.io import atomic_write_bytes

N, D, EPOCHS, BATCH = 32, 3, 3, 8
SGD = optax.sgd(0.1)  # one object: the trainer's compiled runner is cached by optimizer identity
TESTS = os.path.dirname(os.path.abspath(__file__))


@functools.cache  # the same objective object each time: the compiled runner is reused
def problem(hidden: int = 4, shift: float = 0.0):
    x = jax.random.normal(jax.random.PRNGKey(0), (N, D))
    y = x @ jnp.array([1.0, -2.0, 0.5]) + shift * jnp.arange(N) / N
    model = models.mlp(D, [hidden], activation=jnp.tanh)
    return model, train.supervised(model.apply, losses.mse), (x, y)


def run(directory, *, hidden=4, optimizer=None, shift=0.0, key=1, epochs=EPOCHS, batch_size=BATCH, **kw):
    model, objective, data = problem(hidden, shift)
    objective = kw.pop("objective", objective)
    optimizer = SGD if optimizer is None else optimizer
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(0)),
        optimizer,
        data,
        key=key,
        epochs=epochs,
        batch_size=batch_size,
        checkpoint_dir=directory,
        checkpoint_every=1,
        **kw,
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished base run's checkpoint directory and its result."""
    directory = tmp_path_factory.mktemp("base")
    return directory, run(directory)


def _flat(tree):
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"hidden": 8}, "params"),  # mlp(3, [4]) -> mlp(3, [8])
        ({"optimizer": optax.adam(0.1)}, "opt_state"),
        ({"optimizer": optax.sgd(0.2)}, "step_program"),  # the finished run called again with another η
        ({"optimizer": optax.sgd(0.1, momentum=0.9)}, "opt_state"),
        ({"shift": 1.0}, "data_content"),  # same length and shapes, other values
        ({"key": 2}, "key"),
        ({"epochs": EPOCHS + 2}, "epochs"),
        ({"batch_size": 4}, "batch_size"),
        ({"objective": train.supervised(models.mlp(D, [4], activation=jnp.tanh).apply, losses.mse, l2=0.1)}, "step"),
        ({"metrics": {"mae": lambda p, b: jnp.mean(jnp.abs(b[1]))}}, "history"),
        ({"val_data": (jnp.ones((4, D)), jnp.ones(4))}, "val_data"),
    ],
    ids=["shape", "optimizer", "learning_rate", "momentum", "data", "key", "epochs", "batch", "loss", "metric", "val"],
)
def test_a_finished_run_is_returned_only_to_the_same_run(finished, change, field):
    directory, _ = finished
    with pytest.raises(ValueError, match="different run") as info:
        run(directory, **change)
    message = str(info.value)
    assert str(directory / train.CHECKPOINT_FILE) in message
    assert f"\n  {field}" in message, message
    assert "delete the file" in message


def test_another_tree_is_refused_not_a_key_error(finished):
    directory, _ = finished
    model = models.linear(D)
    _, objective, data = problem()
    objective = train.supervised(model.apply, losses.mse)
    with pytest.raises(ValueError, match="different run") as info:
        train.fit(
            objective, model.init(jax.random.PRNGKey(0)), optax.sgd(0.1), data, key=1, epochs=EPOCHS,
            batch_size=BATCH, checkpoint_dir=directory,
        )  # fmt: skip
    assert str(directory) in str(info.value) and "\n  params" in str(info.value)


def test_the_same_run_gets_its_finished_result_bit_for_bit(finished):
    directory, result = finished
    before = (directory / train.CHECKPOINT_FILE).read_bytes()
    again = run(directory)
    np.testing.assert_array_equal(_flat(again.params), _flat(result.params))
    np.testing.assert_array_equal(again.history["train_loss"], result.history["train_loss"])
    assert (directory / train.CHECKPOINT_FILE).read_bytes() == before  # nothing ran, nothing rewritten


def test_an_interrupted_run_resumed_with_another_learning_rate_is_refused(tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first(epoch, state):
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        run(tmp_path, callback=stop_after_first)
    with pytest.raises(ValueError, match="step_program"):
        run(tmp_path, optimizer=optax.sgd(0.05))
    with pytest.raises(ValueError, match=r"\n  key"):
        run(tmp_path, key=jax.random.PRNGKey(5))
    # The right arguments resume it, and end where an uninterrupted run ends.
    np.testing.assert_array_equal(_flat(run(tmp_path).params), _flat(run(tmp_path / "ref").params))


def test_a_jaxml_optimizer_resumed_with_another_hyper_parameter_is_refused_by_value(tmp_path):
    """η and β of a jaxml optimizer are arguments of the trainer's program, not constants of it; the fingerprint
    still records them, by value, and resuming with another η or β is refused naming both values."""
    run(tmp_path, optimizer=optim.momentum(0.05, 0.9))
    for other, saved, now in [
        (optim.momentum(0.02, 0.9), "0.05, 0.9", "0.02, 0.9"),
        (optim.momentum(0.05, 0.5), "0.05, 0.9", "0.05, 0.5"),
    ]:
        with pytest.raises(ValueError, match="different run") as info:
            run(tmp_path, optimizer=other)
        line = next(t for t in str(info.value).splitlines() if t.strip().startswith("hyper_parameters"))
        assert f"saved {saved}" in line and f"now {now}" in line, line
    run(tmp_path, optimizer=optim.momentum(0.05, 0.9))  # the same numbers in a new object: the same run


def _corrupt(directory: Path, how: str) -> None:
    path = directory / train.CHECKPOINT_FILE
    good = path.read_bytes()
    if how == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "foreign":  # valid msgpack, not ours: the pre-fingerprint format of this trainer
        path.write_bytes(serialization.msgpack_serialize({"meta": "{}", "state": {"0": np.zeros(2)}}))
    elif how == "wrong_state":  # our header and this run's fingerprint, another state inside
        payload = serialization.msgpack_restore(good)
        payload["state"] = {"params": {"0": np.zeros(3)}}
        path.write_bytes(serialization.msgpack_serialize(payload))


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "foreign", "wrong_state"])
def test_a_corrupt_or_foreign_file_is_named_with_a_way_out(tmp_path, how):
    run(tmp_path, epochs=1)
    _corrupt(tmp_path, how)
    with pytest.raises(ValueError, match="cannot be resumed") as info:
        run(tmp_path, epochs=1)
    message = str(info.value)
    assert str(tmp_path / train.CHECKPOINT_FILE) in message and "delete the file" in message
    assert "Unpack failed" not in message and "KeyError" not in message


def test_fingerprint_fields_are_documented_and_text():
    model, objective, data = problem()
    params = model.init(jax.random.PRNGKey(0))
    opt = optax.adam(0.1)
    fp = checkpoint.run_fingerprint(
        objective=objective, optimizer=opt, metrics={}, params=params, opt_state=opt.init(params), data=data,
        val_data=None, key=jax.random.PRNGKey(0), batch_size=BATCH, epochs=EPOCHS, history=["train_loss"],
    )  # fmt: skip
    assert set(fp) == set(checkpoint.FIELDS)
    assert all(isinstance(v, str) for v in fp.values())
    # A learning rate given as an array is a constant of the traced step: its value is in the fingerprint.
    fp_array = lambda lr: checkpoint.program_fingerprint(
        lambda p: optax.sgd(lr).update(p, optax.sgd(lr).init(p), p)[0], params
    )
    assert fp_array(jnp.array(0.1)) != fp_array(jnp.array(0.2))
    assert fp_array(jnp.array(0.1)) == fp_array(jnp.array(0.1))


# ------------------------------------------------------------------------------------------------------------
# SIGTERM during a write: no orphan temporary file, the previous file intact, the process still ends

WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, sys.argv[2])
    real_fsync, calls = os.fsync, [0]
    def slow_fsync(fd):  # the write of interest stalls after its bytes are in the temporary file
        calls[0] += 1
        if calls[0] == int(sys.argv[3]):
            print("writing", flush=True)
            time.sleep(60)
        real_fsync(fd)
    os.fsync = slow_fsync
    if sys.argv[4] == "bytes":
        from jaxml.io import atomic_write_bytes
        from pathlib import Path
        atomic_write_bytes(Path(sys.argv[1]) / "f.bin", b"old")
        atomic_write_bytes(Path(sys.argv[1]) / "f.bin", b"new" * 1000)
    else:
        import test_checkpoint as t
        t.run(sys.argv[1], epochs=4)
    print("finished", flush=True)
""")


def _terminate_during_write(directory: Path, nth_fsync: int, mode: str) -> int:
    repo = os.path.dirname(TESTS)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": os.pathsep.join([repo, TESTS])}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), repo, str(nth_fsync), mode],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert any(p.name.endswith(".tmp") for p in directory.iterdir()), "the write must be under way"
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_during_atomic_write_leaves_the_old_file_and_no_temp(tmp_path):
    code = _terminate_during_write(tmp_path, 2, "bytes")
    assert code == -signal.SIGTERM  # the process still ended by SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
    assert (tmp_path / "f.bin").read_bytes() == b"old"


def test_sigterm_during_a_checkpoint_write_keeps_the_previous_checkpoint(tmp_path):
    # The second checkpoint (after epoch 2) is being written when SIGTERM arrives: the epoch-1 one stays,
    # nothing else is left, and resuming from it ends exactly where an uninterrupted run ends.
    code = _terminate_during_write(tmp_path, 2, "fit")
    assert code == -signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == [train.CHECKPOINT_FILE]
    saved = serialization.msgpack_restore((tmp_path / train.CHECKPOINT_FILE).read_bytes())
    assert int(saved["state"]["epoch"]) == 1
    resumed = run(tmp_path, epochs=4)
    np.testing.assert_array_equal(_flat(resumed.params), _flat(run(tmp_path / "ref", epochs=4).params))


def test_a_handler_installed_by_the_program_is_left_alone(tmp_path):
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda *a: seen.append(a[0]))
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"x")
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert signal.getsignal(signal.SIGTERM) is previous
