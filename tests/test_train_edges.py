"""Edges of the trainer and its checkpoints that the other files leave open (issue 25).

* the optimizer gets θ (``optax.adamw`` decays the weights it is given);
* ``supervised(..., l2=λ, l2_mask=...)`` is loss + λ·Σ(masked θ²), in the objective and in training;
* a full batch (``batch_size=None`` or N), and mini-batches of a B that divides N, use every example;
* a run that is not finite at its very first step raises with epoch 0, step 0 and θ₀;
* the checkpoint fingerprint: data that differ only in rows its strided sample skips, the model state, one
  leaf of θ₀, the l2 mask; ``differences`` with fields on one side only; ``steps`` in epoch order; a run
  asked for exactly the epochs an interrupted longer run saved gets them back;
* the mesh helpers a one-device machine can check: axes made Auto, a sweep's runs kept on "sweep",
  divisibility named.

Oracles: hand-written optax loops over the documented batches (full-batch runs where the order must not
matter), closed forms written with NumPy, and for the fingerprint the field that was changed on purpose
(hypothesis generates the fingerprints and the changes).
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from jax.sharding import AxisType, Mesh
from jax.sharding import PartitionSpec as P

from jaxml import checkpoint, losses, models, sharding, train

N, D, B = 24, 3, 8  # B divides N: three batches an epoch, no remainder
TOL = {"rtol": 1e-10, "atol": 1e-12}  # float64 (x64): the compiled scan and the Python loop only reassociate


def _data(n: int = N, d: int = D, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, x @ np.arange(1.0, d + 1) - 0.5 + 0.1 * rng.normal(size=n)


def _flat(tree) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(leaf, np.float64)) for leaf in jax.tree_util.tree_leaves(tree)])


def _close(got, want, **tol) -> None:
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **(tol or TOL))


def hand_loop(objective, params, optimizer, data, *, key: int, epochs: int, batch_size: int) -> dict:
    """The documented rules in plain Python: epoch e permutes with fold_in(PRNGKey(key), e) and takes ⌊N/B⌋
    batches of B; each step g = ∇L(θ; batch), (u, s) = update(g, s, θ), θ ← θ + u; train_loss is the mean of
    the epoch's batch losses. A full batch is all N examples in their order (the mean does not depend on it)."""
    n = len(jax.tree_util.tree_leaves(data)[0])
    value_and_grad, update = jax.jit(jax.value_and_grad(objective)), jax.jit(optimizer.update)
    state, history = optimizer.init(params), []
    for e in range(epochs):
        order = np.arange(n) if batch_size == n else np.asarray(
            jax.random.permutation(jax.random.fold_in(jax.random.PRNGKey(key), e), n))  # fmt: skip
        batch_losses = []
        for i in range(n // batch_size):
            idx = order[i * batch_size : (i + 1) * batch_size]
            batch = jax.tree_util.tree_map(lambda a, idx=idx: a[idx], data)
            loss, grads = value_and_grad(params, batch)
            updates, state = update(grads, state, params)
            params = optax.apply_updates(params, updates)
            batch_losses.append(float(loss))
        history.append(np.mean(batch_losses))
    return {"params": params, "opt_state": state, "train_loss": np.array(history)}


LINEAR = models.linear(D)
LINEAR_MSE = train.supervised(LINEAR.apply, losses.mse)


def _linear_params(seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)  # away from 0, so that a weight decay has something to decay
    return {"w": jnp.asarray(rng.normal(size=(D, 1))), "b": jnp.asarray([0.7])}


# ------------------------------------------------------------------------------------------------------------
# The optimizer gets θ; full batches; B dividing N


def test_adamw_gets_the_parameters_inside_fit(x64):
    data, params = _data(), _linear_params()
    opt = optax.adamw(0.05, weight_decay=0.5)
    got = train.fit(LINEAR_MSE, params, opt, data, key=0, epochs=5)  # batch_size=None: one step an epoch
    want = hand_loop(LINEAR_MSE, params, opt, data, key=0, epochs=5, batch_size=N)
    _close(got.params, want["params"])
    _close(got.opt_state, want["opt_state"])
    np.testing.assert_allclose(got.history["train_loss"], want["train_loss"], **TOL)
    # Guard the oracle: the decay moves θ, so an update that never saw θ could not match.
    plain = hand_loop(LINEAR_MSE, params, optax.adam(0.05), data, key=0, epochs=5, batch_size=N)
    assert np.max(np.abs(_flat(plain["params"]) - _flat(want["params"]))) > 1e-3


def test_a_full_batch_as_none_or_as_n_is_gradient_descent_by_hand(x64):
    data, params = _data(), _linear_params()
    x, y = data
    theta, losses_by_hand = {k: np.asarray(v) for k, v in params.items()}, []
    for _ in range(3):  # θ ← θ − η ∇ mean (xw + b − y)², in closed form
        r = x @ theta["w"][:, 0] + theta["b"][0] - y
        losses_by_hand.append(np.mean(r**2))
        theta = {"w": theta["w"] - 0.1 * (2 * x.T @ r / N)[:, None], "b": theta["b"] - 0.1 * 2 * np.mean(r)}
    for batch_size in (None, N):
        got = train.fit(LINEAR_MSE, params, optax.sgd(0.1), data, key=4, epochs=3, batch_size=batch_size)
        _close(got.params, theta)
        np.testing.assert_allclose(got.history["train_loss"], losses_by_hand, **TOL)


# ------------------------------------------------------------------------------------------------------------
# supervised(l2=λ, l2_mask=...)

MLP = models.mlp(2, [3], activation=jnp.tanh)
MASKS = {
    "default": (None, lambda p: np.sum(p[0]["w"] ** 2) + np.sum(p[1]["w"] ** 2)),  # weights only, no biases
    "first_bias_and_last_weight": (
        [{"w": False, "b": True}, {"w": True, "b": False}],
        lambda p: np.sum(p[0]["b"] ** 2) + np.sum(p[1]["w"] ** 2),
    ),
    "callable_all": (
        lambda p: jax.tree_util.tree_map(lambda _: True, p),
        lambda p: sum(np.sum(a**2) for a in _leaves(p)),
    ),
}


def _leaves(p):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(p)]


def _mlp_params(seed: int = 3) -> list:
    rng = np.random.default_rng(seed)  # biases not zero: a mask that takes or skips them shows
    return jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(size=a.shape)), MLP.init(0))


def _mlp_mse_by_hand(p, x, y) -> float:
    h = np.tanh(x @ np.asarray(p[0]["w"]) + np.asarray(p[0]["b"]))
    return float(np.mean((h @ np.asarray(p[1]["w"])[:, 0] + np.asarray(p[1]["b"])[0] - y) ** 2))


@pytest.mark.parametrize("mask", sorted(MASKS))
def test_supervised_l2_is_the_loss_plus_lambda_times_the_masked_squares(x64, mask):
    l2_mask, penalty = MASKS[mask]
    x, y = _data(10, 2)
    params = _mlp_params()
    objective = train.supervised(MLP.apply, losses.mse, l2=0.25, l2_mask=l2_mask)
    p = [{k: np.asarray(v) for k, v in layer.items()} for layer in params]
    want = _mlp_mse_by_hand(p, x, y) + 0.25 * penalty(p)
    np.testing.assert_allclose(float(objective(params, (x, y))), want, **TOL)
    np.testing.assert_allclose(float(train.supervised(MLP.apply, losses.mse)(params, (x, y))),
                               _mlp_mse_by_hand(p, x, y), **TOL)  # fmt: skip


def test_fit_with_l2_and_a_mask_equals_a_hand_loop_over_the_hand_written_objective(x64):
    data = _data(N, 2, seed=5)
    params = _mlp_params()
    mask = MASKS["first_bias_and_last_weight"][0]
    objective = train.supervised(MLP.apply, losses.mse, l2=0.1, l2_mask=mask)

    def by_hand(p, batch):  # written without jaxml: tanh layer, linear output, MSE, λ(Σ b₁² + Σ W₂²)
        x, y = batch
        out = jnp.tanh(x @ p[0]["w"] + p[0]["b"]) @ p[1]["w"][:, 0] + p[1]["b"][0]
        return jnp.mean((out - y) ** 2) + 0.1 * (jnp.sum(p[0]["b"] ** 2) + jnp.sum(p[1]["w"] ** 2))

    # B = 8 divides N = 24: three steps an epoch, every example used; 3 epochs (not a power of two)
    got = train.fit(objective, params, optax.sgd(0.2, momentum=0.5), data, key=7, epochs=3, batch_size=B)
    want = hand_loop(by_hand, params, optax.sgd(0.2, momentum=0.5), data, key=7, epochs=3, batch_size=B)
    _close(got.params, want["params"])
    np.testing.assert_allclose(got.history["train_loss"], want["train_loss"], **TOL)


# ------------------------------------------------------------------------------------------------------------
# Divergence at the very first step


def _nan_loss(p, batch):  # √(b − 1) at b = 0.7: NaN from the first step
    return LINEAR_MSE(p, batch) + jnp.sqrt(p["b"][0] - 1.0)


def _infinite_gradient(p, batch):  # the loss is finite, d/dw₀ of (w₀ − w₀(θ₀))^(1/3) is infinite at θ₀
    return LINEAR_MSE(p, batch) + jnp.cbrt(p["w"][0, 0] - _linear_params()["w"][0, 0])


def _with_aux(p, batch):
    return LINEAR_MSE(p, batch), {"w2": jnp.sum(p["w"] ** 2)}


@pytest.mark.parametrize(
    "objective, optimizer, has_aux",
    [(_nan_loss, optax.sgd(0.1), False), (_infinite_gradient, optax.sgd(0.1), False),
     (_with_aux, optax.sgd(float("inf")), True)],
    ids=["loss", "gradient", "optimizer"],
)  # fmt: skip
def test_a_run_not_finite_at_its_first_step_raises_with_epoch_0_step_0_and_the_initial_state(
    x64, objective, optimizer, has_aux
):
    data, val, params = _data(), _data(10, seed=9), _linear_params()
    loss0 = objective(params, data)[0] if has_aux else objective(params, data)
    assert np.isfinite(float(loss0)) == (objective is not _nan_loss)  # the case is what its name says
    with pytest.raises(train.DivergenceError) as info:
        train.fit(objective, params, optimizer, data, key=0, epochs=4, batch_size=B, val_data=val, has_aux=has_aux)
    err = info.value
    assert (err.epoch, err.step) == (0, 0)
    _close(err.params, params, rtol=0, atol=0)  # θ₀ itself: no step was applied
    _close(err.opt_state, optimizer.init(params), rtol=0, atol=0)
    # The diverged epoch is in the history: its train_loss (and aux means) NaN, its val_loss that of θ₀.
    assert err.history["train_loss"].shape == (1,) and np.isnan(err.history["train_loss"][0])
    val_loss0 = objective(params, val)[0] if has_aux else objective(params, val)
    np.testing.assert_allclose(err.history["val_loss"], [float(val_loss0)], **TOL)
    if has_aux:
        assert err.history["train_w2"].shape == (1,) and np.isnan(err.history["train_w2"][0])


# ------------------------------------------------------------------------------------------------------------
# The checkpoint fingerprint on real runs: one thing changed, that field (and only it) named

CK_N, CK_VAL, CK_EPOCHS = 130, 70, 3  # more rows than checkpoint.SAMPLE_ROWS: the strided sample skips some
CK_MODEL = models.linear(2)
CK_MASKS = {"default": None, "all": {"w": True, "b": True}}


@functools.cache  # one objective object per mask: the compiled runner is reused across runs
def _stateful(mask: str = "default"):
    """MSE with λ = 0.1 and a model state: a running mean of the targets, carried from step to step."""
    mse = train.supervised(CK_MODEL.apply, losses.mse, l2=0.1, l2_mask=CK_MASKS[mask])
    return lambda params, state, batch: (
        mse(params, batch),
        {"mean_y": 0.9 * state["mean_y"] + 0.1 * jnp.mean(batch[1])},
    )


def _ck_data():
    return tuple(map(np.float32, _data(CK_N, 2, seed=11))), tuple(map(np.float32, _data(CK_VAL, 2, seed=12)))


def _bumped(split, row: int = 1, by: float = 1.0):
    """The split with one target changed: row 1, which the strided sample (every 3rd / 2nd row) skips."""
    x, y = split
    y = y.copy()
    y[row] += by
    return x, y


def ck_run(directory, *, data=None, val=None, params=None, state=None, mask="default", **kw):
    ck_data, ck_val = _ck_data()
    return train.fit(
        _stateful(mask), CK_MODEL.init(0) if params is None else params, optax.sgd(0.05),
        ck_data if data is None else data, key=1, epochs=kw.pop("epochs", CK_EPOCHS), batch_size=26,
        val_data=ck_val if val is None else val, model_state={"mean_y": jnp.zeros(())} if state is None else state,
        checkpoint_dir=directory, **kw,
    )  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    directory = tmp_path_factory.mktemp("edges_base")
    return directory, ck_run(directory)


def _listed(message: str) -> set[str]:
    lines = message.split("what differs:\n")[1].split("\nTo start afresh")[0].splitlines()
    return {line.strip().split(":")[0].split(" (")[0] for line in lines}


CHANGES = {
    "data_row_the_sample_skips": (lambda: {"data": _bumped(_ck_data()[0])}, {"data_content"}),
    "val_row_the_sample_skips": (lambda: {"val": _bumped(_ck_data()[1])}, {"val_content"}),
    "val_values": (lambda: {"val": (_ck_data()[1][0] + 1, _ck_data()[1][1])}, {"val_content"}),
    "second_leaf_of_theta0": (  # {"b", "w"}: b as before, only w (the second leaf) from elsewhere
        lambda: {"params": {"b": jnp.zeros(1), "w": jnp.full((2, 1), 0.3)}}, {"params_content"}),
    "model_state_value": (lambda: {"state": {"mean_y": jnp.ones(())}}, {"model_state_content"}),
    "model_state_shape": (  # another state shape is another traced step too
        lambda: {"state": {"mean_y": jnp.zeros((1,))}}, {"model_state", "model_state_content", "step_program"}),
    "l2_mask": (lambda: {"mask": "all"}, {"step_program"}),
}  # fmt: skip


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_checkpoint_is_refused_to_a_run_changed_in_one_field_naming_exactly_that_field(base, change):
    directory, _ = base
    make, fields = CHANGES[change]
    with pytest.raises(ValueError, match="different run") as info:
        ck_run(directory, **make())
    assert str(directory / str(CK_EPOCHS)) in str(info.value)
    assert _listed(str(info.value)) == fields, str(info.value)


def test_a_checkpoint_one_epoch_beyond_the_run_is_refused_and_the_same_run_gets_it_back(base):
    directory, result = base
    with pytest.raises(ValueError, match=f"beyond epochs={CK_EPOCHS - 1}"):
        ck_run(directory, epochs=CK_EPOCHS - 1)
    again = ck_run(directory)
    np.testing.assert_array_equal(_flat(again.params), _flat(result.params))
    np.testing.assert_array_equal(_flat(again.model_state), _flat(result.model_state))


class Interrupted(Exception):
    pass


def test_an_interrupted_longer_run_gives_a_run_of_the_epochs_it_saved_those_epochs(tmp_path):
    def stop_at_10(epoch, state):
        if epoch == 10:
            raise Interrupted

    # 17 epochs (history buffers of 32) interrupted after the checkpoint at epoch 10; kept: 5 and 10
    with pytest.raises(Interrupted):
        ck_run(tmp_path, epochs=17, checkpoint_every=5, checkpoint_keep=None, callback=stop_at_10)
    (tmp_path / "7").mkdir()  # a step folder without its run record (an unfinished write) is not a checkpoint
    assert checkpoint.steps(tmp_path) == [5, 10]  # in epoch order, not as text ("10" < "5")
    # A 10-epoch run (buffers of 16) is that run's first 10 epochs: returned as saved, history included.
    resumed = ck_run(tmp_path, epochs=10, checkpoint_every=5, checkpoint_keep=None)
    fresh = ck_run(tmp_path / "fresh", epochs=10, checkpoint_every=5, checkpoint_keep=None)  # uninterrupted
    np.testing.assert_allclose(_flat(resumed.params), _flat(fresh.params), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(resumed.history["train_loss"], fresh.history["train_loss"], rtol=1e-6)
    assert np.all(np.isfinite(resumed.history["val_loss"])) and resumed.history["val_loss"].shape == (10,)
    np.testing.assert_array_equal(_flat(checkpoint.load_params(tmp_path)), _flat(resumed.params))  # the latest
    np.testing.assert_allclose(_flat(checkpoint.load_params(tmp_path, step=5)),
                               _flat(checkpoint.load_params(tmp_path / "fresh", step=5)), rtol=1e-6)  # fmt: skip
    # A template of another dtype does not fit: named, not silently cast.
    half = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float16), CK_MODEL.init(0))
    with pytest.raises(ValueError, match=r"leaf \['b'\] is float32\[1\], this run needs float16\[1\]"):
        checkpoint.load_params(tmp_path, template=half)


# ------------------------------------------------------------------------------------------------------------
# The fingerprint's parts, property-based

ABSENT = "(absent)"
_names = st.sampled_from(sorted(checkpoint.FIELDS)) | st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
_values = st.text(max_size=30).filter(lambda t: t != ABSENT)


@given(saved=st.dictionaries(_names, _values, max_size=6), data=st.data())
def test_differences_names_exactly_the_changed_added_and_removed_fields(saved, data):
    now = dict(saved)
    for field in data.draw(st.sets(st.sampled_from(sorted(saved))), label="changed") if saved else ():
        now[field] = data.draw(_values.filter(lambda t, old=saved[field]: t != old))
    for field in data.draw(st.sets(st.sampled_from(sorted(now))), label="removed") if now else ():
        del now[field]
    now.update(data.draw(st.dictionaries(_names.filter(lambda f: f not in saved), _values, max_size=2), label="added"))
    changed = sorted(f for f in set(saved) | set(now) if saved.get(f) != now.get(f))
    listed = checkpoint.differences(saved, now)
    assert (listed == []) == (saved == now)
    assert [line.split(":")[0].split(" (")[0] for line in listed] == changed
    for line, field in zip(listed, changed):  # each side's text, "(absent)" where the field is missing
        assert line.endswith(f": saved {saved.get(field, ABSENT)}, now {now.get(field, ABSENT)}")


def test_differences_lists_a_field_present_on_one_side_only():
    assert checkpoint.differences({"key": "00", "legacy": "x"}, {"key": "00", "batch_size": "8"}) == [
        f"batch_size ({checkpoint.FIELDS['batch_size']}): saved (absent), now 8",
        "legacy: saved x, now (absent)",
    ]


@given(shapes=st.lists(array_shapes(min_dims=0, max_dims=2, max_side=4), min_size=1, max_size=4), data=st.data())
def test_value_fingerprint_sees_one_changed_entry_in_any_leaf(shapes, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    tree = {f"leaf{i}": rng.normal(size=s).astype(np.float32) for i, s in enumerate(shapes)}
    assert checkpoint.value_fingerprint(tree) == checkpoint.value_fingerprint(jax.tree_util.tree_map(jnp.asarray, tree))
    name = data.draw(st.sampled_from(sorted(tree)), label="leaf")
    changed = {k: v.copy() for k, v in tree.items()}
    changed[name].flat[data.draw(st.integers(0, changed[name].size - 1), label="entry")] += 1.0
    assert checkpoint.value_fingerprint(changed) != checkpoint.value_fingerprint(tree)


@given(n=st.integers(checkpoint.SAMPLE_ROWS + 1, 400), data=st.data())
def test_data_fingerprint_sees_a_change_in_a_row_the_sample_skips(n, data):
    x, y = _data(n, 2, seed=n)
    stride = -(-n // checkpoint.SAMPLE_ROWS)  # the documented sample: every ⌈N/64⌉-th row
    row = data.draw(st.sampled_from([r for r in range(n) if r % stride]), label="row")
    by = data.draw(st.sampled_from([-2.0, 0.5, 1.0]), label="by")
    shapes, content = checkpoint.data_fingerprint((x, y))
    bumped = checkpoint.data_fingerprint(_bumped((x, y), row, by))
    assert bumped[0] == shapes and bumped[1] != content
    assert checkpoint.data_fingerprint((x.copy(), y.copy())) == (shapes, content)


# ------------------------------------------------------------------------------------------------------------
# Mesh helpers on one device


def test_check_mesh_makes_every_axis_auto_and_fit_on_such_a_mesh_is_plain_fit():
    explicit = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Explicit,))
    auto = sharding.check_mesh(explicit, allowed=("data",), required=("data",))
    assert auto.axis_types == (AxisType.Auto,) and auto.axis_names == ("data",)
    assert np.array_equal(auto.device_ids, explicit.device_ids)
    assert sharding.check_mesh(auto, allowed=("data",)) is auto  # already Auto: the same mesh
    x, y = (a.astype(np.float32) for a in _data())
    plain = train.fit(LINEAR_MSE, LINEAR.init(0), optax.sgd(0.1), (x, y), key=0, epochs=2, batch_size=B)
    meshed = train.fit(LINEAR_MSE, LINEAR.init(0), optax.sgd(0.1), (x, y), key=0, epochs=2, batch_size=B,
                       mesh=explicit)  # fmt: skip
    np.testing.assert_allclose(_flat(meshed.params), _flat(plain.params), rtol=1e-6, atol=1e-7)


def test_a_sweep_on_a_sweep_axis_keeps_its_runs_split_over_it():
    mesh = Mesh(np.array(jax.devices()[:1]), ("sweep",))
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    params = jax.vmap(LINEAR.init)(keys)
    x, y = (a.astype(np.float32) for a in _data())
    meshed = train.fit_sweep(LINEAR_MSE, params, optax.sgd(0.1), (x, y), keys=keys, epochs=2, batch_size=B, mesh=mesh)
    for leaf in jax.tree_util.tree_leaves((meshed.params, meshed.opt_state)):
        assert leaf.sharding.spec == P("sweep"), leaf.sharding


def test_check_divisible_names_the_count_the_axis_and_its_size():
    mesh = SimpleNamespace(axis_names=("sweep", "data"), shape={"sweep": 2, "data": 4})  # the only fields it reads
    for count in (4, 8, 12):
        sharding.check_divisible(count, "batch_size", mesh, "data")
    for count in (2, 10, 3):
        with pytest.raises(ValueError, match=rf"^batch_size \({count}\) must be divisible by .* 'data' \(4\)"):
            sharding.check_divisible(count, "batch_size", mesh, "data")
    sharding.check_divisible(3, "the number of runs", SimpleNamespace(axis_names=("data",), shape={"data": 4}),
                             "sweep")  # no such axis: size 1  # fmt: skip
