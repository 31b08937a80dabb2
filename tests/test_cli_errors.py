"""The command line's error contract and the config domains behind it.

Every expected user error — a ``--set`` value outside its field's declared domain, a bad ``--out``, an
``OSError`` on the output (ENAMETOOLONG, EROFS, ENOSPC, EACCES), a compilation-cache path that is a file, a
missing data file of the installed package, a second writer of the same ``--out`` — is exit status 2 with one
``error:`` line naming the argument or path, and no traceback. A diverged run is reported as its result (every
claim *not reproduced*, saying where) and ``results.json`` stays strict JSON. Files jaxml writes get the mode
the umask gives.

Most cases fail before any experiment runs; those that must run one use ``naive_bayes_toy --quick`` (a 13-point
problem) or ``saddle_toy`` (2-D paths), in process.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import types
import typing
from pathlib import Path

import numpy as np
import pytest

import experiments
import jaxml
from experiments import __main__ as runner
from jaxml import io, train
from jaxml.report import (
    MAX_SEED,
    ExperimentConfig,
    Result,
    integer,
    nonfinite,
    number,
    tuple_of,
    write_results_json,
)

FAST = "naive_bayes_toy"


@pytest.fixture(autouse=True)
def _no_compilation_cache(monkeypatch):
    monkeypatch.setenv("JAXML_COMPILATION_CACHE", "0")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``python -m experiments *args`` in this process: (exit status, stdout, stderr)."""
    try:
        code = runner.main(list(args))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(err: str) -> str:
    """The single error line of stderr (progress lines may precede it); fails on a traceback or several."""
    assert "Traceback" not in err, f"a traceback instead of a one-line error:\n{err}"
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, f"expected exactly one error line, got {lines}"
    return lines[0]


# ---------------------------------------------------------------- --set values outside the declared domains


@pytest.mark.parametrize(
    ("name", "setting", "message"),
    [
        (FAST, "learning_rate=-0.1", "learning_rate must be a finite number > 0, got -0.1"),  # gradient ascent
        (FAST, "learning_rate=nan", "learning_rate must be a finite number > 0, got nan"),
        (FAST, "learning_rate=1e400", "learning_rate must be a finite number > 0, got inf"),
        (FAST, "epochs=-5", "epochs must be an integer in [1, 10000000], got -5"),
        (FAST, "epochs=0", "epochs must be an integer in [1, 10000000], got 0"),
        (FAST, "epochs=99999999999999999999", "epochs must be an integer in [1, 10000000], got 99999999999999999999"),
        (FAST, "alpha=-1", "alpha must be a finite number ≥ 0, got -1.0"),
        (FAST, "replicates=1", "replicates must be an integer in [2, 1000000], got 1"),
        ("sigmoid_sum", "units=", "units must be a tuple of at least 2 entries"),
        ("sigmoid_sum", "units=8,4", "strictly increasing"),
        ("sigmoid_sum", "final_learning_rate=1", "final_learning_rate must be at most learning_rate"),
        ("depth_overfitting", "depths=1,2", "including 0"),
        ("linear_regression", "curve_factor=0.2", "curve_factor must be one of eta_factors"),
        ("conditional_linear", "feature=nope", "feature must be a daily COVID feature name"),
        ("momentum", "lam=1", "lam must be a finite number in [0, 1)"),
        ("xor", "hidden_activation=tanh", "hidden_activation must be one of 'sigmoid', 'identity'"),
        (FAST, "seed=-1", "--set seed=-1: the seed must be an integer in [0, 4294967295], got -1"),
        (FAST, f"seed={MAX_SEED + 1}", f"the seed must be an integer in [0, {MAX_SEED}]"),
    ],
)
def test_set_outside_the_domain_is_a_one_line_error_before_anything_runs(
    capsys, tmp_path, monkeypatch, name, setting, message
):
    monkeypatch.setattr(experiments, "run", lambda *a: pytest.fail("an experiment ran on an invalid config"))
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, name, "--quick", "--out", str(out), "--set", setting)
    line = one_error(err)
    assert code == 2 and message in line, f"Config DOMAINS must refuse --set {setting} up front: {line}"
    assert not out.exists(), "a run refused by validation must write nothing"


def test_python_callers_get_the_same_error_as_set():
    config = experiments.load(FAST).Config
    with pytest.raises(ValueError, match=r"^learning_rate must be a finite number > 0, got -0\.1$"):
        config(learning_rate=-0.1)
    with pytest.raises(ValueError, match="epochs must be an integer"):
        dataclasses.replace(config().quick(), epochs=0)  # replace, as the controls and --set do, validates too
    with pytest.raises(TypeError, match="epochs must be an integer"):
        config(epochs=10.0)  # the wrong kind is a TypeError


def _field_types(config: type) -> dict[str, typing.Any]:
    return typing.get_type_hints(config)


@pytest.mark.parametrize("name", experiments.names())
def test_every_config_field_declares_a_bounded_domain(name):
    """Each experiment declares the domain of every field once: ints are bounded (no 10²⁰ epochs), floats
    finite, tuples non-empty — checked on every field by type, not on a list kept by hand."""
    module = experiments.load(name)
    base = module.Config()
    assert set(module.Config.domains()) == {f.name for f in dataclasses.fields(base)}, "DOMAINS per field"
    for field, kind in _field_types(module.Config).items():
        if field in ("out", "variant"):
            continue
        bad: list[typing.Any] = []
        if kind is int:
            bad = [10**20, -1, True, 1.5]
        elif kind is float:
            bad = [math.nan, math.inf, -math.inf, "1"]
        elif typing.get_origin(kind) is tuple:
            bad = [(), 7]
        elif kind is bool:
            bad = [1, "yes"]
        elif kind is str:
            bad = ["", 3]
        for value in bad:
            with pytest.raises((TypeError, ValueError), match=field):
                dataclasses.replace(base, **{field: value})


def test_a_field_without_a_domain_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Config(ExperimentConfig):
        epochs: int = 10

    with pytest.raises(TypeError, match=r"missing \['epochs'\]"):
        Config()

    @dataclasses.dataclass(frozen=True)
    class Declared(ExperimentConfig):
        epochs: int = 10
        widths: tuple[int, ...] = (4,)
        DOMAINS = {"epochs": integer(), "widths": tuple_of(integer())}

    assert Declared(epochs=3).epochs == 3
    with pytest.raises(ValueError, match="widths must be a non-empty tuple"):
        Declared(widths=())
    assert number(0, 1, high_open=True).text == "a finite number in [0, 1)"


# ---------------------------------------------------------------- the seed: one path, one range check


def test_set_seed_is_the_seed_option(capsys, tmp_path):
    code, _, _ = run_cli(capsys, FAST, "--quick", "--out", str(tmp_path / "a"), "--set", "seed=7")
    assert code == 0
    report = (tmp_path / "a" / "report.md").read_text()
    payload = json.loads((tmp_path / "a" / FAST / "results.json").read_text())
    assert "seed 7" in report and "seed 0" not in report, "--set seed=7 must run and report seed 7"
    assert payload["seed"] == 7 and payload["config"]["seed"] == 7
    code, _, err = run_cli(capsys, FAST, "--quick", "--seed", "3", "--set", "seed=4", "--out", str(tmp_path / "b"))
    assert code == 2 and "the seed is given more than once" in one_error(err), "--seed and --set seed= together"
    assert not (tmp_path / "b").exists()


def test_list_refuses_run_options(capsys):
    code, out, err = run_cli(capsys, "list", "--set", "epochs=3")
    assert code == 2 and "'list' runs nothing, so --set epochs=3 would be ignored" in one_error(err), "list with --set"
    assert out == ""
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and FAST in out


# ---------------------------------------------------------------- a diverged run is a result, never NaN in JSON


def _strict_json(path) -> dict:
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in {path}"))


def test_a_diverged_run_reports_every_claim_not_reproduced(capsys, tmp_path):
    # η = 10¹⁰ on the toy saddle: every path overflows, its per-replicate effects are NaN
    code, out, err = run_cli(capsys, "saddle_toy", "--quick", "--out", str(tmp_path), "--set", "learning_rate=1e10")
    assert code == 0 and "Traceback" not in err
    payload = _strict_json(tmp_path / "saddle_toy" / "results.json")
    claims = payload["claims"]
    assert claims and not any(c["holds"] for c in claims), "a diverged run must reproduce no claim"
    assert all(c["detail"].startswith("Not reproduced: the run diverged") for c in claims), claims[0]["detail"]
    assert f"claims: 0 of {len(claims)} reproduced" in out
    assert "diverged" in (tmp_path / "report.md").read_text()


def test_training_divergence_names_the_epoch(capsys, tmp_path, monkeypatch):
    def diverge(name, config):
        raise train.DivergenceError(3, 1, None, None, {})

    monkeypatch.setattr(experiments, "run", diverge)
    code, out, err = run_cli(capsys, FAST, "--quick", "--out", str(tmp_path))
    assert code == 0 and "Traceback" not in err
    claims = _strict_json(tmp_path / FAST / "results.json")["claims"]
    assert [c["holds"] for c in claims] == [False] * len(experiments.load(FAST).CLAIMS)
    assert "training diverged at epoch 3" in claims[0]["detail"], "DivergenceError must become the verdict"


def test_a_nan_metric_is_a_diverged_run_not_a_bare_nan(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "run", lambda name, config: Result("t", metrics={"loss": float("nan")}))
    code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(tmp_path))
    assert code == 0 and "Traceback" not in err
    payload = _strict_json(tmp_path / FAST / "results.json")
    assert "results.metrics.loss = nan" in payload["claims"][0]["detail"], "the NaN metric must be named"


def test_results_json_refuses_nan_anywhere_before_writing(tmp_path):
    config = ExperimentConfig()
    for bad in (
        Result("t", replicates={"e": np.array([1.0, np.nan])}),
        Result("t", metrics={"x": np.float32("inf")}),
        Result("t", data={"kept out": np.nan}, lecture={"y": -math.inf}),
    ):
        with pytest.raises(ValueError, match="never NaN"):
            write_results_json(tmp_path / "r.json", "t", bad, 1.0, config, {})
    assert not list(tmp_path.iterdir())
    write_results_json(
        tmp_path / "r.json", "t", Result("t", replicates={"ok": np.array([True, False])}), 1.0, config, {}
    )
    assert _strict_json(tmp_path / "r.json")["replicates"]["ok"] == [True, False]
    assert nonfinite({"a": [1.0, {"b": np.array([0.0, np.inf])}]}) == "results.a[1].b[1] = inf"


# ---------------------------------------------------------------- OS errors: one line naming the path


def test_out_name_too_long(capsys, tmp_path):
    out = tmp_path / ("x" * 300)
    code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(out))
    line = one_error(err)
    assert code == 2 and "--out" in line and "File name too long" in line, f"ENAMETOOLONG on --out: {line}"


def test_read_only_out_fails_before_running(capsys, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(kwargs["dir"], ".jaxml-probe.x"))

    monkeypatch.setattr(runner.tempfile, "mkstemp", read_only)
    monkeypatch.setattr(experiments, "run", lambda *a: pytest.fail("ran although --out cannot be written"))
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(out))
    line = one_error(err)
    assert code == 2 and f"--out {out} cannot be written" in line and "EROFS" in line, f"probe --out first: {line}"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_unwritable_out_fails_before_running(capsys, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setattr(experiments, "run", lambda *a: pytest.fail("ran although --out cannot be written"))
    try:
        code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(locked / "out"))
    finally:
        locked.chmod(0o700)
    line = one_error(err)
    assert code == 2 and "--out" in line and "Permission denied" in line, f"EACCES on --out: {line}"


@pytest.mark.parametrize(("code_", "patched"), [(errno.EROFS, "replace"), (errno.ENOSPC, "fsync")])
def test_write_failure_after_the_run_names_the_file(capsys, tmp_path, monkeypatch, code_, patched):
    """The disk fills up (or turns read-only) while the results are written, after the experiment ran."""

    def fail(*args, **kwargs):
        raise OSError(code_, os.strerror(code_))  # as write() reports it: no file name

    module = experiments.load(FAST)
    computed = []
    monkeypatch.setattr(module, "compute", lambda config, real=module.compute: computed.append(1) or real(config))
    monkeypatch.setattr(io.os, patched, fail)
    code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(tmp_path))
    monkeypatch.undo()
    line = one_error(err)
    assert computed, "the experiment ran before the write failed"
    assert code == 2 and str(tmp_path / FAST) in line and errno.errorcode[code_] in line, f"name the file: {line}"
    assert not [p for p in tmp_path.rglob("*.tmp")], "a failed atomic write leaves no temporary file"


def test_compilation_cache_that_is_a_file(capsys, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.write_text("a file, not a folder")
    monkeypatch.setenv("JAXML_COMPILATION_CACHE", str(cache))
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(out))
    line = one_error(err)
    assert code == 2 and "JAXML_COMPILATION_CACHE" in line and str(cache) in line, f"cache path is a file: {line}"
    assert not out.exists()


def test_missing_data_file_of_the_package(capsys, tmp_path, monkeypatch):
    from jaxml.data import _files

    gone = os.path.join(os.path.dirname(jaxml.__file__), "data", "missing-for-this-test")
    monkeypatch.setattr(_files, "resources", types.SimpleNamespace(files=lambda package: Path(gone)))
    code, _, err = run_cli(capsys, "conditional_linear", "--quick", "--out", str(tmp_path / "out"))
    line = one_error(err)
    assert code == 2 and "covid.train.csv" in line and "reinstall jaxml" in line, f"missing data file: {line}"


def test_second_writer_of_one_out_stops_and_the_first_loses_nothing(capsys, tmp_path, monkeypatch):
    out = tmp_path / "tour"
    out.mkdir()
    (out / "report.md").write_text("the first tour's report")
    monkeypatch.setattr(experiments, "run", lambda *a: pytest.fail("the second writer ran"))
    with io.exclusive(out, "--out"):  # the first tour, still running
        code, _, err = run_cli(capsys, FAST, "--quick", "--out", str(out))
    line = one_error(err)
    assert code == 2 and "is in use by another writer" in line, f"exclusive(out, '--out') around the run: {line}"
    assert (out / "report.md").read_text() == "the first tour's report"
    assert sorted(p.name for p in out.iterdir()) == [io.LOCK_FILE, "report.md"]


# ---------------------------------------------------------------- file modes


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = io.atomic_write_text(tmp_path / "f.txt", "x")
        assert io._umask() == umask, "reading the umask must not change it"
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode, "atomic_write_bytes must chmod mkstemp's 0o600 to 0o666 & ~umask"
