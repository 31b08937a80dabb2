"""Experiment configs, lecture claims with computed verdicts, results and the Markdown report of a tour.

An experiment (a module of the ``experiments`` package) declares

* ``DESCRIPTION`` (one line) and ``SECTION`` (the syllabus section, ``"1.3"``);
* ``Config``, a frozen dataclass deriving from :class:`ExperimentConfig`, whose :meth:`~ExperimentConfig.quick`
  gives the smaller smoke-test run (the one place that decides quick mode);
* ``CLAIMS``, the lecture statements it tests, each a :class:`Claim` — a predicate over the run's metrics;
* ``compute(config) -> Result`` (numbers, tables and the claims' :class:`Verdict` s; writes no file) and
  ``figures(result, out) -> list[path]`` (draws from the result through :mod:`jaxml.plot`).

**Claims are code**: a conclusion is never typed by hand. :func:`evaluate` applies each claim's predicate to the
metrics and records the numbers it read; the verdict (*reproduced* / *not reproduced*) goes to ``results.json``
and the table that opens ``report.md``. A claim also states what the project has established about it
(``expected``; and ``quick=False`` when only the full-size run reproduces it), so the tests notice a verdict
that changes.

Example:
    >>> from jaxml.report import Claim, evaluate, table
    >>> c = Claim("gd_reaches_lstsq", "1.3", "Gradient descent reaches the least-squares optimum.",
    ...           lambda m: m["gap"] < 1e-3, reads=("gap",))
    >>> v, = evaluate([c], {"gap": 2e-5, "other": 1.0})
    >>> v.holds, v.numbers, v.verdict
    (True, {'gap': 2e-05}, 'reproduced')
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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from jaxml.io import atomic_write_text

__all__ = [
    "Claim",
    "ExperimentConfig",
    "Result",
    "Verdict",
    "claims_table",
    "evaluate",
    "metrics_table",
    "table",
    "tally",
    "to_markdown",
    "write_report",
    "write_results_json",
]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Fields every experiment takes: a seed, an output folder, and which variant this is ("full" or "quick").

    Subclasses list their own fields and, in the class variable ``QUICK``, the values their quick (smoke-test)
    variant changes; :meth:`quick` applies them. Code never branches on the variant: the quick run is just other
    values.

    Example:
        >>> @dataclasses.dataclass(frozen=True)
        ... class Config(ExperimentConfig):
        ...     epochs: int = 1000
        ...     QUICK = {"epochs": 100}
        >>> Config().quick()
        Config(seed=0, out='results', variant='quick', epochs=100)
    """

    seed: int = 0
    out: str = "results"
    variant: str = "full"

    QUICK: ClassVar[Mapping[str, Any]] = {}

    def quick(self) -> ExperimentConfig:
        """This config with the ``QUICK`` overrides applied (``variant="quick"``)."""
        return dataclasses.replace(self, variant="quick", **dict(self.QUICK))

    @property
    def is_quick(self) -> bool:
        return self.variant == "quick"

    def out_dir(self, name: str) -> Path:
        """The folder for experiment ``name``'s figures, created on demand."""
        path = Path(self.out) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


class Claim(NamedTuple):
    """A lecture statement an experiment tests, as code.

    Attributes:
        id: a short identifier, unique within the experiment.
        section: the syllabus section (SCOPE §) the statement comes from.
        statement: the lecture's claim, in words.
        predicate: ``predicate(metrics) -> bool``: whether this run's numbers show it.
        reads: the metric names the predicate reads (recorded beside the verdict).
        expected: whether the full-size run reproduces it (what the project has established; a change is a
            regression the tests catch). ``False`` documents an honest miss.
        quick: whether the quick variant reproduces it as well (``False``: only the full run shows it).
        explain: optional ``explain(metrics) -> str``, a sentence formatted from the numbers saying why the
            verdict is what it is (required in spirit for a claim that is not reproduced).
    """

    id: str
    section: str
    statement: str
    predicate: Callable[[Mapping[str, float]], bool]
    reads: tuple[str, ...] = ()
    expected: bool = True
    quick: bool = True
    explain: Callable[[Mapping[str, float]], str] | None = None


class Verdict(NamedTuple):
    """A claim evaluated on one run: ``holds`` and the numbers it read."""

    id: str
    section: str
    statement: str
    holds: bool
    numbers: dict[str, float]
    expected: bool
    detail: str

    @property
    def verdict(self) -> str:
        return "reproduced" if self.holds else "not reproduced"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "statement": self.statement,
            "holds": self.holds,
            "verdict": self.verdict,
            "expected": self.expected,
            "numbers": self.numbers,
            "detail": self.detail,
        }


def evaluate(claims: Sequence[Claim], metrics: Mapping[str, float], *, quick: bool = False) -> list[Verdict]:
    """Each claim's verdict on ``metrics``; ``expected`` is the claim's (or its ``quick`` field in a quick run).

    A predicate reading a metric the run did not produce raises ``KeyError`` naming it: a claim can never pass
    by accident.
    """
    out = []
    for c in claims:
        missing = [k for k in c.reads if k not in metrics]
        if missing:
            raise KeyError(f"claim {c.id!r} reads metrics the run did not produce: {missing}")
        holds = bool(c.predicate(metrics))
        detail = c.explain(metrics) if c.explain is not None else ""
        expected = c.expected and (c.quick or not quick)
        numbers = {k: float(metrics[k]) for k in c.reads}
        out.append(Verdict(c.id, c.section, c.statement, holds, numbers, expected, detail))
    return out


def tally(verdicts: Sequence[Verdict]) -> tuple[int, int]:
    """(reproduced, not reproduced)."""
    held = sum(v.holds for v in verdicts)
    return held, len(verdicts) - held


@dataclasses.dataclass
class Result:
    """What an experiment's ``compute`` returns.

    Attributes:
        title: a heading for the report (formatted from the run's numbers where it states any).
        summary: what the run did and found, in a few sentences formatted from its numbers (Markdown).
        metrics: our numbers, by name (floats).
        lecture: the lecture's published numbers, by the same names as in ``metrics`` where comparable.
        tables: captioned Markdown tables (use :func:`table`).
        claims: the verdicts of the experiment's lecture claims (:func:`evaluate`).
        figures: paths of the PNGs written (filled in from the experiment's ``figures``).
        data: anything else a caller may want (arrays, histories); not written to the report.
    """

    title: str
    summary: str = ""
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    lecture: dict[str, float] = dataclasses.field(default_factory=dict)
    tables: dict[str, str] = dataclasses.field(default_factory=dict)
    claims: list[Verdict] = dataclasses.field(default_factory=list)
    figures: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


def _fmt(v: Any) -> str:
    # a string is already text: "2.10" (a § number) must not become the float 2.1
    if isinstance(v, (str, bool)) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"  # e.g. "updates to reach" of a run that never reached
    if math.isnan(f):
        return str(f)
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        return f"{f:.3e}"
    return f"{f:.4g}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats get 4 significant digits."""
    cell = lambda v: _fmt(v).replace("|", "\\|")  # a bare | inside a cell (P(C₁|x)) would split it
    lines = ["| " + " | ".join(str(h).replace("|", "\\|") for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
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
    if result.claims:
        parts += ["**Lecture claims**", ""]
        for v in result.claims:
            mark = "✅ reproduced" if v.holds else "❌ not reproduced"
            detail = f" {v.detail}" if v.detail else ""
            parts.append(f"- {mark} — §{v.section} {v.statement}{detail} ({_numbers(v.numbers)})")
        parts.append("")
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
        "claims": [v.to_json() for v in result.claims],
        "figures": [str(f) for f in result.figures],
    }
    atomic_write_text(path, json.dumps(payload, indent=2, allow_nan=True))


def _numbers(numbers: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {_fmt(v)}" for k, v in numbers.items())


def claims_table(verdicts: Mapping[str, Sequence[Verdict]]) -> str:
    """The table that opens the report: experiment, §, lecture claim, verdict, the numbers behind it."""
    rows = []
    for name, vs in verdicts.items():
        for v in vs:
            mark = "✅ reproduced" if v.holds else "❌ **not reproduced**"
            rows.append([f"`{name}`", v.section, v.statement, mark, _numbers(v.numbers)])
    return table(["experiment", "§", "lecture claim", "verdict", "numbers"], rows)


def write_report(
    path: Path, sections: Sequence[str], header: str, verdicts: Mapping[str, Sequence[Verdict]] | None = None
) -> Path:
    """The tour's ``report.md``: a header, the claims table with its tally, then every experiment's section."""
    parts = [header.rstrip()]
    if verdicts:
        held, missed = tally([v for vs in verdicts.values() for v in vs])
        parts.append(f"**{held} of {held + missed} lecture claims reproduced, {missed} not reproduced.**")
        parts.append(claims_table(verdicts))
    return atomic_write_text(path, "\n\n".join(parts + list(sections)) + "\n")
