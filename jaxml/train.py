"""The one trainer: mini-batch gradient descent over epochs, compiled end to end.

Training minimizes an *objective* ``objective(params, batch) -> scalar`` — a pure function of a parameter
pytree and a batch (a pytree of arrays sharing a leading example axis, usually ``(x, y)``). Each epoch draws a
fresh permutation of the N examples from ``fold_in(key, epoch)``, cuts it into ⌊N/B⌋ batches of B (the
remainder of the permutation waits for a later epoch) and takes one optimizer step per batch:

    g = ∇θ L(θ; batch),   (u, s) = optimizer.update(g, s, θ),   θ ← θ + u

for any ``optax.GradientTransformation``. Steps run in a ``lax.scan`` inside a ``lax.while_loop`` over
epochs, so a whole run is one XLA program with no Python per step; :func:`fit_sweep` vmaps that program over
seeds or learning rates, training N models at once.

A step whose loss or gradient is not finite is not applied: the run freezes at the last finite state and
:func:`fit` raises :class:`DivergenceError` naming the epoch and step and carrying that state. Checkpoints
(``checkpoint_dir``, every ``checkpoint_every`` epochs) are flax-msgpack files written atomically; a run
started again with the same arguments resumes from the last one and ends with bit-identical parameters.

Data parallelism: with ``mesh=`` (a ``jax.sharding.Mesh`` with a ``"data"`` axis of D devices) every batch of B
is split into D shards of B/D examples, θ and the optimizer state are replicated, and XLA all-reduces the
gradient, g = (1/B) Σ_d Σ_{n ∈ shard d} ∇ℓₙ(θ) — the same g as on one device up to float reassociation. The
shuffle is unchanged (one global permutation per epoch), so a run on D devices follows the same trajectory as
on one. :func:`fit_sweep` can also spread its N runs over a ``"sweep"`` axis (``vmap(..., spmd_axis_name=)``).
Nothing here is device-specific: the same code runs on forced host devices, GPUs, or the devices of several
processes (see :mod:`jaxml.distributed`).

Example:
    >>> import jax, optax
    >>> from jaxml import losses, models, train
    >>> x = jax.random.normal(jax.random.PRNGKey(0), (256, 3)); y = x @ jax.numpy.array([1.0, -2.0, 0.5])
    >>> model = models.linear(3)
    >>> objective = train.supervised(model.apply, losses.mse)
    >>> result = train.fit(objective, model.init(jax.random.PRNGKey(1)), optax.sgd(0.1), (x, y),
    ...                    key=jax.random.PRNGKey(2), epochs=50, batch_size=32)
    >>> bool(result.history["train_loss"][-1] < 1e-6)
    True
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxml.io import atomic_write_bytes
from jaxml.losses import l2_penalty

Array = jax.Array
PyTree = Any
Objective = Callable[[PyTree, PyTree], Array]
Metric = Callable[[PyTree, PyTree], Array]

CHECKPOINT_FILE = "checkpoint.msgpack"
DATA_AXIS = "data"  # mesh axis the examples of a batch are split over
SWEEP_AXIS = "sweep"  # mesh axis the runs of a fit_sweep are split over


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or gradient.

    Attributes:
        epoch: the epoch (0-based) in which the first non-finite step happened.
        step: that step's index within the epoch.
        params, opt_state: the last finite state (the update that diverged was not applied).
        history: the per-epoch history up to and including the diverged epoch.
    """

    def __init__(self, epoch: int, step: int, params: PyTree, opt_state: PyTree, history: dict[str, np.ndarray]):
        super().__init__(
            f"training diverged: non-finite loss or gradient at epoch {epoch}, step {step}; "
            "the last finite parameters are in .params (try a smaller learning rate)"
        )
        self.epoch, self.step = epoch, step
        self.params, self.opt_state, self.history = params, opt_state, history


class FitResult(NamedTuple):
    """What training returns.

    ``history`` maps "train_loss" (the mean mini-batch loss of each epoch), "val_loss" and
    "train_<metric>"/"val_<metric>" (evaluated on the whole split at each epoch's end) to arrays of one value
    per epoch — with a leading run axis N for :func:`fit_sweep`. ``diverged_epoch`` is −1 for runs that
    stayed finite, else the epoch where they froze (always all −1 for :func:`fit`, which raises instead).
    """

    params: PyTree
    opt_state: PyTree
    history: dict[str, np.ndarray]
    diverged_epoch: np.ndarray


class _State(NamedTuple):
    params: PyTree
    opt_state: PyTree
    epoch: Array  # the next epoch to run
    diverged_epoch: Array  # −1 while finite
    diverged_step: Array
    history: dict[str, Array]  # (epochs,) buffers, NaN where not run yet


def supervised(
    apply: Callable[[PyTree, Any], Array],
    loss: Callable[[Array, Array], Array],
    l2: float = 0.0,
    l2_mask: PyTree | None = None,
) -> Objective:
    """The objective L(θ) = loss(apply(θ, x), y) + λ·Σθ² of a supervised model on a batch ``(x, y)``.

    ``l2`` is λ; the penalty skips biases unless ``l2_mask`` says otherwise (see :func:`jaxml.losses.l2_penalty`).
    """
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")

    def objective(params: PyTree, batch: tuple[Any, Array]) -> Array:
        x, y = batch
        value = loss(apply(params, x), y)
        if l2:
            value = value + l2 * l2_penalty(params, l2_mask)
        return value

    return objective


def _as_raw_key(key: Any, name: str = "key") -> Array:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.PRNGKey(int(key))
    if not isinstance(key, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a PRNG key or an int seed, got {type(key).__name__}")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    if key.dtype != jnp.uint32 or key.shape[-1:] != (2,):
        raise TypeError(f"{name} must be a PRNG key (jax.random.key or PRNGKey), got {key.dtype}{key.shape}")
    return jnp.asarray(key)


def _num_examples(data: PyTree, name: str) -> int:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError(f"{name} must hold at least one array")
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if None in sizes or len(sizes) != 1:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(f"every array in {name} must share a leading example axis, got shapes {shapes}")
    (n,) = sizes
    if n == 0:
        raise ValueError(f"{name} is empty")
    for leaf in leaves:
        if jnp.issubdtype(jnp.result_type(leaf), jnp.floating) and not _all_finite(leaf):
            raise ValueError(f"{name} contains NaN or infinite values")
    return int(n)


def _all_finite(leaf: Any) -> bool:
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
        # Part of it lives in other processes: reduce on the devices, read back the replicated scalar.
        return bool(jax.jit(lambda a: jnp.all(jnp.isfinite(a)))(leaf))
    return bool(np.all(np.isfinite(np.asarray(leaf))))


def _host(x: Any) -> np.ndarray:
    """``np.asarray`` that also works for an array sharded over the devices of several processes."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable and not x.is_fully_replicated:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def _history_names(has_val: bool, metrics: Mapping[str, Metric]) -> list[str]:
    names = ["train_loss"] + (["val_loss"] if has_val else [])
    for m in metrics:
        names += [f"train_{m}"] + ([f"val_{m}"] if has_val else [])
    return names


def _tree_all_finite(tree: PyTree) -> Array:
    """Whether Σ θ² over the tree is finite: any NaN or ±inf makes it so, in one fused reduction (about 6%
    faster per step than a per-leaf isfinite-all). A tree whose squared norm overflows counts as diverged too."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.isfinite(sum(jnp.sum(jnp.square(leaf)) for leaf in leaves)) if leaves else jnp.array(True)


def _constrainer(mesh: Mesh | None) -> Callable[[PyTree, int], PyTree]:
    """``constrain(tree, dim)``: split every leaf's axis ``dim`` over the mesh's "data" axis (if it divides)."""
    data_size = _axis_size(mesh, DATA_AXIS)

    def constrain(tree: PyTree, dim: int) -> PyTree:
        if mesh is None:
            return tree

        def one(a: Array) -> Array:
            spec = P(*([None] * dim), DATA_AXIS) if data_size > 1 and a.shape[dim] % data_size == 0 else P()
            # Under vmap(spmd_axis_name="sweep") JAX adds the sweep axis for the run dimension itself.
            return jax.lax.with_sharding_constraint(a, NamedSharding(mesh, spec))

        return jax.tree_util.tree_map(one, tree)

    return constrain


def _make_runner(
    objective: Objective,
    make_optimizer: Callable[[Any], optax.GradientTransformation],
    metrics: Mapping[str, Metric],
    n_train: int,
    batch_size: int,
    mesh: Mesh | None = None,
) -> Callable[..., _State]:
    """The core: run epochs [state.epoch, stop) of one model, stopping early on divergence.

    With a mesh, each epoch's batches (steps, B, …) are constrained to be split along B over "data": the
    gather ``data[perm]`` then produces every device's shard in place (the data are replicated, so no
    communication), and the only collective per step is the all-reduce of the gradient over "data".
    """
    steps = n_train // batch_size
    full_batch = batch_size == n_train
    value_and_grad = jax.value_and_grad(objective)
    constrain = _constrainer(mesh)

    def run(state: _State, stop: Array, key: Array, hparam: Any, data: PyTree, val_data: PyTree) -> _State:
        optimizer = make_optimizer(hparam)
        # Whole-split metrics split their examples over "data" too (a local slice of the replicated data).
        metric_data = constrain(data, 0)
        metric_val = None if val_data is None else constrain(val_data, 0)

        def step(carry: tuple, batch: PyTree) -> tuple:
            params, opt_state, bad_step, i = carry
            loss, grads = value_and_grad(params, batch)
            updates, new_opt_state = optimizer.update(grads, opt_state, params)
            new_params = optax.apply_updates(params, updates)
            ok = jnp.isfinite(loss) & _tree_all_finite(grads) & _tree_all_finite(new_params) & (bad_step < 0)
            keep = lambda new, old: jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), new, old)
            bad_step = jnp.where((bad_step < 0) & ~ok, i, bad_step)
            return (keep(new_params, params), keep(new_opt_state, opt_state), bad_step, i + 1), loss

        def epoch_body(state: _State) -> _State:
            e = state.epoch
            if full_batch:
                batches = jax.tree_util.tree_map(lambda a: a[None], data)
            else:
                perm = jax.random.permutation(jax.random.fold_in(key, e), n_train)[: steps * batch_size]
                # Split the indices over "data" before gathering: each device then gathers only its own
                # B/D rows of every batch from its replica of the data (no communication, no redundant copy).
                index = constrain(perm.reshape(steps, batch_size), 1)
                batches = jax.tree_util.tree_map(lambda a: a[index], data)
            batches = constrain(batches, 1)
            init = (state.params, state.opt_state, jnp.array(-1, jnp.int32), jnp.array(0, jnp.int32))
            (params, opt_state, bad_step, _), batch_losses = jax.lax.scan(step, init, batches)
            diverged = bad_step >= 0
            record = {"train_loss": jnp.where(diverged, jnp.nan, jnp.mean(batch_losses))}
            if val_data is not None:
                record["val_loss"] = objective(params, metric_val)
            for name, fn in metrics.items():
                record[f"train_{name}"] = fn(params, metric_data)
                if val_data is not None:
                    record[f"val_{name}"] = fn(params, metric_val)
            history = {k: buf.at[e].set(jnp.asarray(record[k], buf.dtype)) for k, buf in state.history.items()}
            return _State(
                params,
                opt_state,
                e + 1,
                jnp.where(diverged, e, state.diverged_epoch),
                jnp.where(diverged, bad_step, state.diverged_step),
                history,
            )

        cond = lambda s: (s.epoch < stop) & (s.diverged_epoch < 0)
        return jax.lax.while_loop(cond, epoch_body, state)

    return run


@functools.lru_cache(maxsize=64)
def _cached_runner(
    objective: Objective,
    optimizer: Any,
    is_factory: bool,
    metrics: tuple[tuple[str, Metric], ...],
    n_train: int,
    batch_size: int,
    sweep: bool,
    mesh: Mesh | None = None,
) -> Callable[..., _State]:
    make = optimizer if is_factory else (lambda _: optimizer)
    core = _make_runner(objective, make, dict(metrics), n_train, batch_size, mesh)
    if sweep:
        # vmap over the state, the batch-order key and the hyper-parameter; the data are shared. With a
        # "sweep" mesh axis, spmd_axis_name splits the run dimension of every intermediate over it.
        spmd = SWEEP_AXIS if mesh is not None and SWEEP_AXIS in mesh.axis_names else None
        core = jax.vmap(core, in_axes=(0, None, 0, 0, None, None), spmd_axis_name=spmd)
    if mesh is None:
        return jax.jit(core)
    # Pin the state's layout so that chunk after chunk it stays where it started (replicated, or runs over
    # "sweep"); a Mesh and its NamedShardings are hashable, so this runner is cached like any other.
    return jax.jit(core, out_shardings=_state_sharding(mesh, sweep))


def _axis_size(mesh: Mesh | None, name: str) -> int:
    return int(mesh.shape[name]) if mesh is not None and name in mesh.axis_names else 1


def _state_sharding(mesh: Mesh, sweep: bool) -> NamedSharding:
    return NamedSharding(mesh, P(SWEEP_AXIS) if sweep and SWEEP_AXIS in mesh.axis_names else P())


def _check_mesh(mesh: Any, allowed: tuple[str, ...], caller: str) -> Mesh:
    """Validate the axis names and return the mesh with every axis in Auto mode.

    ``jax.make_mesh`` makes Explicit axes by default (sharding in types), where ``with_sharding_constraint`` is
    not allowed and every op on sharded values must resolve its output sharding; the trainer instead lets XLA's
    partitioner propagate from a few constraints, which works for any objective, so it uses the same devices
    as Auto axes.
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh (or None), got {type(mesh).__name__}")
    unknown = [a for a in mesh.axis_names if a not in allowed]
    if unknown or (caller == "fit" and DATA_AXIS not in mesh.axis_names):
        raise ValueError(
            f"mesh for {caller} must have axes among {allowed}"
            + (f" including {DATA_AXIS!r}" if caller == "fit" else "")
            + f", got axis_names {mesh.axis_names}"
        )
    if all(t == AxisType.Auto for t in mesh.axis_types):
        return mesh
    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))


def _check_divisible(count: int, what: str, mesh: Mesh, axis: str) -> None:
    size = _axis_size(mesh, axis)
    if count % size:
        raise ValueError(f"{what} ({count}) must be divisible by the size of the mesh axis {axis!r} ({size})")


def _place(tree: PyTree, sharding: NamedSharding, keep_on_mesh: bool = False) -> PyTree:
    """Lay every leaf out with ``sharding``; with ``keep_on_mesh``, leaves already laid out on the same
    mesh keep their layout (e.g. data made global with :func:`jaxml.distributed.global_array`).

    A mesh spanning several processes gets host values through ``make_array_from_callback``: each process
    fills its own shards from its (identical) copy. ``device_put`` would first check that the copies agree
    by comparing values, which fails on the NaN-filled history buffers.
    """
    mesh = sharding.mesh
    local_mesh = sharding.is_fully_addressable

    def put(leaf: Any) -> Any:
        own = getattr(leaf, "sharding", None)
        same_mesh = (
            isinstance(own, NamedSharding)
            and own.mesh.axis_names == mesh.axis_names
            and np.array_equal(own.mesh.device_ids, mesh.device_ids)
        )
        if keep_on_mesh and same_mesh:
            # Same devices, same layout: only the axis types may differ (no data moves).
            return jax.device_put(leaf, NamedSharding(mesh, own.spec))
        if local_mesh or (isinstance(leaf, jax.Array) and not leaf.is_fully_addressable):
            return jax.device_put(leaf, sharding)
        host = np.asarray(leaf, dtype=jax.dtypes.canonicalize_dtype(jnp.result_type(leaf)))
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree_util.tree_map(put, tree)


def _compiled_runner(*args: Any) -> Callable[..., _State]:
    """The jitted runner, reused across calls with the same objective and optimizer objects (no recompile)."""
    try:
        return _cached_runner(*args)
    except TypeError:  # an unhashable objective or metric: compile afresh
        return _cached_runner.__wrapped__(*args)


def _initial_state(
    params: PyTree, opt_state: PyTree, names: list[str], epochs: int, lead: tuple[int, ...] = ()
) -> _State:
    """The state before epoch 0: history buffers (NaN until run) in the parameters' float type."""
    leaves = jax.tree_util.tree_leaves(params)
    dtype = jnp.result_type(*leaves) if leaves else jnp.result_type(float)
    dtype = dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)
    minus_one = jnp.full(lead, -1, jnp.int32)
    return _State(
        params,
        opt_state,
        jnp.zeros(lead, jnp.int32),
        minus_one,
        minus_one,
        {k: jnp.full(lead + (epochs,), jnp.nan, dtype) for k in names},
    )


def _checkpoint_meta(epochs: int, batch_size: int, n_train: int, names: list[str]) -> dict[str, Any]:
    return {"epochs": epochs, "batch_size": batch_size, "n_train": n_train, "history": names}


def _save_checkpoint(directory: Path, state: _State, meta: dict[str, Any]) -> None:
    payload = {"meta": json.dumps(meta), "state": serialization.to_state_dict(jax.device_get(state))}
    if jax.process_index() == 0:  # with several processes the (replicated) state is written once
        atomic_write_bytes(directory / CHECKPOINT_FILE, serialization.msgpack_serialize(payload))


def _load_checkpoint(directory: Path, template: _State, meta: dict[str, Any]) -> _State | None:
    path = directory / CHECKPOINT_FILE
    if not path.exists():
        return None
    payload = serialization.msgpack_restore(path.read_bytes())
    saved = json.loads(payload["meta"])
    if saved != meta:
        raise ValueError(
            f"checkpoint at {path} belongs to a different run ({saved}); expected {meta}. "
            "Use another checkpoint_dir or delete it."
        )
    return serialization.from_state_dict(template, payload["state"])


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr.isatty() and os.environ.get("CI") is None
    return bool(progress)


def _drive(
    run: Callable[..., _State],
    state: _State,
    epochs: int,
    chunk: int,
    args: tuple,
    checkpoint_dir: Path | None,
    meta: dict[str, Any],
    progress: bool,
    callback: Callable[[int, _State], None] | None,
    stop_early: Callable[[_State], bool],
) -> _State:
    """Host loop over chunks of epochs (one compiled call each): progress, checkpoints, early stop."""
    start = int(np.max(_host(state.epoch)))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, initial=start, unit="epoch", leave=False)
    try:
        epoch = start
        while epoch < epochs and not stop_early(state):
            stop = min(epoch + chunk, epochs)
            state = run(state, np.int32(stop), *args)
            epoch = stop
            if bar is not None:
                bar.update(stop - bar.n)
                bar.set_postfix(loss=f"{float(np.nanmean(_host(state.history['train_loss'])[..., stop - 1])):.4g}")
            if checkpoint_dir is not None and not stop_early(state):
                _save_checkpoint(checkpoint_dir, state, meta)
            if callback is not None:
                callback(epoch, state)
    finally:
        if bar is not None:
            bar.close()
    return state


def _validate(epochs: int, batch_size: int | None, n_train: int, checkpoint_every: int | None) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if batch_size is None:
        return n_train
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None (full batch), got {batch_size!r}")
    if batch_size > n_train:
        raise ValueError(f"batch_size ({batch_size}) exceeds the number of training examples ({n_train})")
    if checkpoint_every is not None and (not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1):
        raise ValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    return int(batch_size)


def _chunk_size(epochs: int, checkpoint_every: int | None, progress: bool) -> int:
    if checkpoint_every is not None:
        return int(checkpoint_every)
    if progress:
        return max(1, -(-epochs // 50))
    return epochs


def fit(
    objective: Objective,
    params: PyTree,
    optimizer: optax.GradientTransformation,
    data: PyTree,
    *,
    key: Array | int,
    epochs: int,
    batch_size: int | None = None,
    val_data: PyTree | None = None,
    metrics: Mapping[str, Metric] | None = None,
    progress: bool | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    callback: Callable[[int, Any], None] | None = None,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train ``params`` on ``data`` with ``optimizer`` for ``epochs`` epochs of mini-batch descent.

    Args:
        objective: ``objective(params, batch) -> scalar`` (see :func:`supervised`).
        params: the initial parameter pytree.
        optimizer: any ``optax.GradientTransformation`` (jaxml's or optax's).
        data: the training set, a pytree of arrays with a shared leading axis N (usually ``(x, y)``).
        key: PRNG key (or int seed) for the per-epoch permutations.
        epochs: passes over the data.
        batch_size: B; ``None`` is full-batch gradient descent (one step per epoch).
        val_data: optional held-out set, evaluated at the end of every epoch.
        metrics: ``{"name": fn(params, batch) -> scalar}`` evaluated on train and val each epoch.
        progress: a tqdm bar; ``None`` shows it only on an interactive terminal outside CI.
        checkpoint_dir, checkpoint_every: save the state every K epochs (atomically); if the directory already
            holds a checkpoint of this run, training resumes from it.
        callback: ``callback(epoch, state)`` after each compiled chunk (for logging).
        mesh: train data-parallel over this ``jax.sharding.Mesh`` with one axis ``"data"`` of D devices: each
            batch is split into D shards of B/D examples (B, or N when full-batch, must be divisible by D), θ and
            the optimizer state are replicated, the gradient is all-reduced. Data are replicated onto the mesh
            unless already laid out on it. Same result as without a mesh up to float reassociation.

    Returns:
        :class:`FitResult` with the final params, optimizer state and per-epoch history (with a mesh, params
        and state are replicated ``jax.Array`` s on its devices).

    Raises:
        DivergenceError: a non-finite loss or gradient; carries the last finite state.

    Example (4 devices; on a CPU ``XLA_FLAGS=--xla_force_host_platform_device_count=4``):
        >>> mesh = jax.make_mesh((4,), ("data",))
        >>> result = train.fit(objective, params, optax.adam(1e-3), (x, y), key=0, epochs=10, batch_size=64,
        ...                    mesh=mesh)
    """
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
    metrics = dict(metrics or {})
    n_train = _num_examples(data, "data")
    if val_data is not None:
        _num_examples(val_data, "val_data")
    batch_size = _validate(epochs, batch_size, n_train, checkpoint_every)
    if mesh is not None:
        mesh = _check_mesh(mesh, (DATA_AXIS,), "fit")
        what = "batch_size" if batch_size < n_train else "the full batch (batch_size=None) of N examples"
        _check_divisible(batch_size, what, mesh, DATA_AXIS)
    raw_key = _as_raw_key(key)
    names = _history_names(val_data is not None, metrics)
    state = _initial_state(params, optimizer.init(params), names, epochs)

    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    meta = _checkpoint_meta(epochs, batch_size, n_train, names)
    if ckpt is not None:
        restored = _load_checkpoint(ckpt, state, meta)
        state = restored if restored is not None else state
    if mesh is not None:
        replicated = NamedSharding(mesh, P())
        state, raw_key = _place(state, replicated), _place(raw_key, replicated)
        data, val_data = _place(data, replicated, keep_on_mesh=True), _place(val_data, replicated, keep_on_mesh=True)

    run = _compiled_runner(objective, optimizer, False, tuple(metrics.items()), n_train, batch_size, False, mesh)
    show = _show_progress(progress)
    state = _drive(
        run,
        state,
        epochs,
        _chunk_size(epochs, checkpoint_every, show),
        (raw_key, None, data, val_data),
        ckpt,
        meta,
        show,
        callback,
        stop_early=lambda s: bool(s.diverged_epoch >= 0),
    )
    history = {k: _host(v) for k, v in state.history.items()}
    if int(state.diverged_epoch) >= 0:
        e = int(state.diverged_epoch)
        raise DivergenceError(
            e, int(state.diverged_step), state.params, state.opt_state, {k: v[: e + 1] for k, v in history.items()}
        )
    return FitResult(state.params, state.opt_state, history, np.array(-1))


def fit_sweep(
    objective: Objective,
    params: PyTree,
    optimizer: optax.GradientTransformation | Callable[[Array], optax.GradientTransformation],
    data: PyTree,
    *,
    keys: Array,
    epochs: int,
    batch_size: int | None = None,
    learning_rates: Array | None = None,
    val_data: PyTree | None = None,
    metrics: Mapping[str, Metric] | None = None,
    progress: bool | None = None,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train N models in one compiled program (``jax.vmap`` of :func:`fit`'s core): a sweep over seeds or η.

    ``params`` carries a leading axis N (e.g. ``jax.vmap(model.init)(init_keys)``) and ``keys`` (N, …) gives
    each run its batch order. With ``learning_rates`` (N,), ``optimizer`` is a factory ``η -> transformation``
    called with a traced η; otherwise the same transformation serves every run. Run i equals
    ``fit(objective, params[i], optimizer(η_i), data, key=keys[i], ...)`` up to float reassociation.

    A run that diverges freezes at its last finite state; ``diverged_epoch[i]`` says where (−1: never), and
    its later history is NaN. No error is raised: sweeps are for finding where η breaks.

    With ``mesh`` (axes among ``"sweep"`` and ``"data"``) the N runs are split over ``"sweep"`` (N divisible
    by its size; params, state, keys and η sharded along their run axis) and each run's batches over ``"data"``
    (B divisible by its size), e.g. ``jax.make_mesh((2, 2), ("sweep", "data"))`` on 4 devices. The results'
    run axis then stays sharded over ``"sweep"``.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxml import losses, models, train
        >>> x = jnp.linspace(-1, 1, 64)[:, None]; y = 3 * x[:, 0]
        >>> model = models.linear(1)
        >>> lrs = jnp.array([0.01, 0.1, 0.5])
        >>> res = train.fit_sweep(train.supervised(model.apply, losses.mse),
        ...                       jax.vmap(model.init)(jax.random.split(jax.random.PRNGKey(0), 3)),
        ...                       optax.sgd, (x, y), keys=jax.random.split(jax.random.PRNGKey(1), 3),
        ...                       epochs=20, learning_rates=lrs)
        >>> res.history["train_loss"].shape
        (3, 20)
    """
    metrics = dict(metrics or {})
    n_train = _num_examples(data, "data")
    if val_data is not None:
        _num_examples(val_data, "val_data")
    batch_size = _validate(epochs, batch_size, n_train, None)
    keys = jnp.asarray(keys) if not isinstance(keys, jax.Array) else keys
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    if keys.ndim != 2 or keys.shape[1] != 2 or keys.dtype != jnp.uint32:
        raise TypeError(f"keys must be a batch of PRNG keys of shape (N, 2), got {keys.dtype}{keys.shape}")
    n_runs = keys.shape[0]
    lead = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in jax.tree_util.tree_leaves(params)}
    if lead != {n_runs}:
        raise ValueError(f"every params leaf must have a leading axis of N = {n_runs} runs (len(keys)), got {lead}")
    if mesh is not None:
        mesh = _check_mesh(mesh, (SWEEP_AXIS, DATA_AXIS), "fit_sweep")
        _check_divisible(n_runs, "the number of runs N (len(keys))", mesh, SWEEP_AXIS)
        what = "batch_size" if batch_size < n_train else "the full batch (batch_size=None) of N examples"
        _check_divisible(batch_size, what, mesh, DATA_AXIS)

    if learning_rates is None:
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError("without learning_rates, optimizer must be an optax.GradientTransformation")
        make: Callable[[Any], optax.GradientTransformation] = lambda _: optimizer
        hparams = jnp.zeros((n_runs,))
    else:
        if isinstance(optimizer, optax.GradientTransformation) or not callable(optimizer):
            raise TypeError("with learning_rates, optimizer must be a callable: learning_rate -> transformation")
        make = optimizer
        hparams = jnp.asarray(learning_rates)
        if hparams.shape != (n_runs,):
            raise ValueError(f"learning_rates must have shape ({n_runs},), got {hparams.shape}")

    names = _history_names(val_data is not None, metrics)
    opt_state = jax.vmap(lambda p, h: make(h).init(p))(params, hparams)
    state = _initial_state(params, opt_state, names, epochs, lead=(n_runs,))
    if mesh is not None:
        runs = _state_sharding(mesh, sweep=True)
        state, keys, hparams = _place(state, runs), _place(keys, runs), _place(hparams, runs)
        replicated = NamedSharding(mesh, P())
        data, val_data = _place(data, replicated, keep_on_mesh=True), _place(val_data, replicated, keep_on_mesh=True)

    is_factory = learning_rates is not None
    run = _compiled_runner(objective, optimizer, is_factory, tuple(metrics.items()), n_train, batch_size, True, mesh)
    show = _show_progress(progress)
    state = _drive(
        run,
        state,
        epochs,
        _chunk_size(epochs, None, show),
        (keys, hparams, data, val_data),
        None,
        {},
        show,
        None,
        stop_early=lambda s: bool(np.all(_host(s.diverged_epoch) >= 0)),
    )
    history = {k: _host(v) for k, v in state.history.items()}
    return FitResult(state.params, state.opt_state, history, _host(state.diverged_epoch))
