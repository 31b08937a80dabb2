"""Checkpoints that know their run: resume refuses any other run and damaged files, and survives SIGTERM.

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

from jaxml import checkpoint, io, losses, models, optim, train
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


def run(directory, *, hidden=4, optimizer=None, shift=0.0, key=1, epochs=EPOCHS, batch_size=BATCH, init=0, **kw):
    model, objective, data = problem(hidden, shift)
    objective = kw.pop("objective", objective)
    optimizer = SGD if optimizer is None else optimizer
    return train.fit(
        objective,
        model.init(jax.random.PRNGKey(init)),
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
        ({"init": 1}, "params_content"),  # the same architecture from another init seed
        ({"optimizer": optax.adam(0.1)}, "opt_state"),
        ({"optimizer": optax.sgd(0.2)}, "step_program"),  # the finished run called again with another η
        ({"optimizer": optax.sgd(0.1, momentum=0.9)}, "opt_state"),
        ({"shift": 1.0}, "data_content"),  # same length and shapes, other values
        ({"key": 2}, "key"),
        ({"batch_size": 4}, "batch_size"),
        ({"objective": train.supervised(models.mlp(D, [4], activation=jnp.tanh).apply, losses.mse, l2=0.1)}, "step"),
        ({"metrics": {"mae": lambda p, b: jnp.mean(jnp.abs(b[1]))}}, "history"),
        ({"val_data": (jnp.ones((4, D)), jnp.ones(4))}, "val_data"),
    ],
    ids=["shape", "init", "optimizer", "learning_rate", "momentum", "data", "key", "batch", "loss", "metric", "val"],
)
def test_a_finished_run_is_returned_only_to_the_same_run(finished, change, field):
    directory, _ = finished
    with pytest.raises(ValueError, match="different run") as info:
        run(directory, **change)
    message = str(info.value)
    assert str(directory / str(EPOCHS)) in message  # the step folder
    assert f"\n  {field}" in message, message
    assert "delete the folder" in message


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


def _files(directory: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(directory)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != io.LOCK_FILE}  # fmt: skip


def test_the_same_run_gets_its_finished_result_bit_for_bit(finished):
    directory, result = finished
    before = _files(directory)
    again = run(directory)
    np.testing.assert_array_equal(_flat(again.params), _flat(result.params))
    np.testing.assert_array_equal(again.history["train_loss"], result.history["train_loss"])
    assert _files(directory) == before  # nothing ran, nothing rewritten


def test_a_longer_run_extends_a_checkpoint_and_equals_the_longer_run(tmp_path):
    run(tmp_path, epochs=3)
    extended = run(tmp_path, epochs=9)  # 3 -> 9 epochs: another history bucket (4 -> 16 entries) too
    reference = run(tmp_path / "ref", epochs=9)
    np.testing.assert_array_equal(_flat(extended.params), _flat(reference.params))
    np.testing.assert_array_equal(extended.history["train_loss"], reference.history["train_loss"])
    with pytest.raises(ValueError, match="beyond epochs=5") as info:
        run(tmp_path, epochs=5)  # a checkpoint at epoch 9 cannot give a 5-epoch run
    assert str(tmp_path / "9") in str(info.value)


def test_load_params_needs_no_trainer_and_keeps_n(tmp_path):
    result = run(tmp_path, epochs=5, checkpoint_keep=2)
    assert checkpoint.steps(tmp_path) == [4, 5]
    model, _, _ = problem()
    exact = checkpoint.load_params(tmp_path, template=model.init(0))
    assert jax.tree_util.tree_structure(exact) == jax.tree_util.tree_structure(result.params)
    np.testing.assert_array_equal(_flat(exact), _flat(result.params))
    bare = checkpoint.load_params(tmp_path)  # no template: orbax's lists and dicts, the same numbers
    assert isinstance(bare, list) and set(bare[0]) == {"w", "b"}
    np.testing.assert_array_equal(_flat(bare), _flat(result.params))
    # Step 4 is θ after 4 epochs: what a 4-epoch run returns.
    four = run(tmp_path / "r4", epochs=4).params
    np.testing.assert_array_equal(_flat(checkpoint.load_params(tmp_path, 4)), _flat(four))
    with pytest.raises(FileNotFoundError, match="step 1"):
        checkpoint.load_params(tmp_path, 1)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoint.load_params(tmp_path / "nothing")


def test_checkpoint_best_keeps_the_best_by_a_history_entry(tmp_path):
    # The oracle: the two epochs with the largest recorded value of the entry, plus the latest (for resuming).
    metric = {"size": lambda p, b: jnp.sum(jnp.abs(p[0]["w"]))}
    result = run(tmp_path, epochs=6, metrics=metric, checkpoint_keep=2, checkpoint_best=("train_size", "max"))
    best_two = np.argsort(result.history["train_size"])[-2:] + 1
    assert checkpoint.steps(tmp_path) == sorted({*best_two.tolist(), 6})
    with pytest.raises(ValueError, match="not recorded"):
        run(tmp_path / "x", checkpoint_best="val_loss")


def test_a_second_writer_is_refused_and_the_first_loses_nothing(tmp_path):
    with io.exclusive(tmp_path, "checkpoint_dir"), pytest.raises(io.DirectoryInUse, match="another writer"):
        run(tmp_path)  # another run holds the folder
    assert checkpoint.steps(tmp_path) == []
    run(tmp_path)  # once free, it runs
    assert checkpoint.steps(tmp_path) == [EPOCHS]


@pytest.mark.parametrize("kind", ["file", "read_only"])
def test_an_unwritable_checkpoint_dir_fails_before_training(tmp_path, kind):
    if kind == "read_only" and os.geteuid() == 0:
        pytest.skip("root writes to read-only folders")
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("not a folder")
    else:
        target.mkdir()
        target.chmod(0o500)
    ran = []
    with pytest.raises(ValueError, match="checkpoint_dir .* cannot be written"):
        run(target, callback=lambda e, s: ran.append(e))
    assert ran == []  # no epoch ran


def test_an_interrupted_run_resumed_with_another_learning_rate_is_refused(tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first(epoch, state):
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        run(tmp_path, callback=stop_after_first)
    assert checkpoint.steps(tmp_path) == [1]
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


def _data_files(step: Path, item: str) -> list[Path]:
    return sorted(p for p in (step / item).rglob("*") if p.is_file() and p.parent.name == "d")


def _corrupt(directory: Path, how: str) -> None:
    step = directory / "1"
    if how == "bitflip":  # one bit of θ's stored bytes
        for path in _data_files(step, "params"):
            raw = bytearray(path.read_bytes())
            raw[len(raw) // 2] ^= 0x01
            path.write_bytes(bytes(raw))
    elif how == "truncated":
        for path in _data_files(step, "state"):
            path.write_bytes(path.read_bytes()[:7])
    elif how == "garbage_run":
        for path in (step / "run").iterdir():
            if path.suffix == "" and path.is_file() and path.name != "commit_success.txt":
                path.write_bytes(bytes(range(256)))
    elif how == "foreign_run":  # valid JSON, not ours
        for path in (step / "run").iterdir():
            if path.is_file() and path.name not in ("commit_success.txt",):
                path.write_text('{"meta": 1}')
    elif how == "swapped":  # readable arrays of the right shapes, other values: only the checksum can tell
        import shutil

        other = directory.parent / f"{directory.name}_other"
        run(other, epochs=1, init=7)
        shutil.rmtree(step / "params")
        shutil.copytree(other / "1" / "params", step / "params")
    elif how == "legacy":  # jaxml's older single-file format
        (directory / checkpoint.LEGACY_FILE).write_bytes(b"\x80")


@pytest.mark.parametrize("how", ["bitflip", "swapped", "truncated", "garbage_run", "foreign_run", "legacy"])
def test_a_damaged_or_foreign_checkpoint_is_named_with_a_way_out(tmp_path, how):
    run(tmp_path, epochs=1)
    _corrupt(tmp_path, how)
    with pytest.raises(ValueError, match="cannot be resumed") as info:
        run(tmp_path, epochs=1)
    message = str(info.value)
    assert str(tmp_path) in message and "delete the folder" in message
    assert "Traceback" not in message


def test_a_flipped_bit_is_caught_by_load_params_too(tmp_path):
    run(tmp_path, epochs=1)
    _corrupt(tmp_path, "bitflip")
    with pytest.raises(ValueError, match="checksum|cannot be read"):
        checkpoint.load_params(tmp_path)


def test_fingerprint_fields_are_documented_and_text():
    model, objective, data = problem()
    params = model.init(jax.random.PRNGKey(0))
    opt = optax.adam(0.1)
    step = lambda p, b: jax.grad(objective)(p, b)
    fp = checkpoint.run_fingerprint(
        step=step, step_args=(params, data), measure=None, measure_args=(), optimizer=opt, params=params,
        model_state=None, opt_state=opt.init(params), data=data, val_data=None, key=jax.random.PRNGKey(0),
        batch_size=BATCH, history=["train_loss"],
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
        if sys.argv[4] == "bytes" and calls[0] == int(sys.argv[3]):
            print("writing", flush=True)
            time.sleep(60)
        real_fsync(fd)
    os.fsync = slow_fsync
    real_rename, renames = os.rename, [0]
    def slow_rename(a, b):  # orbax commits a step folder by renaming its temporary folder
        if sys.argv[4] == "fit" and os.path.basename(str(b)).isdigit():  # a whole step folder
            renames[0] += 1
            if renames[0] == int(sys.argv[3]):
                print("writing", flush=True)
                time.sleep(60)
        return real_rename(a, b)
    os.rename = slow_rename
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
        assert any(p.name.endswith(("tmp", ".tmp")) for p in directory.iterdir()), "the write must be under way"
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
    assert checkpoint.steps(tmp_path) == [1]  # the torn step 2 is a temporary folder, not a checkpoint
    resumed = run(tmp_path, epochs=4)
    assert not [p for p in tmp_path.iterdir() if "tmp" in p.name]  # and it is cleaned up
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
