"""Behaviour the report, the command line and the writers promise, each checked against an oracle written here:

* a verdict is the one *computed* from the run's numbers (the predicate, or the t statistic of the replicates),
  never the claim's ``expected`` flag, in the report's claims table, its tally, each section and results.json;
  ``expected`` follows the claim's ``quick`` field only in a quick run;
* ``--seed`` (0 included) reaches every config, ``--set NAME.field=value`` changes only NAME's config, and
  ``--set`` splits at the first ``=`` (property-based: every field type round-trips through the parser);
* atomic writes keep the old file on failure and name the destination, files get 0o666 & ~umask, one writer
  per folder; a figure with a NaN or ±∞ in any drawn element is refused, a clean one saved.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import keyword
import os
import socket
import string

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats

import experiments
from experiments import __main__ as runner
from jaxml import io, plot
from jaxml.report import (
    MAX_SEED,
    Claim,
    ExperimentConfig,
    Result,
    claims_table,
    evaluate,
    flag,
    integer,
    nonfinite,
    number,
    optional,
    replicated,
    tally,
    text,
    to_markdown,
    tuple_of,
    write_report,
    write_results_json,
)

FAST = "naive_bayes_toy"
PROPERTY = settings(max_examples=50, deadline=None)


def sidak_bar(tests: int) -> float:
    """The bar from scipy: the one-sided 3-SE false-alarm rate, kept family-wise over ``tests`` (Šidák)."""
    alpha = stats.norm.sf(3.0)
    return float(stats.norm.isf(1 - (1 - alpha) ** (1 / tests)))


def t_holds(e: np.ndarray, tests: int = 1) -> bool:
    """The rule of evidence from scipy: n ≥ 10 and mean / sem above the bar."""
    return len(e) >= 10 and e.mean() > 0 and e.mean() > sidak_bar(tests) * stats.sem(e)


# ---------------------------------------------------------------- verdicts: computed, never the expected flag

GAP = 2e-5
UP = np.arange(1.0, 11.0)  # mean 5.5, sem 0.957: 5.7 SE, reproduced
NULL = np.array([1.0, -1.0] * 5)  # mean 0: not reproduced


def _mismatched_claims() -> list[Claim]:
    """Four claims whose computed verdict is the opposite of what they declare ``expected``."""
    return [
        Claim("exact_up", "1.1", "Exact claim that holds though not expected.", lambda m: m["gap"] < 1e-3,
              reads=("gap",), expected=False),
        Claim("exact_down", "1.2", "Exact claim that fails though expected.", lambda m: m["gap"] > 1.0,
              reads=("gap",), expected=True),
        Claim("emp_up", "2.1", "Empirical claim that holds though not expected.", effect="up", expected=False),
        Claim("emp_down", "2.2", "Empirical claim that fails though expected.", effect="null", expected=True),
    ]  # fmt: skip


def _mismatched_result() -> Result:
    claims = evaluate(_mismatched_claims(), {"gap": GAP, "unread": 3.0}, replicates={"up": UP, "null": NULL})
    return Result("toy", metrics={"gap": GAP, "unread": 3.0}, replicates={"up": UP, "null": NULL}, claims=claims)


# the oracle: each predicate on the numbers by hand, and the t statistic of each replicate array
COMPUTED = [GAP < 1e-3, GAP > 1.0, t_holds(UP), t_holds(NULL)]


def test_the_oracle_verdicts_differ_from_expected():
    assert COMPUTED == [True, False, True, False]
    assert [c.expected for c in _mismatched_claims()] == [not h for h in COMPUTED]


def test_evaluate_returns_the_computed_verdict_and_only_the_numbers_it_reads():
    verdicts = _mismatched_result().claims
    assert [v.holds for v in verdicts] == COMPUTED
    assert [v.verdict for v in verdicts] == ["reproduced" if h else "not reproduced" for h in COMPUTED]
    assert [v.expected for v in verdicts] == [not h for h in COMPUTED], "expected is recorded, apart from holds"
    assert verdicts[0].numbers == {"gap": GAP} and verdicts[2].numbers == {}, "only the metrics a claim reads"
    up = verdicts[2].evidence
    assert (up.n, up.held, up.bar) == (10, 10, 3.0)
    assert up.mean == pytest.approx(UP.mean()) and up.se == pytest.approx(stats.sem(UP))
    assert verdicts[3].evidence.held == int((NULL > 0).sum()) == 5


def _table_rows(markdown: str) -> list[list[str]]:
    return [line.strip("|").split(" | ") for line in markdown.splitlines() if line.startswith("| `")]


def test_claims_table_shows_the_computed_verdict_and_evidence():
    rows = _table_rows(claims_table({"toy": _mismatched_result().claims}))
    assert [r[2].strip() for r in rows] == [c.statement for c in _mismatched_claims()]
    assert [r[3] for r in rows] == ["✅ reproduced" if h else "❌ **not reproduced**" for h in COMPUTED]
    assert rows[0][4] == "exact" and rows[1][4] == "exact"
    sem = stats.sem(UP)
    assert rows[2][4] == f"10/10 held; {UP.mean():.4g} ± {sem:.4g} (bar 3 SE)"
    assert rows[3][4].startswith("5/10 held; ")
    assert rows[0][5].strip() == "gap = 2.000e-05"


def test_section_tally_report_and_results_json_show_the_computed_verdict(tmp_path):
    result = _mismatched_result()
    section = to_markdown("toy", result, 1.0, tmp_path)
    marks = {}
    for line in section.splitlines():
        for c in _mismatched_claims():
            if c.statement in line:
                marks[c.id] = line.startswith("- ✅ reproduced")
    assert list(marks.values()) == COMPUTED
    assert tally(result.claims) == (sum(COMPUTED), len(COMPUTED) - sum(COMPUTED)) == (2, 2)
    report = write_report(tmp_path / "report.md", [section], "# header", {"toy": result.claims}).read_text()
    assert "**2 of 4 lecture claims reproduced, 2 not reproduced.**" in report
    write_results_json(tmp_path / "r.json", "toy", result, 1.0, ExperimentConfig(seed=3), {})
    claims = json.loads((tmp_path / "r.json").read_text())["claims"]
    assert [c["holds"] for c in claims] == COMPUTED
    assert [c["verdict"] for c in claims] == ["reproduced" if h else "not reproduced" for h in COMPUTED]
    assert [c["expected"] for c in claims] == [not h for h in COMPUTED]
    assert [c["kind"] for c in claims] == ["exact", "exact", "empirical", "empirical"]
    assert claims[2]["evidence"]["held"] == 10 and claims[0]["evidence"] is None


# (claim.expected, claim.quick, run is quick) → the verdict's expected, written out by hand
EXPECTED_TABLE = [
    (True, True, False, True),
    (True, True, True, True),
    (True, False, False, True),  # only the full run reproduces it: a full run expects it ...
    (True, False, True, False),  # ... a quick run does not
    (False, True, False, False),
    (False, True, True, False),
    (False, False, False, False),
    (False, False, True, False),
]


@pytest.mark.parametrize(("expected", "quick_ok", "quick_run", "want"), EXPECTED_TABLE)
def test_full_only_claims_are_expected_only_in_the_full_run(expected, quick_ok, quick_run, want):
    claims = [
        Claim("x", "1.1", "exact", lambda m: m["a"] > 0, reads=("a",), expected=expected, quick=quick_ok),
        Claim("y", "1.1", "empirical", effect="up", expected=expected, quick=quick_ok),
    ]
    verdicts = evaluate(claims, {"a": 1.0}, replicates={"up": UP}, quick=quick_run)
    assert [v.expected for v in verdicts] == [want, want]
    assert [v.holds for v in verdicts] == [True, True], "the run's size changes what is expected, not the verdict"


def test_diverged_run_expects_what_evaluate_expects():
    name = "generative_vs_discriminative"  # it has a claim only the full run reproduces
    module = experiments.load(name)
    assert any(not c.quick for c in module.CLAIMS)
    for config in (module.Config(), module.Config().quick()):
        result = runner.diverged_result(name, config, "a test")
        stand_ins = [Claim(c.id, c.section, c.statement, lambda m: True, expected=c.expected, quick=c.quick)
                     for c in module.CLAIMS]  # fmt: skip
        want = [v.expected for v in evaluate(stand_ins, {}, quick=config.is_quick)]
        assert [v.expected for v in result.claims] == want
        assert not any(v.holds for v in result.claims) and tally(result.claims) == (0, len(module.CLAIMS))


def test_empirical_claims_are_judged_at_their_own_bar():
    e = np.r_[np.ones(5), -np.ones(5)]
    e = e + 3.3 * stats.sem(e)  # 3.3 SE: over the single-comparison bar, under the best-of-5 bar
    assert t_holds(e, 1) and not t_holds(e, 5)
    claims = [Claim(f"k{k}", "1.1", f"best of {k}", effect="e", tests=k) for k in (1, 5, 12)]
    verdicts = evaluate(claims, {}, replicates={"e": e})
    assert [v.holds for v in verdicts] == [t_holds(e, k) for k in (1, 5, 12)] == [True, False, False]
    for v, k in zip(verdicts, (1, 5, 12)):
        assert v.evidence.bar == pytest.approx(sidak_bar(k), rel=1e-9)


def test_a_claim_reading_a_missing_metric_raises_naming_it():
    c = Claim("a", "1.1", "s", lambda m: True, reads=("present", "absent"))
    with pytest.raises(KeyError, match="absent"):
        evaluate([c], {"present": 1.0})


def test_evidence_describes_itself_and_says_when_replicates_are_too_few():
    e = np.array([2.0, 3.0, -1.0, 4.0, 0.0, 5.0, 1.0, 2.0, 3.0, 6.0])
    ev = replicated(e)
    held = int((e > 0).sum())
    assert held == 8 and ev.held == held, "held counts strictly positive effects: a zero is not the claim holding"
    want = f"held in {held}/10, effect {e.mean():.4g} ± {stats.sem(e):.4g} (bar 3 SE)"
    assert ev.describe() == want
    assert ev.holds == t_holds(e)
    nine = replicated(e[:9])
    assert nine.describe().endswith("; too few replicates (9 < 10)") and not nine.holds
    one = replicated([2.0])
    assert one.to_json()["se"] is None and "too few replicates (1 < 10)" in one.describe()


def test_results_json_is_strict_and_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "r.json"
    config = ExperimentConfig()
    (v,) = evaluate([Claim("one", "1.1", "s", effect="e")], {}, replicates={"e": np.array([2.0])})
    write_results_json(path, "t", Result("t", claims=[v], replicates={"e": [2.0]}), 1.0, config, {})
    good = path.read_text()
    assert json.loads(good)["claims"][0]["evidence"]["se"] is None, "one replicate: no standard error, null"
    for bad, where in (
        ({"e": np.array([1.0, np.inf])}, "results.replicates.e[1] = inf"),
        ({"e": {"inner": [0.0, -np.inf]}}, "results.replicates.e.inner[1] = -inf"),
        ({"e": np.float32("nan")}, "results.replicates.e = nan"),
    ):
        with pytest.raises(ValueError, match="never NaN") as err:
            write_results_json(path, "t", Result("t", replicates=bad), 1.0, config, {})
        assert where in str(err.value)
        assert path.read_text() == good, "a refused payload must not touch the file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    assert nonfinite({"a": [1.0, {"b": np.nan}]}) == "results.a[1].b = nan"
    assert nonfinite({"a": [1, 2.5, None, np.float32(3)], "b": "nan"}) is None, "a string is not a number"


# ---------------------------------------------------------------- the command line: seed and --set scoping


@pytest.fixture
def configs_of(monkeypatch, tmp_path):
    """``python -m experiments ARGV`` up to the configs it would run, without running them."""
    monkeypatch.setenv("JAXML_COMPILATION_CACHE", "0")

    def parse(*argv: str) -> dict[str, ExperimentConfig]:
        seen: dict[str, ExperimentConfig] = {}
        monkeypatch.setattr(runner, "_tour", lambda todo, configs, out, quick: seen.update(configs))
        assert runner.main([*argv, "--out", str(tmp_path / "out")]) == 0
        return seen

    return parse


def refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        runner.main([*argv, "--out", "/nonexistent/never-written"])
    assert exit_.value.code == 2
    return capsys.readouterr().err


def default(name: str, out: str, *, quick: bool, seed: int = 0) -> ExperimentConfig:
    config = experiments.load(name).Config(seed=seed, out=out)
    return config.quick() if quick else config


@pytest.mark.parametrize("seed", [0, 1, 12345, MAX_SEED])
@pytest.mark.parametrize("quick", [False, True])
def test_seed_reaches_the_config(configs_of, tmp_path, seed, quick):
    argv = [FAST, "--seed", str(seed)] + (["--quick"] if quick else [])
    (config,) = configs_of(*argv).values()
    assert config == default(FAST, str(tmp_path / "out"), quick=quick, seed=seed)
    assert config.seed == seed
    (config,) = configs_of(FAST, "--set", f"seed={seed}").values()
    assert config.seed == seed, "--set seed=N is --seed N"


def test_seed_zero_is_accepted_and_the_default(configs_of):
    assert runner._seed("0") == 0
    assert configs_of(FAST)[FAST].seed == 0
    assert configs_of(FAST, "--seed", "0")[FAST].seed == 0


@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1), "1.5", "x"])
def test_seed_outside_its_range_is_refused(capsys, seed):
    assert "--seed" in refused(capsys, FAST, "--seed", seed)


def test_seed_reaches_every_experiment_of_the_tour(configs_of):
    configs = configs_of("all", "--quick", "--seed", "7")
    assert list(configs) == experiments.names()
    assert all(c.seed == 7 for c in configs.values())


def test_set_name_field_with_all_changes_only_that_experiment(configs_of, tmp_path):
    out = str(tmp_path / "out")
    configs = configs_of("all", "--quick", "--set", f"{FAST}.epochs=7")
    for name, config in configs.items():
        want = default(name, out, quick=True)
        if name == FAST:
            want = dataclasses.replace(want, epochs=7)
        assert config == want, f"--set {FAST}.epochs=7 changed {name}"


def test_bare_field_with_all_changes_the_experiments_that_have_it(configs_of, tmp_path):
    out = str(tmp_path / "out")
    configs = configs_of("all", "--quick", "--set", "epochs=9")
    having = [n for n, c in configs.items() if hasattr(c, "epochs")]
    assert FAST in having and len(having) < len(configs)
    for name, config in configs.items():
        want = default(name, out, quick=True)
        assert config == (dataclasses.replace(want, epochs=9) if name in having else want)


def test_name_field_for_one_experiment(configs_of):
    assert configs_of(FAST, "--set", f"{FAST}.epochs=11")[FAST].epochs == 11


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([FAST, "--set", "xor.epochs=3"], "--set xor.epochs=3: no experiment that runs has that field"),
        (["all", "--set", "no_such_field=3"], "--set no_such_field=3: no experiment that runs has that field"),
        ([FAST, "--seed", "3", "--set", "seed=4"], "the seed is given more than once"),
        ([FAST, "--set", "seed=1", "--set", "seed=2"], "the seed is given more than once"),
        ([FAST, "--set", "epochs"], "--set takes field=value"),
        ([FAST, "--set", "=3"], "--set takes field=value"),
        ([FAST, "--set", "out=/tmp"], "unknown field 'out'"),
        ([FAST, "--set", "variant=full"], "unknown field 'variant'"),
        ([FAST, "--set", "epochs=0"], "epochs must be an integer in [1, 10000000], got 0"),
    ],
)
def test_set_errors_stop_before_anything_runs(capsys, monkeypatch, argv, message):
    monkeypatch.setattr(runner, "_tour", lambda *a, **k: pytest.fail("ran despite a bad argument"))
    err = refused(capsys, *argv)
    assert message in err and "Traceback" not in err


# ---------------------------------------------------------------- --set parsing, property-based

BASE = {f.name for f in dataclasses.fields(ExperimentConfig)} | set(dir(ExperimentConfig))
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
    lambda s: s not in BASE and not keyword.iskeyword(s)
)
BOOL_TEXT = {True: ["true", "True", "TRUE", "1", "yes", "Yes"], False: ["false", "False", "0", "no", "NO"]}
STR_VALUE = st.text(string.ascii_letters + string.digits + "=,.:/_- ", min_size=1).filter(lambda s: s.strip() == s)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _join(items, fmt, sep):
    return sep.join(fmt(i) for i in items)


@st.composite
def typed_values(draw):
    """(annotation, domain, value, its command-line text, another value of the type: the field's default)."""
    kind = draw(st.sampled_from(["int", "float", "bool", "tuple_int", "pair", "str", "optional"]))
    if kind == "int":
        v, start = draw(st.lists(st.integers(-(10**9), 10**9), min_size=2, max_size=2, unique=True))
        return int, integer(-(10**9), 10**9), v, str(v), start
    if kind == "float":
        v, start = draw(st.lists(FLOATS, min_size=2, max_size=2, unique=True))
        return float, number(), v, repr(v), start
    if kind == "bool":
        v = draw(st.booleans())
        return bool, flag(), v, draw(st.sampled_from(BOOL_TEXT[v])), not v
    if kind == "tuple_int":
        v = tuple(draw(st.lists(st.integers(-1000, 1000), min_size=1, max_size=5)))
        sep = draw(st.sampled_from([",", ", "]))
        return tuple[int, ...], tuple_of(integer(-1000, 1000)), v, _join(v, str, sep), (*v, 0)
    if kind == "pair":
        v = tuple(draw(st.lists(FLOATS, min_size=2, max_size=2)))
        return tuple[float, float], tuple_of(number(), length=2), v, _join(v, repr, ","), (v[0], v[1] + 1.0)
    if kind == "str":
        v = draw(STR_VALUE)
        return str, text(), v, v, v + "x"
    v = draw(st.none() | FLOATS)
    shown = draw(st.sampled_from(["none", "None", "NONE"])) if v is None else repr(v)
    return float | None, optional(number()), v, shown, 1.0 if v is None else None


def config_with(name: str, annotation, domain, start):
    """An experiment config with one extra field ``name`` of type ``annotation`` (default ``start``)."""
    return dataclasses.make_dataclass(
        "Config",
        [(name, annotation, dataclasses.field(default=start))],
        bases=(ExperimentConfig,),
        frozen=True,
        namespace={"DOMAINS": {name: domain}, "__module__": __name__},
    )


def _equal(a, b) -> bool:
    return type(a) is type(b) and a == b  # True == 1, but a bool field must come back a bool


@PROPERTY
@given(NAMES, typed_values())
@example("flag", (bool, flag(), True, "TRUE", False))
@example("flag", (bool, flag(), True, "1", False))
@example("flag", (bool, flag(), False, "No", True))
@example("maybe", (float | None, optional(number()), None, "None", 1.0))
@example("widths", (tuple[int, ...], tuple_of(integer(-1000, 1000)), (1, 2, 3), "1, 2,3", (1, 2, 3, 0)))
@example("span", (tuple[float, float], tuple_of(number(), length=2), (0.5, -2.0), "0.5,-2.0", (0.5, -1.0)))
@example("label", (str, text(), "a=b,c", "a=b,c", "a=b,cx"))
@example("steps", (int, integer(-(10**9), 10**9), 0, "0", 1))
@example("rate", (float, number(), 1e-300, "1e-300", 0.0))
def test_set_round_trips_every_field_type(name, typed):
    annotation, domain, value, text_, start = typed
    assume(start != value)  # the override must change the field (v[1] + 1.0 == v[1] for a huge float)
    config = config_with(name, annotation, domain, start)()
    assert runner._overrides([f"{name}={text_}"]) == [(name, text_)]
    changed = runner.apply_overrides(config, runner._overrides([f"{name}={text_}"]))
    got = getattr(changed, name)
    assert _equal(got, value) or (isinstance(value, tuple) and all(map(_equal, got, value)) and len(got) == len(value))
    assert dataclasses.replace(changed, **{name: start}) == config, "only the named field changes"


@PROPERTY
@given(NAMES, STR_VALUE, STR_VALUE)
@example("label", "b", "c")
def test_set_splits_at_the_first_equals_sign(name, left, right):
    value = f"{left}={right}"
    assert runner._overrides([f"{name}={value}"]) == [(name, value)]
    config = config_with(name, str, text(), "start")()
    assert getattr(runner.apply_overrides(config, [(name, value)]), name) == value


@PROPERTY
@given(NAMES, st.text(string.ascii_letters + string.digits + "_.- ", max_size=12).filter(lambda s: "=" not in s))
def test_set_without_a_field_or_an_equals_sign_is_refused(name, value):
    for item in (name, f"={value}", f" ={value}"):
        with pytest.raises(argparse.ArgumentTypeError, match="--set takes field=value"):
            runner._overrides([item])


INVALID = {
    int: st.text(string.ascii_letters, min_size=1) | st.builds(lambda i: f"{i}.5", st.integers(-99, 99)),
    bool: st.text(string.ascii_letters + string.digits, max_size=6).filter(
        lambda s: s.lower() not in {"true", "false", "1", "0", "yes", "no"}
    ),
    tuple[float, float]: st.lists(FLOATS, min_size=1, max_size=4)
    .filter(lambda v: len(v) != 2)
    .map(lambda v: ",".join(map(repr, v))),
    tuple[int, ...]: st.lists(st.integers(-9, 9), min_size=1, max_size=3).map(lambda v: ",".join(map(str, v)) + ",x"),
}
DOMAIN = {int: integer(-5, 5), bool: flag(), tuple[float, float]: tuple_of(number(), length=2),
          tuple[int, ...]: tuple_of(integer(-9, 9))}  # fmt: skip
START = {int: 0, bool: False, tuple[float, float]: (0.0, 1.0), tuple[int, ...]: (1,)}


@PROPERTY
@given(NAMES, st.sampled_from(list(INVALID)).flatmap(lambda k: st.tuples(st.just(k), INVALID[k])))
def test_set_text_that_is_not_a_value_of_the_type_is_refused_naming_it(name, case):
    annotation, bad = case
    config = config_with(name, annotation, DOMAIN[annotation], START[annotation])()
    with pytest.raises(ValueError, match="^--set ") as err:
        runner.apply_overrides(config, [(name, bad)])
    assert f"{name}={bad}" in str(err.value) or name in str(err.value)


@PROPERTY
@given(NAMES, st.integers(6, 10**6) | st.integers(-(10**6), -6))
def test_set_outside_the_domain_is_refused_naming_field_domain_and_value(name, value):
    config = config_with(name, int, integer(-5, 5), 0)()
    with pytest.raises(ValueError, match=f"{name} must be an integer in \\[-5, 5\\], got {value}$"):
        runner.apply_overrides(config, [(name, str(value))])


def test_set_refuses_unknown_and_reserved_fields():
    config = experiments.load(FAST).Config()
    for field in ("out", "variant", "nope"):
        with pytest.raises(ValueError, match=f"unknown field '{field}'"):
            runner.apply_overrides(config, [(field, "x")])


# ---------------------------------------------------------------- atomic writes, file modes, one writer


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_atomic_write_keeps_the_old_file_and_names_the_destination(tmp_path, monkeypatch, failing):
    path = tmp_path / "out.txt"
    io.atomic_write_text(path, "old")

    def fail(*args, **kwargs):  # replace names its source (the temporary file), fsync names nothing
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *(args[:1] if failing == "replace" else ()))

    monkeypatch.setattr(io.os, failing, fail)
    with pytest.raises(OSError) as err:
        io.atomic_write_text(path, "new")
    monkeypatch.undo()
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"], "no torn file, no temporary left"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o027, 0o640), (0o007, 0o660), (0o000, 0o666)])
def test_written_files_get_the_mode_an_ordinary_open_gives(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = io.atomic_write_bytes(tmp_path / "f.bin", b"\x00\x01")
        plain = tmp_path / "plain"
        plain.write_bytes(b"")  # the oracle: what open(path, "w") gives under this umask
        assert io._umask() == umask
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode == plain.stat().st_mode & 0o777
    assert path.read_bytes() == b"\x00\x01"


def test_one_writer_per_folder_names_the_holder_and_releases_the_lock(tmp_path):
    (tmp_path / io.LOCK_FILE).write_text("a much longer line left behind by an earlier holder of this lock " * 2)
    holder = f"process {os.getpid()} on {socket.gethostname()}"
    with io.exclusive(tmp_path, "--out"), pytest.raises(io.DirectoryInUse) as err:
        io.exclusive(tmp_path, "--out").__enter__()  # a second writer of the same folder
    assert f"--out {tmp_path} is in use by another writer ({holder});" in str(err.value)
    with io.exclusive(tmp_path, "--out") as held:  # released on leaving the block: the next writer takes it
        assert held == tmp_path


def test_compilation_cache_folder():
    assert io.compilation_cache_dir({"JAXML_COMPILATION_CACHE": "/c"}) == io.Path("/c")
    for off in ("0", "off", "OFF", "false", "no", " 0 "):
        assert io.compilation_cache_dir({"JAXML_COMPILATION_CACHE": off}) is None
    assert io.compilation_cache_dir({"XDG_CACHE_HOME": "/x"}) == io.Path("/x/jaxml/jax")


# ---------------------------------------------------------------- figures: nothing non-finite is drawn


def _line(ax, y):
    ax.plot([0.0, 1.0, 2.0], y, label="line")


def _scatter(ax, y):
    ax.scatter([0.0, 1.0, 2.0], y, label="points")


def _bars(ax, y):
    ax.bar([0, 1, 2], y, label="bars")


def _image(ax, y):
    ax.imshow(np.array([y, y]))


IMAGE_BUG = (
    "matplotlib masks NaN/±∞ pixels itself when imshow stores them (set_data → safe_masked_invalid), so "
    "plot.check cannot tell them from explicitly masked ones and lets them through: a bug of plot.check"
)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # matplotlib on a NaN bar
@pytest.mark.parametrize(
    "draw", [_line, _scatter, _bars, pytest.param(_image, marks=pytest.mark.xfail(strict=True, reason=IMAGE_BUG))]
)
def test_a_figure_with_a_non_finite_value_is_refused_and_a_clean_one_saved(tmp_path, draw):
    fig, ax = plt.subplots()
    ax.set_title("t")
    draw(ax, [1.0, 2.0, 3.0])
    assert plot.save(fig, tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"
    for bad in ([1.0, np.nan, 3.0], [np.inf, 2.0, 3.0]):
        fig, ax = plt.subplots()
        ax.set_title("t")
        draw(ax, bad)
        with pytest.raises(ValueError, match="figure 't'.*NaN or ±∞"):
            plot.save(fig, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_an_explicitly_masked_image_is_drawn():
    fig, ax = plt.subplots()
    ax.imshow(np.ma.masked_invalid(np.array([[1.0, np.nan], [2.0, 3.0]])))
    plot.check(fig)
    plt.close(fig)


def test_a_blank_legend_entry_is_refused_in_axes_and_figure_legends():
    for where in ("axes", "figure"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="   ")
        (ax if where == "axes" else fig).legend()
        with pytest.raises(ValueError, match="legend entry has no text"):
            plot.check(fig)
        plt.close(fig)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="fine")
    fig.legend()
    plot.check(fig)
    plt.close(fig)


def test_a_claims_count_of_tests_can_come_from_the_run():
    """``tests`` naming a metric takes this run's count (a quick run's fewer sizes, a ``--set``), so the bar is
    the one for the comparisons actually made; a missing or fractional count is an error, never a default."""
    import numpy as np
    import pytest

    from jaxml.report import Claim, bar, evaluate

    claim = Claim("c", "1.1", "s", effect="e", tests="comparisons")
    effects = {"e": 1.0 + np.linspace(0.0, 0.1, 10)}
    for count in (1, 6, 18):
        (verdict,) = evaluate([claim], {"comparisons": count}, replicates=effects)
        assert verdict.evidence.bar == pytest.approx(bar(count))
    with pytest.raises(KeyError, match="comparisons"):
        evaluate([claim], {}, replicates=effects)
    with pytest.raises(ValueError, match="whole count"):
        evaluate([claim], {"comparisons": 2.5}, replicates=effects)
