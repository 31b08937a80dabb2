"""Writing to disk: atomic file writes (nothing jaxml writes is ever half-written) and the compilation cache.

Every writer goes through :func:`atomic_write_bytes`: the bytes land in a temporary file in the destination's
own directory, are flushed and fsynced, and only then renamed over the destination (``os.replace`` is atomic on
POSIX and Windows). A crash leaves either the old file or the new one, never a torn one. The file gets the mode
an ordinary ``open(path, "w")`` would give it (0o666 less the umask), not the temporary file's private 0o600,
and an ``OSError`` names the destination (a full disk's ``write`` error names no file by itself).

Example:
    >>> from jaxml.io import atomic_write_text
    >>> atomic_write_text("/tmp/jaxml_example.txt", "hello")
    PosixPath('/tmp/jaxml_example.txt')
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV",
    "DirectoryInUse",
    "LOCK_FILE",
    "atomic_write_bytes",
    "atomic_write_text",
    "compilation_cache_dir",
    "enable_compilation_cache",
    "exclusive",
]

#: The lock file :func:`exclusive` holds in a folder (it records the holder's host and process id).
LOCK_FILE = ".jaxml.lock"


class _Terminated(BaseException):
    """SIGTERM arrived during an atomic write (a BaseException, so no ``except Exception`` swallows it)."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (write to a temporary sibling, fsync, rename).

    The file's mode is 0o666 & ~umask, as for any file the process creates (:func:`_umask`). An ``OSError``
    (``ENOSPC``, ``EROFS``, ``EACCES`` …) propagates with its ``filename`` set to the destination, so the
    message names the file that could not be written rather than its temporary sibling or nothing.

    A SIGTERM that arrives during the write (a scheduler stopping the job) would, with the default handler,
    kill the process without any cleanup and leave the temporary file behind. In the main thread, while
    SIGTERM has its default action, the write turns it into an exception for its duration: the temporary
    file is removed, the default action is put back and the signal delivered again, so the process still
    ends by SIGTERM, leaving the old destination (or, if the rename had happened, the new one) and nothing
    else. A handler the program installed itself is left alone (it runs as Python code, so whatever it
    raises passes through the cleanup below).

    Args:
        path: the destination file; its parent folders are created if missing.
        data: the bytes to write (``bytes``, ``bytearray`` or ``memoryview``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        TypeError: if ``data`` is not bytes-like (e.g. a ``str``: use :func:`atomic_write_text`).
        OSError: if the file cannot be written (the error's ``filename`` is then ``path``, not the temporary
            file) or its folder cannot be created.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    caught = _catch_sigterm()
    terminated = False
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            _chmod(f.fileno(), tmp, 0o666 & ~_umask())  # mkstemp's 0o600 is for the temporary name, not the result
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        terminated = isinstance(err, _Terminated)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename in (None, tmp):
            err.filename = str(path)  # the same exception (type, traceback), naming the file meant to be written
        if not terminated:
            raise
    finally:
        if caught:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if terminated:
        signal.raise_signal(signal.SIGTERM)  # the default action: the process ends here
    return path


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (``Umask:`` in /proc/self/status,
    kernel ≥ 4.7).

    Elsewhere ``os.umask`` is the only way to read it, and it writes as it reads: it is set to 0o077 and put back
    at once, under a lock so that jaxml's own writers never see each other's interim value. Another thread of the
    program creating a file in that instant would get 0o077 (more private, never more open). It is read at every
    write, not once at import, so a umask the program sets later is honoured.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _chmod(fd: int, path: str, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # pragma: no cover - Windows has no fchmod (and no umask bits beyond read-only)
        os.chmod(path, mode)


def _catch_sigterm() -> bool:
    """Make SIGTERM raise :class:`_Terminated` if it has its default action and this is the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    try:
        signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # signals unavailable here (an embedded interpreter)
        return False
    return True


class DirectoryInUse(RuntimeError):
    """Another live process holds the folder's lock (:func:`exclusive`)."""


@contextlib.contextmanager
def exclusive(directory: str | os.PathLike, what: str) -> Iterator[Path]:
    """Hold ``directory``'s writer lock for the duration of the block: one writer per folder.

    The lock is an ``fcntl.flock`` on ``directory/.jaxml.lock`` (which also records the holder's host and
    process id, for the message). The operating system drops it when the process ends in any way, SIGKILL
    included, so a killed run never leaves a stale lock behind: the next run takes it and resumes. Where
    ``fcntl`` does not exist (Windows) the block runs without a lock.

    Args:
        directory: the folder to guard (created if missing).
        what: how the caller names the folder in the error, e.g. ``"checkpoint_dir"`` or ``"--out"``.

    Yields:
        ``directory`` as a :class:`~pathlib.Path`, while the lock is held.

    Raises:
        DirectoryInUse: if another live process holds the lock; the message names the folder and that process.
        OSError: if the folder cannot be created or the lock file cannot be opened (e.g. read-only).

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with exclusive(d, "checkpoint_dir"):
        ...     with exclusive(d, "checkpoint_dir"):
        ...         pass
        Traceback (most recent call last):
        ...
        jaxml.io.DirectoryInUse: checkpoint_dir ... is in use by another writer ...
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield Path(directory)
        return
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise DirectoryInUse(
                f"{what} {directory} is in use by another writer ({holder}); two runs writing one folder "
                f"would overwrite each other. Wait for it to finish or choose another {what}."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}".encode(), 0)
        yield directory
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_write_bytes`).

    Args:
        path: the destination file; its parent folders are created if missing.
        text: the text to write, encoded as UTF-8.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: if the file cannot be written (the error's ``filename`` is then ``path``, not the temporary
            file) or its folder cannot be created.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


#: The environment variable that moves (``=DIR``) or turns off (``=0``) the compilation cache.
CACHE_ENV = "JAXML_COMPILATION_CACHE"


def compilation_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where JAX's persistent compilation cache lives for jaxml's command lines, or None when turned off.

    ``JAXML_COMPILATION_CACHE=DIR`` chooses the folder and ``=0`` (or ``off``) turns the cache off; the default
    is ``$XDG_CACHE_HOME/jaxml/jax`` (``~/.cache/jaxml/jax``).

    Args:
        environ: the environment to read; ``None`` reads ``os.environ``.

    Returns:
        The folder as a :class:`~pathlib.Path` (``~`` expanded), or ``None`` when the cache is turned off
        (``0``, ``off``, ``false`` or ``no``, in any case).

    Example:
        >>> compilation_cache_dir({"JAXML_COMPILATION_CACHE": "0"}) is None
        True
        >>> str(compilation_cache_dir({"JAXML_COMPILATION_CACHE": "/tmp/c"}))
        '/tmp/c'
    """
    environ = os.environ if environ is None else environ
    value = environ.get(CACHE_ENV, "").strip()
    if value.lower() in ("0", "off", "false", "no"):
        return None
    if value:
        return Path(value).expanduser()
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxml" / "jax"


def enable_compilation_cache(directory: str | os.PathLike | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache (for the CLI and benchmarks), so a second run of the same
    programs loads them from disk instead of compiling again. Returns the folder, or None when turned off.

    ``directory`` defaults to :func:`compilation_cache_dir`. Programs that compile in under 0.1 s are not
    cached (reading them back would cost as much).

    Args:
        directory: the cache folder (created if missing); ``None`` for :func:`compilation_cache_dir`.

    Returns:
        The cache folder as a :class:`~pathlib.Path`, or ``None`` when the environment turns the cache off.

    Raises:
        OSError: if the folder cannot be created.
    """
    import jax

    path = Path(directory) if directory is not None else compilation_cache_dir()
    if path is None:
        return None
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
