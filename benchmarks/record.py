"""Run a benchmark and record its output for the documentation: ``python -m benchmarks.record NAME [ARGS ...]``.

Runs ``python -m benchmarks.NAME ARGS`` in a fresh process, shows its output as it goes, and writes
``benchmarks/results/NAME.json``: the command, the date (UTC), the machine (CPU model, cores, JAX's device),
the package versions, the git commit, the wall time and the benchmark's own output (its Markdown tables). The
docs' benchmarks page renders these files (``{benchmark} NAME``), so what it shows is what a run printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from jaxml.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str | int]:
    """What the numbers were measured on."""
    import jax

    dev = jax.devices()[0]
    return {
        "cpu": _cpu(),
        "cores": os.cpu_count() or 0,
        "device": dev.platform if dev.device_kind.lower() == dev.platform else f"{dev.platform} ({dev.device_kind})",
        "jax": jax.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
        return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.record", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a benchmark module of benchmarks/ (e.g. optim, train, curvature)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    if not (Path(__file__).parent / f"{args.name}.py").exists() or args.name.startswith("_") or args.name == "record":
        parser.error(f"no benchmark named {args.name!r}")
    command = [sys.executable, "-m", f"benchmarks.{args.name}", *args.args]
    start = time.perf_counter()
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if proc.returncode != 0:
        print(f"benchmark failed (exit {proc.returncode}); nothing recorded", file=sys.stderr)
        return proc.returncode
    record = {
        "name": args.name,
        "command": " ".join(["python -m", f"benchmarks.{args.name}", *args.args]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "commit": _commit(),
        "seconds": time.perf_counter() - start,
        "output": "".join(lines),
    }
    path = atomic_write_text(RESULTS / f"{args.name}.json", json.dumps(record, indent=2) + "\n")
    print(f"recorded {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
