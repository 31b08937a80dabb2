"""The trainer pinned to a hand-written loop: ``fit`` and ``fit_sweep`` against the documented rules.

The oracle (:func:`hand_loop`) is a plain Python loop over epochs and steps written from the module docstring
of :mod:`jaxml.train`, not from its code:

* epoch e shuffles with ``jax.random.permutation(jax.random.fold_in(key, e), N)`` (an int seed is
  ``jax.random.PRNGKey(seed)``), keeps its first ⌊N/B⌋·B indices and cuts them into ⌊N/B⌋ batches of B (the
  remainder is dropped);
* each batch: g = ∇L(θ; batch), (u, s) = optimizer.update(g, s, θ), θ ← optax.apply_updates(θ, u);
* ``train_loss`` is the mean of the epoch's mini-batch losses (each taken before its step's update);
  ``val_loss`` and ``train_<m>``/``val_<m>`` are evaluated with the epoch's final θ on the whole split;
* a step whose loss is non-finite, whose gradient's Σg² is non-finite, or whose new parameters' Σθ² is
  non-finite is not applied: training stops there and reports (epoch, step) with the state before the step.

Everything runs in float64 (except the float32 overflow case), so the compiled scan and the Python loop agree
to ~1e-13; train and validation sets differ, so a swapped split shows.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh

from jaxml import checkpoint, losses, models, optim, train

PyTree = Any
TOL = {"rtol": 1e-11, "atol": 1e-12}  # float64: the scan and the loop only differ by fusion/reassociation
TOL32 = {"rtol": 1e-6, "atol": 0.0}  # float32 leaves (the overflow case): a few ulps

# --------------------------------------------------------------------------------------------------------------
# The oracle


def hand_loop(
    objective: Callable[[PyTree, PyTree], jax.Array],
    params: PyTree,
    optimizer: optax.GradientTransformation,
    data: PyTree,
    *,
    key: Any,
    epochs: int,
    batch_size: int,
    val_data: PyTree | None = None,
    metrics: Mapping[str, Callable] | None = None,
) -> dict[str, Any]:
    """Train by the documented rules in plain Python; returns params, opt_state, history and divergence info.

    ``diverged`` is None or (epoch, step) of the first step that was not applied; ``params``/``opt_state`` are
    then the state just before it, and ``history`` holds the completed epochs only.
    """
    metrics = dict(metrics or {})
    key = jax.random.PRNGKey(key) if isinstance(key, int) else key
    n = len(jax.tree_util.tree_leaves(data)[0])
    steps = n // batch_size
    grad_fn = _jitted_value_and_grad(objective)  # one step's maths, jitted only for speed
    update = jax.jit(optimizer.update)
    state = optimizer.init(params)
    history: dict[str, list[float]] = {}

    def record(name: str, value: Any) -> None:
        history.setdefault(name, []).append(float(value))

    for e in range(epochs):
        perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, e), n))
        batch_losses = []
        for i in range(steps):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            batch = jax.tree_util.tree_map(lambda a, idx=idx: a[idx], data)
            loss, grads = grad_fn(params, batch)
            updates, new_state = update(grads, state, params)
            new_params = optax.apply_updates(params, updates)
            if not (np.isfinite(loss) and _all_finite(grads) and _all_finite(new_params)):
                return {"params": params, "opt_state": state, "history": history, "diverged": (e, i)}
            batch_losses.append(float(loss))
            params, state = new_params, new_state
        record("train_loss", np.mean(batch_losses))
        if val_data is not None:
            record("val_loss", objective(params, val_data))
        for name, fn in metrics.items():
            record(f"train_{name}", fn(params, data))
            if val_data is not None:
                record(f"val_{name}", fn(params, val_data))
    return {"params": params, "opt_state": state, "history": history, "diverged": None}


_VALUE_AND_GRAD: dict[Callable, Callable] = {}


def _jitted_value_and_grad(objective: Callable) -> Callable:
    """``jax.jit(jax.value_and_grad(objective))``, compiled once per objective across hand loops."""
    if objective not in _VALUE_AND_GRAD:
        _VALUE_AND_GRAD[objective] = jax.jit(jax.value_and_grad(objective))
    return _VALUE_AND_GRAD[objective]


def _all_finite(tree: PyTree) -> bool:
    """Whether every entry of every leaf is finite (the documented guard)."""
    return all(bool(np.all(np.isfinite(np.asarray(leaf)))) for leaf in jax.tree_util.tree_leaves(tree))


def assert_trees_close(got: PyTree, want: PyTree, **tol: float) -> None:
    """Same structure, leaves equal within ``tol`` (default :data:`TOL`; a few ulps for float32 leaves)."""
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(a, b, **(tol or (TOL32 if b.dtype == np.float32 else TOL)))


def assert_history_equal(got: Mapping[str, np.ndarray], want: Mapping[str, list[float]], **tol: float) -> None:
    """Every history entry equals the hand loop's, epoch by epoch (same names, same lengths)."""
    tol = tol or TOL
    assert sorted(got) == sorted(want)
    for name in want:
        np.testing.assert_allclose(np.asarray(got[name]), np.asarray(want[name]), err_msg=name, **tol)


# --------------------------------------------------------------------------------------------------------------
# Problems: train and validation sets drawn differently, N = 50 (not a multiple of B = 8: 6 steps, 2 dropped)

N_TRAIN, N_VAL, D, BATCH, EPOCHS = 50, 23, 3, 8, 4


def classification_problem(seed: int = 0) -> tuple[models.Model, Callable, dict[str, Callable], tuple, tuple]:
    """An MLP classifier with an accuracy and an MSE-of-logits metric; val data from another distribution."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_TRAIN, D))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int32)
    xv = rng.normal(loc=0.7, size=(N_VAL, D))
    yv = (xv[:, 1] > 0.7).astype(np.int32)
    model = models.mlp(D, [5], 2, activation=jnp.tanh)
    objective = train.supervised(model.apply, losses.softmax_cross_entropy, l2=1e-3)
    metrics = {
        "accuracy": lambda p, b: losses.accuracy(model.apply(p, b[0]), b[1]),
        "logit_norm": lambda p, b: jnp.mean(model.apply(p, b[0]) ** 2),  # continuous: any θ change shows
    }
    return model, objective, metrics, (jnp.asarray(x), jnp.asarray(y)), (jnp.asarray(xv), jnp.asarray(yv))


def regression_problem(seed: int = 1) -> tuple[models.Model, Callable, tuple, tuple]:
    """A small tanh MLP regression; validation targets from a different function."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_TRAIN, 2))
    xv = rng.normal(size=(N_VAL, 2))
    model = models.mlp(2, [6], activation=jnp.tanh)
    objective = train.supervised(model.apply, losses.mse)
    data = (jnp.asarray(x), jnp.asarray(np.sin(x[:, 0]) - x[:, 1]))
    val = (jnp.asarray(xv), jnp.asarray(np.cos(xv[:, 1])))
    return model, objective, data, val


# --------------------------------------------------------------------------------------------------------------
# fit == the hand loop


@pytest.mark.parametrize(
    "optimizer",
    [optax.sgd(0.3), optax.sgd(0.05, momentum=0.9), optax.adam(0.05), optim.adam(0.05)],
    ids=["sgd", "sgd_momentum", "optax_adam", "jaxml_adam"],
)
def test_fit_equals_the_hand_loop(x64, optimizer):
    # Several epochs (the shuffle is re-drawn each one), N = 50 with B = 8 (the 2 left over are dropped),
    # and every history entry: train_loss from the mini-batch losses, the rest from the final θ of the epoch.
    model, objective, metrics, data, val = classification_problem()
    params = model.init(jax.random.PRNGKey(5))
    args = {"key": 11, "epochs": EPOCHS, "batch_size": BATCH, "val_data": val, "metrics": metrics}
    got = train.fit(objective, params, optimizer, data, **args)
    want = hand_loop(objective, params, optimizer, data, **args)
    assert want["diverged"] is None
    assert_trees_close(got.params, want["params"])
    assert_trees_close(got.opt_state, want["opt_state"])
    assert_history_equal(got.history, want["history"])
    assert int(got.diverged_epoch) == -1


def test_fit_with_a_typed_key_and_full_batch_equals_the_hand_loop(x64):
    # A new-style typed key is used through its raw uint32 data; batch_size=None is one step of all N.
    model, objective, data, val = regression_problem()
    params = model.init(jax.random.PRNGKey(0))
    key = jax.random.key(3)
    got = train.fit(objective, params, optax.adam(0.02), data, key=key, epochs=3, batch_size=16, val_data=val)
    want = hand_loop(
        objective, params, optax.adam(0.02), data, key=jax.random.key_data(key), epochs=3, batch_size=16, val_data=val
    )
    assert_trees_close(got.params, want["params"])
    assert_history_equal(got.history, want["history"])
    full = train.fit(objective, params, optax.sgd(0.1), data, key=0, epochs=3)
    want = hand_loop(objective, params, optax.sgd(0.1), data, key=0, epochs=3, batch_size=N_TRAIN)
    assert_trees_close(full.params, want["params"])
    assert_history_equal(full.history, want["history"])


def test_the_oracle_sees_every_difference_it_should():
    # Guard the guard: the hand loop itself must distinguish a different shuffle, a different remainder rule
    # and different epochs, or the equalities above would pin nothing.
    with jax.enable_x64(True):
        model, objective, data, _ = regression_problem()
        params = model.init(jax.random.PRNGKey(0))
        run = lambda **kw: hand_loop(objective, params, optax.sgd(0.2), data, **{"epochs": 2, "batch_size": 8, **kw})
        base = run(key=0)["history"]["train_loss"]
        assert not np.allclose(base, run(key=1)["history"]["train_loss"])
        assert not np.allclose(base, run(key=0, batch_size=10)["history"]["train_loss"])
        assert base[0] != base[1]


def test_fit_on_a_one_device_mesh_equals_the_hand_loop(x64):
    model, objective, metrics, data, val = classification_problem(seed=2)
    params = model.init(jax.random.PRNGKey(1))
    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    args = {"key": 4, "epochs": 3, "batch_size": BATCH, "val_data": val, "metrics": metrics}
    got = train.fit(objective, params, optax.adam(0.03), data, mesh=mesh, **args)
    want = hand_loop(objective, params, optax.adam(0.03), data, **args)
    assert_trees_close(got.params, want["params"])
    assert_history_equal(got.history, want["history"])


def test_fit_with_checkpoints_and_progress_equals_the_hand_loop(x64, tmp_path):
    # Chunked execution (checkpoint_every, progress) must not change the trajectory: epoch e is still epoch e.
    model, objective, data, val = regression_problem()
    params = model.init(jax.random.PRNGKey(2))
    want = hand_loop(objective, params, optax.adam(0.02), data, key=9, epochs=5, batch_size=BATCH, val_data=val)
    got = train.fit(
        objective,
        params,
        optax.adam(0.02),
        data,
        key=9,
        epochs=5,
        batch_size=BATCH,
        val_data=val,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        progress=True,
    )
    assert_trees_close(got.params, want["params"])
    assert_history_equal(got.history, want["history"])


# --------------------------------------------------------------------------------------------------------------
# fit_sweep == N hand loops


def test_fit_sweep_over_seeds_and_learning_rates_equals_hand_loops(x64):
    model, objective, metrics, data, val = classification_problem(seed=3)
    init_keys = jax.random.split(jax.random.PRNGKey(0), 3)
    keys = jax.random.split(jax.random.PRNGKey(7), 3)
    lrs = [0.01, 0.05, 0.2]
    stacked = jax.vmap(model.init)(init_keys)
    args = {"epochs": 3, "batch_size": BATCH, "val_data": val, "metrics": metrics}
    by_lr = train.fit_sweep(objective, stacked, optax.adam, data, keys=keys, learning_rates=jnp.array(lrs), **args)
    by_seed = train.fit_sweep(objective, stacked, optax.sgd(0.1), data, keys=keys, **args)
    for i in range(3):
        params_i = model.init(init_keys[i])
        for sweep, opt in ((by_lr, optax.adam(lrs[i])), (by_seed, optax.sgd(0.1))):
            want = hand_loop(objective, params_i, opt, data, key=keys[i], **args)
            assert_trees_close(jax.tree_util.tree_map(lambda a, i=i: a[i], sweep.params), want["params"])
            assert_history_equal({k: v[i] for k, v in sweep.history.items()}, want["history"])
    np.testing.assert_array_equal(by_lr.diverged_epoch, [-1, -1, -1])


# --------------------------------------------------------------------------------------------------------------
# Divergence: the reported step and the state just before it


THRESHOLD = 0.6  # where the poisoned objectives below turn non-finite (the first weight grows past it)


@jax.custom_jvp
def _poison(w: jax.Array) -> jax.Array:
    """Zero, with a gradient that is +inf wherever w > THRESHOLD (a finite loss, a non-finite gradient)."""
    return jnp.zeros((), w.dtype)


@_poison.defjvp
def _poison_jvp(primals: tuple, tangents: tuple) -> tuple:
    (w,), (t,) = primals, tangents
    return _poison(w), jnp.sum(jnp.where(w > THRESHOLD, jnp.inf, 0.0) * t)


def _linear_problem() -> tuple[Callable, tuple, dict]:
    """Linear regression whose first weight rises from 0 towards 1.5 (crossing THRESHOLD mid-run)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(N_TRAIN, 2))
    y = x @ np.array([1.5, -0.5]) + 0.1 * rng.normal(size=N_TRAIN)
    model = models.linear(2)
    return train.supervised(model.apply, losses.mse), (jnp.asarray(x), jnp.asarray(y)), model.init(0)


def _loss_goes_infinite() -> tuple[Callable, tuple, dict, optax.GradientTransformation]:
    base, data, params = _linear_problem()
    # +inf once w₀ > THRESHOLD; the indicator is constant in θ, so the gradient and update stay finite: only
    # the loss check can stop this step.
    objective = lambda p, b: base(p, b) + jnp.where(jax.lax.stop_gradient(p["w"][0, 0]) > THRESHOLD, jnp.inf, 0.0)
    return objective, data, params, optax.sgd(0.03)


def _gradient_goes_infinite() -> tuple[Callable, tuple, dict, optax.GradientTransformation]:
    base, data, params = _linear_problem()
    objective = lambda p, b: base(p, b) + _poison(p["w"][0, 0])
    # Clipping turns the +inf gradient into a finite update: only the gradient check can stop this step.
    return objective, data, params, optax.chain(optax.clip(1.0), optax.adam(0.03))


def _parameters_overflow() -> tuple[Callable, tuple, dict, optax.GradientTransformation]:
    # float32 θ pushed up by 1e37–5e37 per step until one step takes it past 3.4e38 to inf. The loss −mean(xθ)
    # (x < 0.5, so each xθ < θ; averaged in float64, so the sum cannot overflow) and the gradient −mean(x) stay
    # finite at that step: only the parameter check can stop it.
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.uniform(0.1, 0.5, size=(N_TRAIN, 1)), jnp.float32)
    objective = lambda p, b: -jnp.mean((b[0] @ p["w"]).astype(jnp.float64))  # gradient −mean(x): finite
    return objective, (x, jnp.zeros(N_TRAIN, jnp.float32)), {"w": jnp.zeros(1, jnp.float32)}, optax.sgd(1e38)


@pytest.mark.parametrize(
    "make", [_loss_goes_infinite, _gradient_goes_infinite, _parameters_overflow], ids=["loss", "grad", "overflow"]
)
def test_divergence_error_carries_the_state_before_the_reported_step(x64, make):
    objective, data, params, optimizer = make()
    want = hand_loop(objective, params, optimizer, data, key=2, epochs=10, batch_size=BATCH)
    assert want["diverged"] is not None and want["diverged"] != (0, 0), "the case must diverge mid-run"
    with pytest.raises(train.DivergenceError) as info:
        train.fit(objective, params, optimizer, data, key=2, epochs=10, batch_size=BATCH)
    err = info.value
    assert (err.epoch, err.step) == want["diverged"]
    assert_trees_close(err.params, want["params"])
    assert_trees_close(err.opt_state, want["opt_state"])
    # History: the completed epochs as in the loop, the diverged epoch NaN.
    e = err.epoch
    assert len(err.history["train_loss"]) == e + 1
    tol = TOL32 if err.history["train_loss"].dtype == np.float32 else TOL
    np.testing.assert_allclose(err.history["train_loss"][:e], want["history"].get("train_loss", []), **tol)
    assert np.isnan(err.history["train_loss"][e])


def _sweep_with_one_diverging_run() -> tuple[Callable, PyTree, tuple, jax.Array, list[float]]:
    """Two runs of the loss-goes-infinite problem: η = 0.002 stays below THRESHOLD, η = 0.015 crosses it in
    epoch 3."""
    objective, data, params, _ = _loss_goes_infinite()
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a, a - 0.1]), params)
    return objective, stacked, data, jax.random.split(jax.random.PRNGKey(8), 2), [0.002, 0.015]


@pytest.mark.parametrize("mode", ["default", "progress", "mesh"])
def test_a_diverging_run_never_stops_the_others(x64, mode, capfd):
    # progress=True runs the epochs in chunks (one per epoch here); each chunk must continue while ANY run is
    # finite. The finite run must equal its hand loop, the diverged one its hand loop up to the reported step.
    objective, stacked, data, keys, lrs = _sweep_with_one_diverging_run()
    epochs = 12
    kwargs: dict[str, Any] = {"progress": mode == "progress"}
    if mode == "mesh":
        kwargs["mesh"] = Mesh(np.array(jax.devices()[:1]).reshape(1, 1), ("sweep", "data"))
    sweep = train.fit_sweep(
        objective,
        stacked,
        optax.sgd,
        data,
        keys=keys,
        epochs=epochs,
        batch_size=BATCH,
        learning_rates=jnp.array(lrs),
        **kwargs,
    )
    capfd.readouterr()
    finite, diverged = (
        hand_loop(
            objective,
            jax.tree_util.tree_map(lambda a, i=i: a[i], stacked),
            optax.sgd(lrs[i]),
            data,
            key=keys[i],
            epochs=epochs,
            batch_size=BATCH,
        )
        for i in range(2)
    )
    assert finite["diverged"] is None and diverged["diverged"] is not None
    assert 0 < diverged["diverged"][0] < epochs - 2, "the second run must diverge well inside the run"
    np.testing.assert_array_equal(sweep.diverged_epoch, [-1, diverged["diverged"][0]])
    assert_trees_close(jax.tree_util.tree_map(lambda a: a[0], sweep.params), finite["params"])
    assert_history_equal({k: v[0] for k, v in sweep.history.items()}, finite["history"])
    # The frozen run: last finite state, its completed epochs recorded, NaN from the diverged epoch on.
    e = diverged["diverged"][0]
    assert_trees_close(jax.tree_util.tree_map(lambda a: a[1], sweep.params), diverged["params"])
    np.testing.assert_allclose(sweep.history["train_loss"][1, :e], diverged["history"].get("train_loss", []), **TOL)
    assert np.all(np.isnan(sweep.history["train_loss"][1, e:]))


# --------------------------------------------------------------------------------------------------------------
# Faults: a checkpoint write that fails half-way


class DiskFull(OSError):
    """The injected write failure."""


def _half_writing_fdopen(real: Callable) -> Callable:
    """``os.fdopen`` whose files write half of what they are given, then raise (a disk filling up)."""

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        f = real(fd, *args, **kwargs)
        write = f.write

        class Half:
            def __enter__(self) -> Half:
                return self

            def __exit__(self, *exc: Any) -> None:
                f.close()

            def write(self, data: bytes) -> int:
                write(data[: len(data) // 2])
                f.flush()
                raise DiskFull("no space left on device")

            def __getattr__(self, name: str) -> Any:
                return getattr(f, name)

        return Half()

    return fdopen


def _failing(exc: BaseException) -> Callable:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise exc

    return fail


def _half_writing_open(real: Callable) -> Callable:
    """``open`` that fails half-way through binary writes: an in-place writer would tear the checkpoint."""

    def patched(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real(file, mode, *args, **kwargs)
        if "w" in mode and "b" in mode:
            original = f.write

            def write(data: bytes) -> int:
                original(data[: len(data) // 2])
                f.flush()
                raise DiskFull("no space left on device")

            f.write = write
        return f

    return patched


def _step_files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fault", ["write", "rename"])
def test_a_failed_checkpoint_write_leaves_the_previous_one_intact(tmp_path, monkeypatch, fault):
    model, objective, data, _ = regression_problem()
    params = model.init(jax.random.PRNGKey(0))
    saved: list[dict[str, bytes]] = []

    def arm(epoch: int, state: Any) -> None:
        # After the first checkpoint (epoch 2) is on disk, make the next save fail: a disk that fills up half-way
        # through a file orbax writes, or the rename that commits the step folder.
        if epoch == 2:
            saved.append(_step_files(tmp_path / "2"))
            if fault == "write":
                monkeypatch.setattr(builtins, "open", _half_writing_open(builtins.open))
                monkeypatch.setattr(os, "fdopen", _half_writing_fdopen(os.fdopen))
            monkeypatch.setattr(os, "rename", _failing(DiskFull("rename failed")))
            monkeypatch.setattr(os, "replace", _failing(DiskFull("rename failed")))

    run = lambda callback=None: train.fit(
        objective,
        params,
        optax.adam(0.02),
        data,
        key=1,
        epochs=6,
        batch_size=BATCH,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        callback=callback,
        callback_every=1,
    )
    with pytest.raises(DiskFull):
        run(arm)
    monkeypatch.undo()
    assert checkpoint.steps(tmp_path) == [2]
    assert _step_files(tmp_path / "2") == saved[0]  # the epoch-2 checkpoint, bit for bit
    # And it is a usable checkpoint: resuming gives exactly the uninterrupted run, and cleans the torn folder.
    resumed = run()
    reference = train.fit(objective, params, optax.adam(0.02), data, key=1, epochs=6, batch_size=BATCH)
    for a, b in zip(jax.tree_util.tree_leaves(resumed.params), jax.tree_util.tree_leaves(reference.params)):
        np.testing.assert_array_equal(a, b)
    assert not [p for p in tmp_path.iterdir() if "tmp" in p.name]


def test_the_fault_injection_reaches_the_writer(tmp_path, monkeypatch):
    # Guard the guard: each patched primitive really makes jaxml's atomic writer fail.
    from jaxml.io import atomic_write_bytes

    target = Path(tmp_path) / "f.bin"
    monkeypatch.setattr(os, "fdopen", _half_writing_fdopen(os.fdopen))
    with pytest.raises(DiskFull):
        atomic_write_bytes(target, b"x" * 100)
    assert not target.exists() and not list(tmp_path.iterdir())
