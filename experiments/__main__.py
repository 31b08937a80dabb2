"""``python -m experiments list | all | <name> [--quick] [--out DIR] [--seed N] [--set field=value ...]``.

From an installed wheel the same command is ``python -m jaxml.experiments`` (the repository's ``experiments/``
ships as the subpackage ``jaxml.experiments``, so a wheel adds no generic top-level package).

Every argument is checked before anything runs, so a run that cannot start writes nothing: a bad ``--out``,
``--seed`` or ``--set`` (a value outside the field's declared domain, :meth:`ExperimentConfig.validate`) is an
argparse error (exit status 2, no traceback). ``--set seed=N`` is ``--seed N``: one path, one range check.

Then, before any experiment runs, the compilation cache folder is made, ``--out`` is locked against a second
writer (:func:`jaxml.io.exclusive`) and a probe file is written and removed there. An expected failure of the
environment — at that point or later (a full disk, a read-only file system, a name too long, a missing data
file of the installed package) — is one line on stderr, ``error: …`` naming the path, and exit status 2.

A run whose numbers are not finite (training diverged: a learning rate far too large) is reported as its
result: every claim *not reproduced*, saying where it diverged; ``results.json`` never holds a bare NaN.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib
import os
import sys
import tempfile
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jaxml
from jaxml.io import CACHE_ENV, DirectoryInUse, compilation_cache_dir, enable_compilation_cache, exclusive
from jaxml.report import (
    MAX_SEED,
    MIN_REPLICATES,
    ExperimentConfig,
    Result,
    Verdict,
    bar,
    nonfinite,
    provenance,
    tally,
    to_markdown,
    write_report,
    write_results_json,
)

HEADER = """# jaxml experiment report

Each section reproduces one result of Hung-yi Lee's ML lectures with jaxml ({variant} run, {seeds}). The table
below lists every lecture claim the experiments test, with the verdict computed from this run's numbers. An
exact claim (an identity or a construction) is checked on its numbers; an empirical one is replicated over
seeds, starts, splits or draws and is reproduced only when, over at least {min_n} replicates, its mean effect
exceeds {bar:g} standard errors (a higher bar where the claim is the best of several sizes or models). Numbers
marked *lecture* are the lecture's published ones.

Produced by jaxml {jaxml} (commit {commit}) with JAX {jax}, jaxlib {jaxlib}, Optax {optax}, NumPy {numpy} on
{device} ({platform}); every `results.json` holds its whole config and this provenance.
"""

DEFAULT_OUT = Path("results")

# This package, imported by whichever name ran it: ``experiments`` from a checkout, ``jaxml.experiments`` from
# a wheel. The functions look ``experiments.run`` up at call time, so a test can stand in for it.
experiments = importlib.import_module(__package__ or "experiments")
PROG = f"python -m {experiments.__name__}"


def _seed(text: str) -> int:
    """``--seed`` (and ``--set seed=``): an integer in the domain every ``Config.seed`` declares."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    try:
        ExperimentConfig.domains()["seed"].validate(value, "the seed")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def _out(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder, got an empty string")
    path = Path(text)
    for parent in (path, *path.parents):
        try:
            exists = parent.exists()
        except OSError as err:  # a component longer than the file system allows (ENAMETOOLONG), ELOOP …
            raise argparse.ArgumentTypeError(f"{str(parent)!r}: {err.strerror}") from None
        if exists:
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{str(parent)!r} exists and is not a folder")
            break
    return path


def _parse_scalar(kind: Any, text: str) -> Any:
    if kind is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind in (int, float, str):
        return kind(text)
    raise ValueError(f"fields of type {kind} cannot be set from the command line")


def parse_value(kind: Any, text: str) -> Any:
    """``text`` as a value of the annotated type ``kind``: int, float, bool, str, ``X | None`` or
    ``tuple[X, ...]`` (comma-separated).

    A bool is ``true``/``false``, ``1``/``0`` or ``yes``/``no`` and ``None`` is ``none``, in any case; a str is
    the text as given (``=`` and ``,`` included); formatting a value with ``str``/``repr`` (tuples joined by
    commas) and parsing it gives the value back.

    Raises:
        ValueError: ``text`` is not a value of ``kind`` (a fixed-length tuple with another count, a bool spelt
            otherwise), or ``kind`` cannot be set from the command line.
    """
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if text.lower() == "none" and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return parse_value(inner, text)
    if origin is tuple:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse_scalar(args[0], t) for t in items)
        if len(items) != len(args):
            raise ValueError(f"expected {len(args)} comma-separated values, got {len(items)}")
        return tuple(_parse_scalar(a, t) for a, t in zip(args, items))
    return _parse_scalar(kind, text)


def apply_overrides(config: ExperimentConfig, overrides: Sequence[tuple[str, str]]) -> ExperimentConfig:
    """``config`` with each (field, text) override parsed to the field's type (:func:`parse_value`) and validated.

    Raises:
        ValueError: an unknown field (``out`` and ``variant`` are not settable), naming it and the settable ones;
            a text that does not parse, as ``--set field=text: …``; a value outside the field's domain, as
            ``--set (experiment): field must be …, got …``.
    """
    hints = typing.get_type_hints(type(config))
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {}
    for name, text in overrides:
        if name not in fields or name in ("out", "variant"):
            settable = sorted(fields - {"out", "variant"})
            raise ValueError(f"unknown field {name!r} for {type(config).__module__}.Config; fields: {settable}")
        try:
            changes[name] = parse_value(hints[name], text)
        except ValueError as err:
            raise ValueError(f"--set {name}={text}: {err}") from None
    try:
        return dataclasses.replace(config, **changes)  # validates every field against its declared domain
    except (TypeError, ValueError) as err:
        experiment = type(config).__module__.rpartition(".")[2]
        raise ValueError(f"--set ({experiment}): {err}") from None


def _overrides(items: Sequence[str]) -> list[tuple[str, str]]:
    """``--set`` items as (field, value), split at the *first* ``=`` (a value may hold ``=``), both stripped.

    Raises:
        argparse.ArgumentTypeError: an item without ``=`` or with an empty field name.
    """
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"--set takes field=value, got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _the_seed(args: argparse.Namespace, overrides: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]]]:
    """The seed of the run and the other overrides: ``--set seed=N`` is ``--seed N`` (the same check; given
    once). ``NAME.seed=N`` with ``all`` stays an override of that experiment's config (checked by its domain)."""
    given = [value for field, value in overrides if field == "seed"]
    rest = [(field, value) for field, value in overrides if field != "seed"]
    if len(given) + (args.seed is not None) > 1:
        got = [f"--seed {args.seed}"] * (args.seed is not None) + [f"--set seed={v}" for v in given]
        raise ValueError(f"the seed is given more than once ({', '.join(got)}): use one --seed N or one --set seed=N")
    if given:
        try:
            return _seed(given[0]), rest
        except argparse.ArgumentTypeError as err:
            raise ValueError(f"--set seed={given[0]}: {err}") from None
    return (0 if args.seed is None else args.seed), rest


def _configs(todo: Sequence[str], args: argparse.Namespace) -> dict[str, ExperimentConfig]:
    """Every experiment's config, overrides applied and validated.

    Every config gets the run's seed (``--seed``, 0 included; 0 when not given). With several experiments
    (``all``) ``NAME.field`` changes NAME's config only and a bare ``field`` every config that has that field;
    an override no experiment that runs takes is a ``ValueError``.
    """
    seed, overrides = _the_seed(args, _overrides(args.set or []))
    configs = {}
    used = set()
    for name in todo:
        module = experiments.load(name)
        config = module.Config(seed=seed, out=str(args.out))
        config = config.quick() if args.quick else config
        mine = []
        for i, (field, value) in enumerate(overrides):
            target, dot, bare = field.rpartition(".")
            if dot and target != name:
                continue
            if not dot and len(todo) > 1 and bare not in {f.name for f in dataclasses.fields(config)}:
                continue
            mine.append((bare, value))
            used.add(i)
        configs[name] = apply_overrides(config, mine)
    unused = [f"{overrides[i][0]}={overrides[i][1]}" for i in range(len(overrides)) if i not in used]
    if unused:
        raise ValueError(
            f"--set {', '.join(unused)}: no experiment that runs has that field (NAME.FIELD targets one "
            "experiment; an unknown field of one experiment lists its fields)"
        )
    return configs


def diverged_result(name: str, config: ExperimentConfig, reason: str) -> Result:
    """The result of a run whose numbers are not finite: no claim is judged on them, each is *not reproduced*
    and says why (``reason``: where the run diverged)."""
    module = experiments.load(name)
    expected = lambda c: c.expected and (c.quick or not config.is_quick)
    detail = f"Not reproduced: {reason}."
    claims = [Verdict(c.id, c.section, c.statement, False, {}, expected(c), detail) for c in module.CLAIMS]
    held, missed = tally(claims)
    return Result(
        title=f"{module.DESCRIPTION} — the run diverged",
        summary=(
            f"This run's numbers are not finite: {reason}. No lecture claim is judged on them: {held} of "
            f"{held + missed} reproduced. To rerun, try a smaller learning rate (the defaults: drop the `--set`)."
        ),
        claims=claims,
    )


def _diverged_reason(err: FloatingPointError) -> str:
    epoch = getattr(err, "epoch", None)
    if epoch is not None:  # jaxml.train.DivergenceError
        return f"training diverged at epoch {epoch} (a non-finite loss or gradient at step {err.step})"
    return f"the run diverged ({err})"


def _run_one(name: str, config: ExperimentConfig, prov: dict[str, Any]) -> tuple[str, Result, float]:
    module = experiments.load(name)
    print(f"== {name}: {module.DESCRIPTION}", flush=True)
    start = time.perf_counter()
    reason = None
    try:
        result = experiments.run(name, config)
    except FloatingPointError as err:  # DivergenceError, NonFiniteEffects: the numbers are not numbers
        reason = _diverged_reason(err)
    else:
        where = nonfinite({"metrics": result.metrics, "lecture": result.lecture, "replicates": result.replicates})
        if where is not None:  # a run that diverged without raising: its verdicts would read NaN
            reason = f"the run diverged ({where})"
    if reason is not None:
        result = diverged_result(name, config, reason)
        print(f"   {reason}: no claim is judged on this run", flush=True)
    seconds = time.perf_counter() - start
    out = Path(config.out)
    write_results_json(out / name / "results.json", name, result, seconds, config, prov)
    for v in result.claims:
        evidence = f"  ({v.evidence.describe()})" if v.evidence is not None else ""
        print(f"   [{'reproduced' if v.holds else 'NOT reproduced'}] {v.statement}{evidence}")
    print(f"   {len(result.figures)} figure(s) in {out / name}  [{seconds:.1f} s]", flush=True)
    return to_markdown(name, result, seconds, out), result, seconds


def _header(configs: dict[str, ExperimentConfig], prov: dict[str, Any], *, quick: bool) -> str:
    """The report's header, read from the configs that ran (after ``--set``) and the provenance."""
    seeds = sorted({c.seed for c in configs.values()})
    if len(seeds) == 1:
        seed_text = f"seed {seeds[0]}"
    else:
        seed_text = "seeds " + ", ".join(f"{n} {c.seed}" for n, c in configs.items())
    packages = prov["packages"]
    device = prov["device"]
    return HEADER.format(
        variant="quick" if quick else "full-size",
        seeds=seed_text,
        bar=bar(1),
        min_n=MIN_REPLICATES,
        jaxml=packages["jaxml"],
        commit=prov["git_commit"] or "none: not a git checkout",
        jax=packages["jax"],
        jaxlib=packages["jaxlib"],
        optax=packages["optax"],
        numpy=packages["numpy"],
        device=f"{device['count']} × {device['kind']}",
        platform=prov["platform"],
    )


def _inside(path: str | os.PathLike, folder: Path) -> bool:
    try:
        return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
    except (TypeError, ValueError):
        return False


def describe_os_error(err: OSError, out: Path, *, setting_up: bool = False) -> str:
    """One line for an expected OS error: the path it names, the system's reason, and what the path is
    (``--out``, a data file of the installed package). ``setting_up``: it happened while making, locking or
    probing ``out``, before any experiment ran."""
    reason = (err.strerror or str(err)) + (f" [{errno.errorcode[err.errno]}]" if err.errno in errno.errorcode else "")
    path = os.fsdecode(err.filename) if err.filename is not None else None
    if setting_up:
        where = "" if path is None or os.path.abspath(path) == os.path.abspath(out) else f"{path}: "
        return f"--out {out} cannot be written: {where}{reason}"
    if path is None:
        return f"{reason} (while writing under --out {out})"
    hint = ""
    if _inside(path, Path(jaxml.__file__).parent):
        hint = " (a file of the installed jaxml package is missing or unreadable: reinstall jaxml)"
    elif _inside(path, out):
        hint = f" (under --out {out})"
    return f"{path}: {reason}{hint}"


def _probe(out: Path) -> None:
    """Write and remove a file in ``out``: a folder that cannot be written fails here, before hours of work."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".jaxml-probe.", dir=out)
        try:
            os.write(fd, b"jaxml")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(out)) from err


def _enable_cache(parser: argparse.ArgumentParser) -> None:
    try:
        enable_compilation_cache()
    except OSError as err:
        where = os.fsdecode(err.filename) if err.filename is not None else compilation_cache_dir()
        why = "it is a file, not a folder" if os.path.isfile(where) else (err.strerror or str(err))
        _fail(
            parser,
            f"{CACHE_ENV}: the compilation cache folder {where} cannot be made ({why}); point "
            f"{CACHE_ENV} at a folder, or set it to 0 to turn the cache off",
        )


def _fail(parser: argparse.ArgumentParser, message: str) -> None:
    """Exit with status 2 and one line on stderr (``error: …``), as an argument error does."""
    parser.exit(2, f"error: {' '.join(message.split())}\n")


def _tour(todo: Sequence[str], configs: dict[str, ExperimentConfig], out: Path, *, quick: bool) -> None:
    prov = provenance()
    sections, verdicts, total = [], {}, 0.0
    for name in todo:
        section, result, seconds = _run_one(name, configs[name], prov)
        sections.append(section)
        verdicts[name] = result.claims
        total += seconds
    header = _header(configs, prov, quick=quick)
    report = write_report(out / "report.md", sections, header + f"\nTotal experiment time: {total:.0f} s.\n", verdicts)
    flat: list[Verdict] = [v for vs in verdicts.values() for v in vs]
    held, _ = tally(flat)
    print(f"claims: {held} of {len(flat)} reproduced; report: {report}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run jaxml's lecture experiments. 'list' shows them; 'all' runs the tour and writes "
        "DIR/report.md; any other name runs one experiment. JAX's compilation cache is kept in "
        "~/.cache/jaxml/jax (JAXML_COMPILATION_CACHE=DIR moves it, =0 turns it off).",
    )
    parser.add_argument("name", help="'list', 'all', or an experiment name")
    parser.add_argument("--quick", action="store_true", help="the smaller smoke-test variant of each experiment")
    parser.add_argument("--out", type=_out, default=None, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=_seed, default=None, help=f"PRNG seed in [0, {MAX_SEED}] (default: 0)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="override a Config field (repeatable; tuples comma-separated; NAME.FIELD with 'all'; seed=N is --seed N)",
    )
    args = parser.parse_args(argv)

    if args.name == "list":
        options = {
            **{f"--set {item}": True for item in args.set or []},
            f"--seed {args.seed}": args.seed is not None,
            f"--out {args.out}": args.out is not None,
            "--quick": args.quick,
        }
        given = [option for option, present in options.items() if present]
        if given:  # silently ignored options would look applied
            parser.error(f"'list' runs nothing, so {', '.join(given)} would be ignored: leave the options out")
        try:
            for name in experiments.names():
                module = experiments.load(name)
                print(f"{name:<32} §{module.SECTION:<5} {module.DESCRIPTION}", flush=True)
        except BrokenPipeError:  # `... list | head`: the reader has all it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- keeps the interpreter's final flush quiet
        return 0

    out = args.out = DEFAULT_OUT if args.out is None else args.out
    try:
        todo = experiments.names() if args.name == "all" else [experiments.load(args.name) and args.name]
        configs = _configs(todo, args)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as err:
        parser.error(str(err))
    except OSError as err:  # a Config's domain reads a data file of the package (e.g. COVID's feature names)
        _fail(parser, describe_os_error(err, out))
    _enable_cache(parser)
    setting_up = True
    try:
        with exclusive(out, "--out"):  # a second run writing this folder stops here, before it writes anything
            _probe(out)
            setting_up = False
            _tour(todo, configs, out, quick=args.quick)
    except DirectoryInUse as err:
        _fail(parser, str(err))
    except OSError as err:
        _fail(parser, describe_os_error(err, out, setting_up=setting_up))
    return 0


if __name__ == "__main__":
    sys.exit(main())
