"""The experiment runner: the report and its claims table, results.json, config overrides, and argument errors
that stop before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import experiments
from experiments import __main__ as runner


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments", *args],
        capture_output=True,
        text=True,
        env={"JAXML_COMPILATION_CACHE": "0", "PATH": "/usr/bin:/bin"},
    )


def test_runner_writes_report_claims_table_and_results_json(tmp_path):
    assert runner.main(["naive_bayes_toy", "--quick", "--out", str(tmp_path), "--set", "epochs=300"]) == 0
    report = (tmp_path / "report.md").read_text()
    payload = json.loads((tmp_path / "naive_bayes_toy" / "results.json").read_text())
    claims = payload["claims"]
    assert claims and all(isinstance(c["holds"], bool) and c["statement"] for c in claims)
    held = sum(c["holds"] for c in claims)
    # the report opens with the tally and the claims table, before any experiment's section
    tally = f"**{held} of {len(claims)} lecture claims reproduced, {len(claims) - held} not reproduced.**"
    header = "| experiment | § | lecture claim | verdict | evidence (replicates) | numbers |"
    assert report.index(tally) < report.index(header)
    assert report.index("| experiment |") < report.index("## ")
    for c in claims:
        assert c["statement"].replace("|", "\\|") in report
    assert "300 full-batch Adam steps" in report and payload["config"]["epochs"] == 300  # the override reached the run
    for line in report.splitlines():
        if line.startswith("!["):
            assert (tmp_path / line.split("(")[1].rstrip(")")).exists()


def test_cli_list_and_help():
    out = cli("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(experiments.names()) and any(line.startswith("naive_bayes_toy") for line in lines)
    help_text = cli("--help").stdout
    assert "--quick" in help_text and "--seed" in help_text and "--set" in help_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown experiment"),
        (["naive_bayes_toy", "--seed", "99999999999999999999"], "--seed"),
        (["naive_bayes_toy", "--seed", "-1"], "--seed"),
        (["naive_bayes_toy", "--seed", "abc"], "--seed"),
        (["naive_bayes_toy", "--out", "FILE"], "--out"),
        (["naive_bayes_toy", "--set", "epochs"], "field=value"),
        (["naive_bayes_toy", "--set", "nope=1"], "unknown field 'nope'"),
        (["naive_bayes_toy", "--set", "epochs=many"], "epochs=many"),
        (["naive_bayes_toy", "--set", "out=/tmp"], "unknown field 'out'"),
    ],
)
def test_bad_arguments_are_one_line_errors_and_write_nothing(tmp_path, args, message):
    target = tmp_path / "file.txt"
    target.write_text("not a folder")
    args = [str(target) if a == "FILE" else a for a in args]
    out_dir = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out_dir)]
    done = cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and message in done.stderr
    assert not out_dir.exists()


def test_overrides_are_type_checked():
    config = experiments.load("naive_bayes_toy").Config()
    changed = runner.apply_overrides(config, [("epochs", "7"), ("learning_rate", "0.5"), ("seed", "3")])
    assert (changed.epochs, changed.learning_rate, changed.seed) == (7, 0.5, 3)
    assert runner.parse_value(tuple[int, ...], "1, 2,4") == (1, 2, 4)
    assert runner.parse_value(float | None, "none") is None
    assert runner.parse_value(bool, "false") is False
    with pytest.raises(ValueError, match="learning_rate"):
        runner.apply_overrides(config, [("learning_rate", "fast")])
