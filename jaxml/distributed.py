"""Several processes (hosts), one program: data-parallel training across machines with ``jax.distributed``.

JAX runs multi-host programs "multi-controller": every process runs the same Python script and owns its local
devices, and a jitted computation spans the devices of all processes, XLA's collectives (NCCL on GPUs, gloo over
TCP on CPUs) moving data between them. Data parallelism over P processes with D devices each is then exactly the
single-machine picture with a larger mesh: a batch of B examples is split into P·D shards, θ is replicated, and
the gradient g = (1/B) Σ_d Σ_{n ∈ shard d} ∇ℓₙ(θ) is all-reduced over every device of every process.

What this module adds around JAX:

* :func:`initialize` — ``jax.distributed.initialize`` from environment variables (``JAXML_COORDINATOR``,
  ``JAXML_NUM_PROCESSES``, ``JAXML_PROCESS_ID``, or JAX's names ``JAX_COORDINATOR_ADDRESS``,
  ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``); a no-op without them, so one script serves one or many processes.
* :func:`global_mesh` — a mesh (Auto axes, default ``("data",)``) over the devices of all processes.
* :func:`local_rows` / :func:`global_array` — which rows of the data set this process loads, and the global
  ``jax.Array`` (``jax.make_array_from_process_local_data``) that :func:`jaxml.train.fit` takes with ``mesh=``.
* :func:`to_host` — read a global array back as numpy on every process (re-exported from
  :mod:`jaxml.sharding`, the one place it is defined).
* :func:`launch` / ``python -m jaxml.distributed`` — start N local processes on 127.0.0.1 (CPU, gloo) to try
  the multi-host path on one machine; bounded by a timeout, and every process is killed if one fails.

The example below is a ``train_script.py``: run it on each host with the three variables set, or locally with
``python -m jaxml.distributed --processes 2 -- python train_script.py``; without the variables it is one process.

Example:
    >>> import jax, optax
    >>> from jaxml import distributed, losses, models, train
    >>> distributed.initialize()                        # before any other JAX call; a no-op for one process
    DistributedConfig(coordinator=None, num_processes=1, process_id=0)
    >>> x = jax.random.normal(jax.random.key(0), (64, 3)); y = x @ jax.numpy.array([1.0, -2.0, 0.5])
    >>> mesh = distributed.global_mesh()                 # ("data",) over all processes' devices
    >>> rows = distributed.local_rows(mesh, len(x))      # load only these rows on this process
    >>> data = distributed.global_array((x[rows], y[rows]), mesh)
    >>> model = models.linear(3)
    >>> result = train.fit(train.supervised(model.apply, losses.mse), model.init(0), optax.sgd(0.1), data, key=0,
    ...                    epochs=30, batch_size=16, mesh=mesh)
    >>> params = distributed.to_host(result.params)     # numpy, the same on every process
    >>> params["w"].round(2).ravel().tolist()
    [1.0, -2.0, 0.5]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxml.sharding import DATA_AXIS, to_host

PyTree = Any

#: Environment variables naming the coordinator's ``host:port``, jaxml's name first (it wins).
ENV_COORDINATOR = ("JAXML_COORDINATOR", "JAX_COORDINATOR_ADDRESS")
#: Environment variables holding the number of processes, jaxml's name first (it wins).
ENV_NUM_PROCESSES = ("JAXML_NUM_PROCESSES", "JAX_NUM_PROCESSES")
#: Environment variables holding this process's id, jaxml's name first (it wins).
ENV_PROCESS_ID = ("JAXML_PROCESS_ID", "JAX_PROCESS_ID")
#: The default layout of a data set — examples (rows) split over the "data" mesh axis.
ROWS_OVER_DATA = P(DATA_AXIS)

__all__ = [
    "DistributedConfig",
    "config_from_env",
    "free_port",
    "global_array",
    "global_mesh",
    "initialize",
    "launch",
    "local_rows",
    "main",
    "to_host",
]


class DistributedConfig(NamedTuple):
    """Where the coordinator is and who this process is.

    Attributes:
        coordinator: ``host:port`` of process 0's coordinator service (None for a single process).
        num_processes: how many processes take part.
        process_id: this process's index, 0 ≤ id < num_processes.
    """

    coordinator: str | None
    num_processes: int
    process_id: int


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name)
        if value not in (None, ""):
            return name, value
    return None


def _as_int(found: tuple[str, str], lowest: int) -> int:
    name, value = found
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None
    if number < lowest:
        raise ValueError(f"environment variable {name} must be >= {lowest}, got {number}")
    return number


def config_from_env(environ: Mapping[str, str] | None = None) -> DistributedConfig | None:
    """Read the distributed set-up from ``environ`` (default ``os.environ``); None when none is set.

    The jaxml names win over JAX's. All three (coordinator, number of processes, process id) must be set
    together, else ``ValueError`` names the missing variable.

    Args:
        environ: a mapping of environment variable names to values; None reads ``os.environ``.

    Returns:
        DistributedConfig | None: the set-up, or None when none of the variables is set (or all are empty).

    Raises:
        ValueError: if only some of the three settings are given, if the number of processes is not an integer
            ≥ 1 or the process id not an integer ≥ 0, if the process id is not smaller than the number of
            processes, or if the coordinator is not ``host:port``.

    Example:
        >>> config_from_env({"JAXML_COORDINATOR": "10.0.0.1:1234", "JAXML_NUM_PROCESSES": "2",
        ...                  "JAXML_PROCESS_ID": "1"})
        DistributedConfig(coordinator='10.0.0.1:1234', num_processes=2, process_id=1)
    """
    environ = os.environ if environ is None else environ
    coordinator = _first(environ, ENV_COORDINATOR)
    count = _first(environ, ENV_NUM_PROCESSES)
    pid = _first(environ, ENV_PROCESS_ID)
    if coordinator is None and count is None and pid is None:
        return None
    for found, names in ((coordinator, ENV_COORDINATOR), (count, ENV_NUM_PROCESSES), (pid, ENV_PROCESS_ID)):
        if found is None:
            raise ValueError(
                f"incomplete distributed set-up: set {names[0]} (or {names[1]}) together with "
                f"{ENV_COORDINATOR[0]}, {ENV_NUM_PROCESSES[0]} and {ENV_PROCESS_ID[0]}"
            )
    num_processes, process_id = _as_int(count, 1), _as_int(pid, 0)
    if process_id >= num_processes:
        raise ValueError(f"{pid[0]} ({process_id}) must be smaller than {count[0]} ({num_processes})")
    if ":" not in coordinator[1]:
        raise ValueError(f"{coordinator[0]} must be host:port, got {coordinator[1]!r}")
    return DistributedConfig(coordinator[1], num_processes, process_id)


def initialize(config: DistributedConfig | None = None, *, timeout_s: int = 300) -> DistributedConfig:
    """Join the other processes: ``jax.distributed.initialize`` with ``config`` or the environment.

    Call it first, before any JAX computation (JAX refuses afterwards). Without a configuration (no
    variables set) or with one process it does nothing, so the same script runs on a laptop. On CPUs the
    cross-process collectives are gloo over TCP: this JAX (0.10) uses gloo by default, and an older default of
    none is switched to gloo here. Calling it again after a successful call is a no-op.

    Args:
        config: the set-up; None reads :func:`config_from_env`.
        timeout_s: seconds to wait for all processes to connect (and to shut down together).

    Returns:
        DistributedConfig: the configuration in effect (``DistributedConfig(None, 1, 0)`` for a single process).

    Raises:
        ValueError: if ``config`` is None and the environment holds an incomplete or invalid set-up (see
            :func:`config_from_env`).
        TypeError: if ``config`` is not a :class:`DistributedConfig` (or None).
    """
    config = config_from_env() if config is None else config
    if not isinstance(config, (DistributedConfig, type(None))):
        raise TypeError(f"config must be a DistributedConfig or None, got {type(config).__name__}")
    if config is None or config.num_processes == 1:
        return DistributedConfig(None, 1, 0)
    if jax.distributed.is_initialized():
        return config
    if jax.config.jax_cpu_collectives_implementation is None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=config.coordinator,
        num_processes=config.num_processes,
        process_id=config.process_id,
        initialization_timeout=int(timeout_s),
        shutdown_timeout_seconds=int(timeout_s),
    )
    return config


def global_mesh(axis_shapes: Sequence[int] | None = None, axis_names: Sequence[str] = (DATA_AXIS,)) -> Mesh:
    """A mesh over every device of every process, all axes Auto (what :func:`jaxml.train.fit` expects).

    ``axis_shapes`` defaults to one axis over all devices; its product must equal ``jax.device_count()``.
    ``jax.make_mesh`` orders the devices so that each process's devices are contiguous, so process p holds
    the p-th block of the ``"data"`` axis.

    Args:
        axis_shapes: the number of devices along each axis; None puts all devices on one axis.
        axis_names: the axis names, one per entry of ``axis_shapes`` (default ``("data",)``).

    Returns:
        jax.sharding.Mesh: the mesh, every axis ``AxisType.Auto``.

    Raises:
        ValueError: if ``axis_shapes`` and ``axis_names`` differ in length, or the product of ``axis_shapes`` is
            not ``jax.device_count()``.

    Example:
        >>> global_mesh((1, jax.device_count()), ("sweep", "data")).axis_names   # for train.fit_sweep
        ('sweep', 'data')
    """
    names = tuple(axis_names)
    shapes = (jax.device_count(),) if axis_shapes is None else tuple(int(s) for s in axis_shapes)
    if len(shapes) != len(names):
        raise ValueError(f"axis_shapes {shapes} and axis_names {names} must have the same length")
    if int(np.prod(shapes)) != jax.device_count():
        raise ValueError(
            f"axis_shapes {shapes} must multiply to the number of devices of all processes ({jax.device_count()})"
        )
    return jax.make_mesh(shapes, names, axis_types=(AxisType.Auto,) * len(names))


def local_rows(mesh: Mesh, num_examples: int, spec: P = ROWS_OVER_DATA) -> slice:
    """The contiguous rows ``[start, stop)`` of an N-example data set that this process should load.

    Laid out with ``spec`` (default: rows split over ``"data"``), the devices of this process hold exactly
    these rows; pass ``x[rows]`` to :func:`global_array`. N must be divisible by the size of the split axes.

    Args:
        mesh: the global mesh (e.g. from :func:`global_mesh`).
        num_examples: N, the number of examples (rows) of the whole data set; a positive integer.
        spec: how the rows are laid out; its first entry names the mesh axis (or axes) the rows are split over.

    Returns:
        slice: ``slice(start, stop)``, this process's rows.

    Raises:
        ValueError: if ``num_examples`` is not a positive integer, is not divisible by the size of the split
            axes, or if this process's rows under ``spec`` are not contiguous.
    """
    if isinstance(num_examples, bool) or not isinstance(num_examples, int | np.integer) or num_examples < 1:
        raise ValueError(f"num_examples must be a positive integer, got {num_examples!r}")
    sharding = NamedSharding(mesh, spec)
    split = spec[0] if len(spec) else None
    axes = () if split is None else (split,) if isinstance(split, str) else tuple(split)
    parts = int(np.prod([mesh.shape[a] for a in axes])) if axes else 1
    if num_examples % parts:
        raise ValueError(f"num_examples ({num_examples}) must be divisible by the size of mesh axes {axes} ({parts})")
    index = sharding.addressable_devices_indices_map((int(num_examples),))
    starts = sorted({(s[0].start or 0, num_examples if s[0].stop is None else s[0].stop) for s in index.values()})
    for (_, stop), (start, _) in zip(starts[:-1], starts[1:]):
        if stop != start:
            raise ValueError(f"this process's rows under {spec} are not contiguous: {starts}")
    return slice(starts[0][0], starts[-1][1])


def global_array(local: PyTree, mesh: Mesh, spec: P = ROWS_OVER_DATA) -> PyTree:
    """Global ``jax.Array`` s from each process's own rows (``jax.make_array_from_process_local_data``).

    ``local`` is a pytree of arrays with a shared leading axis: this process's rows (see :func:`local_rows`),
    every process contributing the same number. With ``spec=P()`` each process passes the *whole* data set
    and gets it replicated on every device (it must be identical everywhere).

    Args:
        local: a pytree of arrays sharing a leading (row) axis, this process's rows.
        mesh: the global mesh.
        spec: the layout of the global arrays (default: rows split over ``"data"``).

    Returns:
        PyTree: ``local``'s structure with every leaf a global ``jax.Array`` laid out as ``NamedSharding(mesh,
        spec)``.

    Raises:
        ValueError: if ``local`` holds no array, or its arrays are scalars or do not share a leading axis.
    """
    leaves = jax.tree_util.tree_leaves(local)
    if not leaves:
        raise ValueError("local must hold at least one array")
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if None in sizes or len(sizes) != 1:
        raise ValueError(f"every array in local must share a leading axis, got shapes {[np.shape(a) for a in leaves]}")
    sharding = NamedSharding(mesh, spec)
    return jax.tree_util.tree_map(lambda a: jax.make_array_from_process_local_data(sharding, np.asarray(a)), local)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and let the OS choose).

    Args:
        host: the IPv4 address to bind to.

    Returns:
        int: the port number.

    Raises:
        OSError: if ``host`` cannot be bound (not a local address).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _stop(procs: Sequence[subprocess.Popen], grace_s: float = 5.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(
    command: Sequence[str],
    num_processes: int,
    *,
    devices_per_process: int = 1,
    timeout_s: float = 600.0,
    platform: str | None = "cpu",
    log_dir: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
) -> list[int]:
    """Run ``command`` as ``num_processes`` local processes joined by :func:`initialize` (to try multi-host).

    Each process gets ``JAXML_COORDINATOR=127.0.0.1:<free port>``, ``JAXML_NUM_PROCESSES``,
    ``JAXML_PROCESS_ID``, ``JAX_PLATFORMS=platform`` and, for ``devices_per_process`` > 1 on the CPU, the XLA
    flag that splits the host into that many devices. If a process fails the others are terminated (they
    would wait for it in a collective); after ``timeout_s`` all are killed and ``TimeoutError`` is raised.

    Args:
        command: the program and its arguments, e.g. ``[sys.executable, "train_script.py"]``.
        num_processes: how many processes.
        devices_per_process: CPU devices per process (``--xla_force_host_platform_device_count``).
        timeout_s: the most seconds to wait for all of them.
        platform: ``JAX_PLATFORMS`` for the children (None: inherit).
        log_dir: write process i's output to ``log_dir/process_i.log`` (None: inherit the terminal).
        env: extra environment variables.

    Returns:
        list[int]: the exit codes, by process id (a negative code is the signal that ended the process).

    Raises:
        ValueError: if ``command`` is empty, ``num_processes`` or ``devices_per_process`` is not a positive
            integer, or ``timeout_s`` is not positive.
        TimeoutError: if the processes are still running after ``timeout_s`` seconds (all are killed first).
    """
    if not command:
        raise ValueError("command must name a program to run")
    for name, value in (("num_processes", num_processes), ("devices_per_process", devices_per_process)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
    base = {**os.environ, **(env or {})}
    base[ENV_COORDINATOR[0]] = f"127.0.0.1:{free_port()}"
    base[ENV_NUM_PROCESSES[0]] = str(num_processes)
    if platform is not None:
        base["JAX_PLATFORMS"] = platform
    if devices_per_process > 1:
        flags = [f for f in base.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
        base["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={devices_per_process}"])
    logs = []
    procs: list[subprocess.Popen] = []
    try:
        for i in range(num_processes):
            out = None
            if log_dir is not None:
                Path(log_dir).mkdir(parents=True, exist_ok=True)
                out = open(Path(log_dir) / f"process_{i}.log", "wb")  # noqa: SIM115 - closed in finally
                logs.append(out)
            child_env = {**base, ENV_PROCESS_ID[0]: str(i)}
            procs.append(subprocess.Popen(list(command), env=child_env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout_s
        while True:
            codes = [p.poll() for p in procs]
            if any(c not in (None, 0) for c in codes) or all(c is not None for c in codes):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{num_processes} processes of {list(command)} still running after {timeout_s} s")
            time.sleep(0.05)
        if any(c not in (None, 0) for c in codes):
            _stop(procs)
        return [p.wait() for p in procs]
    finally:
        _stop(procs)
        for f in logs:
            f.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m jaxml.distributed --processes N [--devices-per-process D] [--timeout S] -- COMMAND ...``

    The command-line entry point of :func:`launch` (also ``--log-dir DIR``).

    Args:
        argv: the command-line arguments (without the program name); None reads ``sys.argv``.

    Returns:
        int: the exit status: 0 when every process succeeded, the first failing process's exit code otherwise,
        124 on timeout.

    Raises:
        SystemExit: on unparsable arguments or without a command after ``--`` (argparse's error, status 2).
        ValueError: if ``--processes`` or ``--devices-per-process`` is below 1, or ``--timeout`` is not positive
            (from :func:`launch`).
    """
    parser = argparse.ArgumentParser(
        prog="python -m jaxml.distributed",
        description="Run COMMAND as N local processes joined by jaxml.distributed.initialize (CPU, gloo).",
    )
    parser.add_argument("--processes", type=int, default=2, help="number of processes (default 2)")
    parser.add_argument("--devices-per-process", type=int, default=1, help="CPU devices per process")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before all are killed")
    parser.add_argument("--log-dir", default=None, help="write process_i.log files here instead of the terminal")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- program and arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    try:
        codes = launch(
            command,
            args.processes,
            devices_per_process=args.devices_per_process,
            timeout_s=args.timeout,
            log_dir=args.log_dir,
        )
    except TimeoutError as err:
        print(err, file=sys.stderr)
        return 124
    failed = [(i, c) for i, c in enumerate(codes) if c != 0]
    for i, c in failed:
        print(f"process {i} exited with {c}", file=sys.stderr)
    return failed[0][1] if failed else 0


if __name__ == "__main__":
    sys.exit(main())
