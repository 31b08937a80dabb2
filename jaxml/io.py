"""Atomic file writes: nothing jaxml writes to disk is ever half-written.

Every writer goes through :func:`atomic_write_bytes`: the bytes land in a temporary file in the destination's
own directory, are flushed and fsynced, and only then renamed over the destination (``os.replace`` is atomic on
POSIX and Windows). A crash leaves either the old file or the new one, never a torn one.

Example:
    >>> from jaxml.io import atomic_write_text
    >>> atomic_write_text("/tmp/jaxml_example.txt", "hello")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (write to a temporary sibling, fsync, rename)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))
