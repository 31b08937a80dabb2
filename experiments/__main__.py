"""``python -m experiments list | all | <name> [--quick] [--out DIR] [--seed N] [--set field=value ...]``.

Every argument is checked before anything runs, so a run that cannot start writes nothing: a bad ``--out``,
``--seed`` or ``--set`` is an argparse error (exit status 2, one line, no traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import experiments
from jaxml.io import enable_compilation_cache
from jaxml.report import (
    MIN_REPLICATES,
    ExperimentConfig,
    Result,
    Verdict,
    bar,
    provenance,
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

MAX_SEED = 2**32 - 1


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {value}")
    return value


def _out(text: str) -> Path:
    path = Path(text)
    for parent in (path, *path.parents):
        if parent.exists():
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
    ``tuple[X, ...]`` (comma-separated)."""
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
    """``config`` with each (field, text) override parsed to the field's type; unknown fields raise ValueError."""
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
    return dataclasses.replace(config, **changes)


def _overrides(items: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"--set takes field=value, got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _configs(todo: Sequence[str], args: argparse.Namespace) -> dict[str, ExperimentConfig]:
    """Every experiment's config, overrides applied; with several experiments ``NAME.field`` targets one."""
    overrides = _overrides(args.set or [])
    configs = {}
    used = set()
    for name in todo:
        module = experiments.load(name)
        config = module.Config(seed=args.seed, out=str(args.out))
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
    unused = [overrides[i][0] for i in range(len(overrides)) if i not in used]
    if unused:
        raise ValueError(f"--set fields match no experiment that runs: {unused}")
    return configs


def _run_one(name: str, config: ExperimentConfig, prov: dict[str, Any]) -> tuple[str, Result, float]:
    module = experiments.load(name)
    print(f"== {name}: {module.DESCRIPTION}", flush=True)
    start = time.perf_counter()
    result = experiments.run(name, config)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments",
        description="Run jaxml's lecture experiments. 'list' shows them; 'all' runs the tour and writes "
        "DIR/report.md; any other name runs one experiment. JAX's compilation cache is kept in "
        "~/.cache/jaxml/jax (JAXML_COMPILATION_CACHE=DIR moves it, =0 turns it off).",
    )
    parser.add_argument("name", help="'list', 'all', or an experiment name")
    parser.add_argument("--quick", action="store_true", help="the smaller smoke-test variant of each experiment")
    parser.add_argument("--out", type=_out, default=Path("results"), help="output folder (default: results)")
    parser.add_argument("--seed", type=_seed, default=0, help=f"PRNG seed in [0, {MAX_SEED}] (default: 0)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="override a Config field (repeatable; tuples comma-separated; NAME.FIELD with 'all')",
    )
    args = parser.parse_args(argv)

    if args.name == "list":
        for name in experiments.names():
            module = experiments.load(name)
            print(f"{name:<32} §{module.SECTION:<5} {module.DESCRIPTION}")
        return 0

    try:
        todo = experiments.names() if args.name == "all" else [experiments.load(args.name) and args.name]
        configs = _configs(todo, args)
    except (ValueError, argparse.ArgumentTypeError) as err:
        parser.error(str(err))
    enable_compilation_cache()
    prov = provenance()
    sections, verdicts, total = [], {}, 0.0
    for name in todo:
        section, result, seconds = _run_one(name, configs[name], prov)
        sections.append(section)
        verdicts[name] = result.claims
        total += seconds
    header = _header(configs, prov, quick=args.quick)
    report = write_report(
        args.out / "report.md", sections, header + f"\nTotal experiment time: {total:.0f} s.\n", verdicts
    )
    flat: list[Verdict] = [v for vs in verdicts.values() for v in vs]
    held = sum(v.holds for v in flat)
    print(f"claims: {held} of {len(flat)} reproduced; report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
