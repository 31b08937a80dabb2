"""``python -m experiments list | all | <name> [--quick] [--out DIR] [--seed N]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import experiments
from jaxml.report import to_markdown, write_report, write_results_json

HEADER = """# jaxml experiment report

Each section reproduces one result of Hung-yi Lee's ML lectures with jaxml. Numbers marked *lecture* are the
lecture's published ones; ours come from this run (seed {seed}{quick}).
"""


def _run_one(name: str, seed: int, quick: bool, out: Path) -> tuple[str, float]:
    module = experiments.load(name)
    config = module.Config(seed=seed, quick=quick, out=str(out))
    print(f"== {name}: {module.DESCRIPTION}", flush=True)
    start = time.perf_counter()
    result = module.main(config)
    seconds = time.perf_counter() - start
    write_results_json(out / name / "results.json", name, result, seconds)
    for key, value in result.metrics.items():
        lecture = f"  (lecture: {result.lecture[key]:.4g})" if key in result.lecture else ""
        print(f"   {key}: {value:.6g}{lecture}")
    print(f"   {len(result.figures)} figure(s) in {out / name}  [{seconds:.1f} s]", flush=True)
    return to_markdown(name, result, seconds, out), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments",
        description="Run jaxml's lecture experiments. 'list' shows them; 'all' runs the tour and writes "
        "DIR/report.md; any other name runs one experiment.",
    )
    parser.add_argument("name", help="'list', 'all', or an experiment name")
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run (smoke test)")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    args = parser.parse_args(argv)

    if args.name == "list":
        for name in experiments.names():
            module = experiments.load(name)
            print(f"{name:<32} §{module.SECTION:<5} {module.DESCRIPTION}")
        return 0

    out = Path(args.out)
    try:
        todo = experiments.names() if args.name == "all" else [experiments.load(args.name) and args.name]
    except ValueError as err:
        parser.error(str(err))
    sections, total = [], 0.0
    for name in todo:
        section, seconds = _run_one(name, args.seed, args.quick, out)
        sections.append(section)
        total += seconds
    header = HEADER.format(seed=args.seed, quick=", --quick" if args.quick else "")
    report = write_report(out / "report.md", sections, header + f"\nTotal experiment time: {total:.0f} s.\n")
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
