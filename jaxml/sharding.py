"""Where the trainer's arrays live on a device mesh: placement, sharding constraints, gathering to the host.

Data parallelism splits every batch of B examples over the mesh axis ``"data"`` (:data:`DATA_AXIS`) of D
devices, B/D examples per device, while θ and the optimizer state are replicated; a sweep of N runs
(:func:`jaxml.train.fit_sweep`) can also split its runs over ``"sweep"`` (:data:`SWEEP_AXIS`). The trainer does
not shard by hand: it pins a few layouts with :func:`constrainer` and lets XLA's partitioner propagate them,
so the all-reduce of the gradient

    g = (1/B) Σ_d Σ_{n ∈ shard d} ∇ℓₙ(θ)

is the only collective per step. :func:`to_host` reads any of these arrays back as numpy, on every process
(arrays split over several processes are gathered, a collective).

Example:
    >>> import jax, numpy as np
    >>> from jax.sharding import Mesh
    >>> from jaxml import sharding
    >>> mesh = sharding.check_mesh(Mesh(np.array(jax.devices()[:1]), ("data",)), allowed=("data",),
    ...                            required=("data",))
    >>> sharding.axis_size(mesh, "data"), sharding.axis_size(mesh, "sweep")
    (1, 1)
    >>> sharding.to_host({"w": jax.numpy.ones(2)})["w"]
    array([1., 1.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

PyTree = Any

#: Name of the mesh axis the examples of a batch are split over (data parallelism).
DATA_AXIS = "data"
#: Name of the mesh axis the runs of a :func:`jaxml.train.fit_sweep` are split over.
SWEEP_AXIS = "sweep"

__all__ = [
    "DATA_AXIS",
    "SWEEP_AXIS",
    "axis_size",
    "check_divisible",
    "check_mesh",
    "constrainer",
    "place",
    "place_run",
    "state_sharding",
    "to_host",
]


def axis_size(mesh: Mesh | None, name: str) -> int:
    """The number of devices along mesh axis ``name`` (1 without a mesh or without that axis).

    Args:
        mesh: the device mesh, or None (no mesh).
        name: a mesh axis name, e.g. :data:`DATA_AXIS` or :data:`SWEEP_AXIS`.

    Returns:
        int: ``mesh.shape[name]``, or 1 when ``mesh`` is None or has no axis ``name``.
    """
    return int(mesh.shape[name]) if mesh is not None and name in mesh.axis_names else 1


def check_mesh(mesh: Any, *, allowed: tuple[str, ...], required: tuple[str, ...] = (), name: str = "mesh") -> Mesh:
    """Validate the axis names (all in ``allowed``, every one of ``required`` present); return the mesh with
    every axis in Auto mode. ``name`` is how messages call the argument (e.g. "mesh for fit").

    ``jax.make_mesh`` makes Explicit axes by default (sharding in types), where ``with_sharding_constraint`` is
    not allowed and every op on sharded values must resolve its output sharding; the trainer instead lets XLA's
    partitioner propagate from a few constraints, which works for any objective, so it uses the same devices
    as Auto axes.

    Args:
        mesh: the mesh to check; must be a ``jax.sharding.Mesh``.
        allowed: the axis names the mesh may have.
        required: the axis names the mesh must have.
        name: how error messages call the argument, e.g. "mesh for fit".

    Returns:
        jax.sharding.Mesh: ``mesh`` itself when all its axes are already Auto, otherwise a mesh over the same
        devices and axis names with every axis in ``AxisType.Auto``.

    Raises:
        TypeError: if ``mesh`` is not a ``jax.sharding.Mesh``.
        ValueError: if ``mesh`` has an axis not in ``allowed`` or lacks an axis of ``required``.
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh (or None), got {type(mesh).__name__}")
    unknown = [a for a in mesh.axis_names if a not in allowed]
    missing = [a for a in required if a not in mesh.axis_names]
    if unknown or missing:
        including = f" including {', '.join(map(repr, required))}" if required else ""
        raise ValueError(f"{name} must have axes among {allowed}{including}, got axis_names {mesh.axis_names}")
    if all(t == AxisType.Auto for t in mesh.axis_types):
        return mesh
    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))


def check_divisible(count: int, what: str, mesh: Mesh, axis: str) -> None:
    """``ValueError`` unless ``count`` (described by ``what``) splits evenly over mesh axis ``axis``.

    Args:
        count: how many items are to be split, e.g. the batch size B or the number of runs N.
        what: how the error message names ``count``, e.g. "batch_size".
        mesh: the device mesh (None counts as an axis of size 1, which divides everything).
        axis: the mesh axis name ``count`` is split over.

    Raises:
        ValueError: if ``count`` is not a multiple of the size of mesh axis ``axis``.
    """
    size = axis_size(mesh, axis)
    if count % size:
        raise ValueError(f"{what} ({count}) must be divisible by the size of the mesh axis {axis!r} ({size})")


def state_sharding(mesh: Mesh, *, sweep: bool) -> NamedSharding:
    """The training state's layout: replicated, or (a sweep on a mesh with a "sweep" axis) runs split over it.

    Args:
        mesh: the device mesh.
        sweep: whether the state has a leading run axis (a :func:`jaxml.train.fit_sweep`).

    Returns:
        jax.sharding.NamedSharding: ``P("sweep")`` on ``mesh`` for a sweep on a mesh with a :data:`SWEEP_AXIS`,
        otherwise ``P()`` (replicated).
    """
    return NamedSharding(mesh, P(SWEEP_AXIS) if sweep and SWEEP_AXIS in mesh.axis_names else P())


def constrainer(mesh: Mesh | None) -> Callable[[PyTree, int], PyTree]:
    """``constrain(tree, dim)``: split every leaf's axis ``dim`` over the mesh's "data" axis (if it divides).

    Without a mesh ``constrain`` returns the tree unchanged, so the trainer's code is the same with or without.
    A leaf whose axis ``dim`` does not divide by the "data" axis size (or a mesh whose "data" axis has one
    device) is constrained to be replicated.

    Args:
        mesh: the device mesh, or None.

    Returns:
        Callable[[PyTree, int], PyTree]: ``constrain(tree, dim)``, which applies
        ``jax.lax.with_sharding_constraint`` to every leaf of ``tree`` (meant to be called under ``jit``).
    """
    data_size = axis_size(mesh, DATA_AXIS)

    def constrain(tree: PyTree, dim: int) -> PyTree:
        if mesh is None:
            return tree

        def one(a: jax.Array) -> jax.Array:
            spec = P(*([None] * dim), DATA_AXIS) if data_size > 1 and a.shape[dim] % data_size == 0 else P()
            # Under vmap(spmd_axis_name="sweep") JAX adds the sweep axis for the run dimension itself.
            return jax.lax.with_sharding_constraint(a, NamedSharding(mesh, spec))

        return jax.tree_util.tree_map(one, tree)

    return constrain


def place(tree: PyTree, sharding: NamedSharding, *, keep_on_mesh: bool = False) -> PyTree:
    """Lay every leaf out with ``sharding``; with ``keep_on_mesh``, leaves already laid out on the same
    mesh keep their layout (e.g. data made global with :func:`jaxml.distributed.global_array`).

    A mesh spanning several processes gets host values through ``make_array_from_callback``: each process
    fills its own shards from its (identical) copy. ``device_put`` would first check that the copies agree
    by comparing values, which fails on the NaN-filled history buffers.

    Args:
        tree: a pytree of arrays (jax or numpy) or scalars.
        sharding: the layout to give every leaf.
        keep_on_mesh: keep the layout (the partition spec) of leaves already laid out on ``sharding``'s mesh.

    Returns:
        PyTree: ``tree`` with every leaf a ``jax.Array`` laid out on ``sharding.mesh``.
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


def place_run(
    mesh: Mesh | None, state: PyTree, per_run: tuple, data: PyTree, val_data: PyTree, *, sweep: bool
) -> tuple:
    """A training run's inputs on the mesh: ``(state, per_run, data, val_data)`` with the state and the per-run
    arrays (keys, η) in :func:`state_sharding`, the data replicated unless already laid out on the mesh.
    Without a mesh, unchanged.

    Args:
        mesh: the device mesh, or None.
        state: the training state pytree (θ, optimizer state, model state, ...).
        per_run: a tuple of per-run arrays (e.g. PRNG keys and learning rates η).
        data: the training data pytree.
        val_data: the validation data pytree (or None).
        sweep: whether this is a sweep (state and per-run arrays carry a leading run axis).

    Returns:
        tuple: ``(state, per_run, data, val_data)``, placed on ``mesh`` (or unchanged when ``mesh`` is None).
    """
    if mesh is None:
        return state, per_run, data, val_data
    runs, replicated = state_sharding(mesh, sweep=sweep), NamedSharding(mesh, P())
    state, per_run = place(state, runs), tuple(place(a, runs) for a in per_run)
    data, val_data = (place(d, replicated, keep_on_mesh=True) for d in (data, val_data))
    return state, per_run, data, val_data


def to_host(tree: PyTree) -> PyTree:
    """Every leaf as a numpy array holding the full global value, on every process.

    Arrays split over several processes are gathered (``multihost_utils.process_allgather``), a collective:
    every process must call it. Replicated and local arrays are read directly. A single array is a pytree too.

    Args:
        tree: a pytree of arrays.

    Returns:
        PyTree: ``tree`` with every leaf a ``numpy.ndarray`` of the leaf's full global shape.
    """

    def one(a: Any) -> np.ndarray:
        if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(a, tiled=True))
        return np.asarray(a)

    return jax.tree_util.tree_map(one, tree)
