"""Row-block streaming: one compiled program per block shape, whatever the number of rows N.

A reduction over the rows of x (a fit's sums) or a row-wise map (a posterior) is written as a function of one
block of B rows and two runtime scalars ``lo``/``hi``: only rows ``lo ≤ i < hi`` of the block count. Every
block has the same shape, so the compiled program depends on (B, D, dtypes), never on N:

* :func:`map_host_blocks` / :func:`map_host` walk a host (NumPy) array block by block from Python, handing each
  block to XLA as it is: on CPU a 64-byte-aligned block is shared with XLA without a copy, and the block
  starts are chosen aligned whenever the row size allows it, so no copy of the whole array is made. The
  rows before the first aligned start and after the last full block are covered by two extra blocks,
  shifted to lie inside the array, whose ``lo``/``hi`` count only the rows no other block counted. An input
  shorter than B is zero-padded to B rows.
* :func:`map_blocks` / :func:`map_rows` do the same inside a traced program (``jax.jit``/``jax.vmap`` of the
  cores): ``dynamic_slice`` blocks, the last one shifted back to end at row N, walked by a ``lax.map``
  (:func:`map_blocks`, one statistic per block) or a ``fori_loop`` (:func:`map_rows`, rows written in place).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
PyTree = Any
#: a block function: (*row blocks, lo, hi) → block statistics.
Step = Callable[..., PyTree]

#: XLA's CPU buffers are 64-byte aligned; an aligned host block is shared with XLA instead of copied.
ALIGN = 64
#: bytes of x per block: small enough that a block and its temporaries stay in the CPU's last-level cache, large
#: enough that the fixed cost of dispatching a block is small next to its work.
BLOCK_BYTES = 1 << 22
#: the smallest block, so that tiny inputs (padded up to it) share one program.
MIN_BLOCK = 256


def block_rows(n: int, row_bytes: int) -> int:
    """Rows per block: a power of two of about :data:`BLOCK_BYTES`, no more than N rounded up to a power of two.

    The block depends on N only below :data:`BLOCK_BYTES` of data, through that power of two, so inputs of
    similar size share one compiled program.
    """
    full = max(MIN_BLOCK, 1 << max(0, int(math.log2(max(1, BLOCK_BYTES // max(1, row_bytes))))))
    small = max(MIN_BLOCK, 1 << max(0, (n - 1).bit_length()))
    return min(full, small)


def is_host(x: object) -> bool:
    """Whether ``x`` is host data that can be streamed: a NumPy array, or a concrete single-device CPU array."""
    if isinstance(x, np.ndarray):
        return x.dtype != object
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        try:
            devices = x.devices()
        except Exception:  # a deleted or otherwise unreadable array: leave it to the traced path
            return False
        return len(devices) == 1 and next(iter(devices)).platform == "cpu"
    return False


def host_view(x: Any) -> np.ndarray:
    """The host array itself (a CPU ``jax.Array`` is viewed without a copy), in a dtype JAX keeps as it is."""
    a = np.asarray(x)
    canonical = jax.dtypes.canonicalize_dtype(a.dtype)
    return a if a.dtype == canonical else a.astype(canonical)


def _first_aligned_row(x: np.ndarray) -> int:
    """The first row (< 64) whose address is 64-byte aligned, or 0 when no row is (or not on CPU)."""
    if jax.default_backend() != "cpu" or not x.flags.c_contiguous or x.shape[0] == 0:
        return 0
    row = x.strides[0]
    base = x.ctypes.data
    for i in range(min(ALIGN, x.shape[0])):
        if (base + i * row) % ALIGN == 0:
            return i
    return 0


def host_blocks(n: int, block: int, head: int = 0) -> Iterator[tuple[int, int, int]]:
    """(start, lo, hi) for blocks ``[start, start + block)`` covering rows 0…N−1 once each (N ≥ block,
    0 ≤ head < block: the head block ``[0, block)`` counts rows ``[0, head)``, so a longer head cannot fit).

    Full blocks start at ``head + i·block``; a block ``[0, block)`` counting rows ``[0, head)`` and a block
    ``[N − block, N)`` counting the rows after the last full block cover the rest.
    """
    if not 0 <= head < block:  # callers pass the first 64-byte-aligned row (< 64 ≤ MIN_BLOCK rows)
        raise ValueError(f"head must be in [0, block) = [0, {block}), got {head}")
    if head + block > n:
        head = 0
    count = (n - head) // block
    if head:
        yield 0, 0, head
    for i in range(count):
        yield head + i * block, 0, block
    end = head + count * block
    if end < n:
        yield n - block, end - (n - block), block


def _host_blocks_of(arrays: tuple[np.ndarray | None, ...], block: int) -> Iterator[tuple[tuple[Any, ...], int, int]]:
    """Device blocks of the host arrays (None stays None), with their ``lo``/``hi``."""
    n = arrays[0].shape[0]
    if n < block:
        padded = []
        for a in arrays:
            if a is None:
                padded.append(None)
                continue
            p = np.zeros((block, *a.shape[1:]), a.dtype)
            p[:n] = a
            padded.append(jax.device_put(p))
        yield tuple(padded), 0, n
        return
    for start, lo, hi in host_blocks(n, block, _first_aligned_row(arrays[0])):
        yield tuple(None if a is None else jax.device_put(a[start : start + block]) for a in arrays), lo, hi


def map_host_blocks(fn: Step, arrays: tuple[np.ndarray | None, ...], block: int) -> PyTree:
    """``fn(*blocks, lo, hi)`` for every row block of the host arrays, stacked on the host along a new axis 0.

    All blocks are dispatched before any result is read, so XLA's asynchronous dispatch overlaps them.
    """
    outs = [fn(*blocks, lo, hi) for blocks, lo, hi in _host_blocks_of(arrays, block)]
    return jax.tree_util.tree_map(lambda *leaves: np.stack([np.asarray(a) for a in leaves]), *outs)


def map_host(fn: Callable[[Array], Array], x: np.ndarray, block: int) -> np.ndarray:
    """``fn`` applied to the row blocks of the host array x, reassembled on the host: (N, ...) NumPy."""
    n = x.shape[0]
    pieces = [(fn(blocks[0]), lo, hi, start) for (blocks, lo, hi), start in _with_starts(x, block)]
    out = None
    for piece, lo, hi, start in pieces:
        values = np.asarray(piece)
        if out is None:
            out = aligned_empty((n, *values.shape[1:]), values.dtype)
        out[start + lo : start + hi] = values[lo:hi]
    return out


def _with_starts(x: np.ndarray, block: int) -> Iterator[tuple[tuple[tuple[Any, ...], int, int], int]]:
    n = x.shape[0]
    if n < block:
        for item in _host_blocks_of((x,), block):
            yield item, 0
        return
    starts = [s for s, _, _ in host_blocks(n, block, _first_aligned_row(x))]
    for item, start in zip(_host_blocks_of((x,), block), starts, strict=True):
        yield item, start


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised NumPy array whose buffer is 64-byte aligned (so ``jax.device_put`` shares it on CPU)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def map_blocks(fn: Step, arrays: tuple[Array | None, ...], block: int) -> PyTree:
    """In a traced program: ``fn(*blocks, lo, hi)`` for ⌈N/B⌉ ``dynamic_slice`` row blocks, stacked on axis 0.

    N ≤ B is one block, zero-padded to B rows as :func:`map_host_blocks` pads it (the same sums, bit for bit).
    Otherwise the last block is shifted back to end at row N and its ``lo`` skips the rows the block before
    it counted.
    """
    n = arrays[0].shape[0]
    if n <= block:
        out = fn(*(None if a is None else _pad_rows(a, block) for a in arrays), 0, n)
        return jax.tree_util.tree_map(lambda a: a[None], out)
    count = -(-n // block)

    def one(i: Array) -> PyTree:
        start = jnp.minimum(i * block, n - block)
        parts = [None if a is None else jax.lax.dynamic_slice_in_dim(a, start, block) for a in arrays]
        return fn(*parts, i * block - start, block)

    return jax.lax.map(one, jnp.arange(count))


def map_rows(fn: Callable[[Array], Array], x: Array, block: int) -> Array:
    """In a traced program: ``fn`` applied to row blocks of x and reassembled (no (N, …) temporaries of fn)."""
    n = x.shape[0]
    if n <= block:
        return fn(_pad_rows(x, block))[:n]
    count = -(-n // block)
    shape = jax.eval_shape(fn, jax.ShapeDtypeStruct((block, *x.shape[1:]), x.dtype))
    out = jnp.zeros((n, *shape.shape[1:]), shape.dtype)

    def body(i: Array, out: Array) -> Array:
        # The last block is shifted back to end at row N; its overlap is recomputed to the same values.
        start = jnp.minimum(i * block, n - block)
        return jax.lax.dynamic_update_slice_in_dim(out, fn(jax.lax.dynamic_slice_in_dim(x, start, block)), start, 0)

    return jax.lax.fori_loop(0, count, body, out)


def _pad_rows(a: Array, rows: int) -> Array:
    return a if a.shape[0] == rows else jnp.pad(a, [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1))
