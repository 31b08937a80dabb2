"""Experiment configs, results and the Markdown report of a tour.

An experiment is a module with ``Config`` (a dataclass deriving from :class:`ExperimentConfig`), a one-line
``DESCRIPTION``, a ``SECTION`` of the syllabus (``"1.3"``) and ``main(config) -> Result``. This module holds
what they share: the config base, the result record, table formatting and the report writer.

Example:
    >>> from jaxml.report import Result, table
    >>> r = Result(title="Toy", summary="One number.", metrics={"mse": 0.5}, lecture={"mse": 0.6})
    >>> print(table(["a", "b"], [[1, 2.5]]))
    | a | b |
    |---|---|
    | 1 | 2.5 |
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jaxml.io import atomic_write_text


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Fields every experiment takes: a seed, ``quick`` (a smaller run for smoke tests) and an output folder."""

    seed: int = 0
    quick: bool = False
    out: str = "results"

    def out_dir(self, name: str) -> Path:
        """The folder for experiment ``name``'s figures, created on demand."""
        path = Path(self.out) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclasses.dataclass
class Result:
    """What an experiment returns.

    Attributes:
        title: a heading for the report.
        summary: what the experiment shows, in a few sentences (Markdown).
        metrics: our numbers, by name (floats).
        lecture: the lecture's published numbers, by the same names as in ``metrics`` where comparable.
        tables: captioned Markdown tables (use :func:`table`).
        figures: paths of the PNGs written.
        data: anything else a caller may want (arrays, histories); not written to the report.
    """

    title: str
    summary: str = ""
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    lecture: dict[str, float] = dataclasses.field(default_factory=dict)
    tables: dict[str, str] = dataclasses.field(default_factory=dict)
    figures: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f) or math.isinf(f):
        return str(f)
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        return f"{f:.3e}"
    return f"{f:.4g}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats get 4 significant digits."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def metrics_table(metrics: Mapping[str, float], lecture: Mapping[str, float]) -> str:
    """Our numbers with the lecture's beside them where it gives one."""
    if lecture:
        rows = [[k, _fmt(v), _fmt(lecture[k]) if k in lecture else "—"] for k, v in metrics.items()]
        return table(["quantity", "jaxml", "lecture"], rows)
    return table(["quantity", "jaxml"], [[k, _fmt(v)] for k, v in metrics.items()])


def to_markdown(name: str, result: Result, seconds: float, root: Path) -> str:
    """One experiment's section of the report; figure paths are made relative to ``root``."""
    parts = [f"## {result.title} (`{name}`)", "", result.summary.strip(), "", f"*Ran in {seconds:.1f} s.*", ""]
    if result.metrics:
        parts += [metrics_table(result.metrics, result.lecture), ""]
    for caption, tbl in result.tables.items():
        parts += [f"**{caption}**", "", tbl, ""]
    for fig in result.figures:
        rel = os.path.relpath(fig, root)
        parts += [f"![{Path(fig).stem}]({rel})", ""]
    return "\n".join(parts)


def write_results_json(path: Path, name: str, result: Result, seconds: float) -> None:
    """The numbers of one run as JSON (figures as paths), written atomically."""
    payload = {
        "name": name,
        "title": result.title,
        "seconds": seconds,
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "lecture": {k: float(v) for k, v in result.lecture.items()},
        "figures": [str(f) for f in result.figures],
    }
    atomic_write_text(path, json.dumps(payload, indent=2, allow_nan=True))


def write_report(path: Path, sections: Sequence[str], header: str) -> Path:
    """The tour's ``report.md``: a header then every experiment's section."""
    return atomic_write_text(path, header.rstrip() + "\n\n" + "\n\n".join(sections) + "\n")
