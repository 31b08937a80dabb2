"""The Sphinx extension that makes the book agree with the code.

When the configuration is read it writes one API page per module (``docs/api/``) from
:func:`apiref.api_modules` and each module's ``__all__``, so a new public name is documented by adding it to
``__all__``. When the builder starts it runs the quick tour, ``python -m experiments all --quick --out
docs/_tour``: every lecture page embeds numbers computed from the code being documented.
``JAXML_DOCS_TOUR=reuse`` keeps a tour already in ``docs/_tour`` (for editing prose); CI always runs it afresh.

Directives, for MyST pages:

* ``{experiment} NAME`` — an experiment's computed result: its title and summary, the claims table with each
  verdict, its numbers beside the lecture's, its tables and figures;
* ``{tour-summary}`` — the tally and the claims table of the whole tour;
* ``{benchmark} NAME`` — a benchmark's recorded output (``benchmarks/results/NAME.json``, written by
  ``python -m benchmarks.record NAME``), with its date, machine and command.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import apiref
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
TOUR = DOCS / "_tour"
API = DOCS / "api"
BENCH_RESULTS = ROOT / "benchmarks" / "results"


# --------------------------------------------------------------------------------------------------- API pages
def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _module_page(name: str) -> str:
    import importlib

    module = importlib.import_module(name)
    names = apiref.documented_names(module)
    groups: dict[str, list[str]] = {}
    for attr in names:
        home = getattr(getattr(module, attr), "__module__", None)
        # a re-exported function or class is grouped under the submodule that defines it
        groups.setdefault(home if isinstance(home, str) and home.startswith(name + ".") else name, []).append(attr)
    lines = [f"# `{name}`", "", "```{eval-rst}", f".. automodule:: {name}", "   :no-members:", "", "```", ""]
    for home, attrs in groups.items():
        if home != name:
            import importlib

            sub = importlib.import_module(home)
            title = home.rpartition(".")[2].lstrip("_")
            lines += [f"## {title}", "", _first_line(sub), ""]
        elif len(groups) > 1:
            lines += ["## Other names", ""]
        lines += ["```{eval-rst}", f".. currentmodule:: {name}", "", ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {attr}" for attr in attrs]
        lines += ["```", ""]
    return "\n".join(lines)


def write_api_pages() -> list[str]:
    """Write ``docs/api/<module>.md`` for every documented module and the index; returns the module names."""
    modules = apiref.api_modules()
    API.mkdir(exist_ok=True)
    index = [
        "# API reference",
        "",
        "Every public name of every module, from its docstring (Google style: `Args`, `Returns`, `Raises`, and "
        "an example that runs as a doctest). A module's public names are its `__all__`.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *modules,
        "```",
        "",
    ]
    pages = {"index": "\n".join(index), **{m: _module_page(m) for m in modules}}
    for stem, text in pages.items():
        path = API / f"{stem}.md"
        if not path.exists() or path.read_text() != text:  # unchanged pages keep their timestamps
            path.write_text(text)
    return modules


# --------------------------------------------------------------------------------------------------- the tour
def run_tour() -> None:
    """The quick tour into ``docs/_tour`` (its report and results.json files), unless asked to reuse one."""
    if os.environ.get("JAXML_DOCS_TOUR") == "reuse" and (TOUR / "report.md").exists():
        logger.info("jaxml: reusing the tour in %s (JAXML_DOCS_TOUR=reuse)", TOUR)
        return
    command = [sys.executable, "-m", "experiments", "all", "--quick", "--out", str(TOUR)]
    logger.info("jaxml: running the quick tour: %s", " ".join(command[1:]))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    (DOCS / "_build").mkdir(exist_ok=True)
    (DOCS / "_build" / "tour.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise ExtensionError(f"the quick tour failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def _results(name: str) -> dict:
    path = TOUR / name / "results.json"
    if not path.exists():
        raise ExtensionError(f"{path} is missing: the tour did not run experiment {name!r}")
    return json.loads(path.read_text())


def _fmt(value) -> str:
    from jaxml.report import table

    # jaxml.report's number format (4 significant digits), through a one-cell table
    return table(["v"], [[value]]).splitlines()[-1][2:-2]


def _evidence(claim: dict) -> str:
    from jaxml.report import MIN_REPLICATES

    e = claim.get("evidence")
    if not e:
        return "exact"
    few = f"; too few replicates to be reproduced (n < {MIN_REPLICATES})" if e["n"] < MIN_REPLICATES else ""
    return f"{e['held']}/{e['n']} held; {_fmt(e['mean'])} ± {_fmt(e['se'])} (bar {e['bar']:.3g} SE){few}"


def _full_size_only(name: str | None) -> set[str]:
    """The ids of the claims an experiment declares ``quick=False``: only its full-size run is expected to
    reproduce them, so a quick tour's verdict on them says little."""
    if name is None:
        return set()
    import experiments

    return {c.id for c in experiments.load(name).CLAIMS if not c.quick}


def _claims_rows(name: str | None, claims: list[dict], experiment: str | None = None) -> list[list[str]]:
    rows = []
    full_only = _full_size_only(name or experiment)
    for c in claims:
        verdict = "✅ reproduced" if c["holds"] else "❌ **not reproduced**"
        if c["id"] in full_only:
            verdict += " (a full-size claim: the quick run is too small to judge it)"
        statement = c["statement"] + (f" *This run:* {c['detail']}" if c.get("detail") else "")
        numbers = ", ".join(f"{k} = {_fmt(v)}" for k, v in c["numbers"].items())
        link = f"{{ref}}`§{c['section']} <course-{c['section'].replace('.', '-')}>`"
        row = [link, statement, verdict, _evidence(c), numbers]
        rows.append(([f"`{name}`"] if name else []) + row)
    return rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    )


def experiment_markdown(name: str) -> str:
    """One experiment's computed result as MyST Markdown."""
    r = _results(name)
    prov = r.get("provenance") or {}
    parts = [
        f"**{r['title']}** — computed by `python -m experiments {name} --quick` while this page was built "
        f"({r['seconds']:.1f} s, jaxml commit {prov.get('git_commit') or prov.get('commit') or 'unknown'}).",
        "",
        r.get("summary", "").strip(),
        "",
    ]
    if r["claims"]:
        header = ["§", "lecture claim", "verdict", "evidence (replicates)", "numbers"]
        parts += [_markdown_table(header, _claims_rows(None, r["claims"], experiment=name)), ""]
    if r["metrics"]:
        parts += ["**Every number of this run**" + (", beside the lecture's" if r.get("lecture") else ""), ""]
        lecture = r.get("lecture") or {}
        if lecture:
            rows = [[k, _fmt(v), _fmt(lecture[k]) if k in lecture else "—"] for k, v in r["metrics"].items()]
            parts += [_markdown_table(["quantity", "jaxml", "lecture"], rows), ""]
        else:
            parts += [_markdown_table(["quantity", "jaxml"], [[k, _fmt(v)] for k, v in r["metrics"].items()]), ""]
    for caption, tbl in (r.get("tables") or {}).items():
        parts += [f"**{caption}**", "", tbl, ""]
    for fig in r["figures"]:
        rel, stem = Path(fig).name, Path(fig).stem.replace("_", " ")
        parts += [f"```{{figure}} /_tour/{name}/{rel}", f":alt: {name}: {stem}", "", f"`{name}`: {stem}", "```", ""]
    return "\n".join(parts)


def tour_summary_markdown() -> str:
    """The tally and claims table of every experiment of the tour, in syllabus order."""
    import experiments

    rows, held, total = [], 0, 0
    for name in experiments.names():
        claims = _results(name)["claims"]
        held += sum(c["holds"] for c in claims)
        total += len(claims)
        rows += _claims_rows(name, claims)
    header = ["experiment", "§", "lecture claim", "verdict", "evidence (replicates)", "numbers"]
    tally = f"**{held} of {total} lecture claims reproduced** by this build's quick tour."
    return "\n".join([tally, "", _markdown_table(header, rows)])


# --------------------------------------------------------------------------------------------------- benchmarks
def benchmark_markdown(name: str) -> str:
    """A benchmark's recorded run: what ran where and when, then its own output (Markdown tables)."""
    path = BENCH_RESULTS / f"{name}.json"
    if not path.exists():
        raise ExtensionError(f"{path} is missing: run `python -m benchmarks.record {name}`")
    rec = json.loads(path.read_text())
    m = rec["machine"]
    head = (
        f"*`{rec['command']}`, {rec['date']}, on {m['cpu']} ({m['cores']} cores, {m['device']}), "
        f"JAX {m['jax']}, jaxml commit {rec.get('commit') or 'unknown'}; ran {rec['seconds']:.0f} s.*"
    )
    blocks = [b for b in rec["output"].strip().split("\n\n") if b.strip()]
    parts = [head]
    for block in blocks:
        runs: list[tuple[bool, list[str]]] = []  # (is a Markdown table, its lines), in order
        for line in block.strip("\n").splitlines():
            table = line.lstrip().startswith("|")
            if runs and runs[-1][0] == table:
                runs[-1][1].append(line)
            else:
                runs.append((table, [line]))
        for table, lines in runs:
            if table:
                parts.append("\n".join(line.strip() for line in lines))  # a Markdown table, rendered as one
            else:
                parts.append("```text\n" + "\n".join(lines) + "\n```")  # aligned text stays as printed
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------------- directives
class _MarkdownDirective(SphinxDirective):
    """A directive whose body is Markdown computed at build time, parsed as if written on the page."""

    def markdown(self) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        text = self.markdown()
        container = nodes.container(classes=[f"jaxml-{self.name}"])
        self.state.nested_parse(StringList(text.splitlines(), source=self.get_source_info()[0]), 0, container)
        return [container]


class ExperimentDirective(_MarkdownDirective):
    required_arguments = 1
    option_spec = {"class": directives.class_option}

    def markdown(self) -> str:
        self.env.note_dependency(str(TOUR / self.arguments[0] / "results.json"))
        return experiment_markdown(self.arguments[0])


class TourSummaryDirective(_MarkdownDirective):
    def markdown(self) -> str:
        return tour_summary_markdown()


class BenchmarkDirective(_MarkdownDirective):
    required_arguments = 1

    def markdown(self) -> str:
        self.env.note_dependency(str(BENCH_RESULTS / f"{self.arguments[0]}.json"))
        return benchmark_markdown(self.arguments[0])


def _skip_fields(app, what, name, obj, skip, options):
    # a NamedTuple's fields are described by the class's ``Attributes:`` section: documenting their getters
    # ("Alias for field number 0") as members too would declare each twice
    if what == "class" and type(obj).__name__ == "_tuplegetter":
        return True
    return None


def _constant_doc(app, what, name, obj, options, lines) -> None:
    """A re-exported constant's ``#:`` comment sits in the module that defines it, which autodoc does not read:
    without this, ``jaxml.curvature.KINDS`` would show the docstring of ``tuple``."""
    if what not in ("data", "attribute") or inspect.isclass(obj) or inspect.isroutine(obj):
        return
    own = "\n".join(lines).strip()
    if own and own != (inspect.getdoc(type(obj)) or "").strip():
        return
    from sphinx.pycode import ModuleAnalyzer

    package, _, attr = name.rpartition(".")
    for modname in [package] + sorted(m for m in sys.modules if m.startswith(package + ".")):
        module = sys.modules.get(modname)
        if module is None or getattr(module, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # noqa: BLE001 -- a module without source: keep looking
            continue
        if ("", attr) in docs:
            lines[:] = list(docs[("", attr)])
            return
    lines[:] = []  # never the builtin type's docstring


def _config_inited(app: Sphinx, config) -> None:
    # before Sphinx lists the source files, so the pages are read; and named to autosummary, which otherwise
    # looks for pages to generate stubs from only among those an earlier (incremental) build found
    modules = write_api_pages()
    config.autosummary_generate = [f"api/{m}.md" for m in modules]


def _builder_inited(app: Sphinx) -> None:
    run_tour()


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("autodoc-skip-member", _skip_fields)
    app.connect("autodoc-process-docstring", _constant_doc)
    app.add_directive("experiment", ExperimentDirective)
    app.add_directive("tour-summary", TourSummaryDirective)
    app.add_directive("benchmark", BenchmarkDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
