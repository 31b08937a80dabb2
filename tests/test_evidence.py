"""The one rule of evidence (``jaxml.report.replicated``), its negative controls, strict provenance-carrying
``results.json`` and the figure checks every plot passes through."""

from __future__ import annotations

import dataclasses
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

import experiments
from jaxml import plot
from jaxml.report import (
    MIN_REPLICATES,
    Claim,
    ExperimentConfig,
    Result,
    bar,
    evaluate,
    replicated,
    write_results_json,
)


def test_bar_matches_scipy_sidak():
    alpha = stats.norm.sf(3.0)
    for k in (1, 2, 5, 12, 40):
        assert bar(k) == pytest.approx(stats.norm.isf(1 - (1 - alpha) ** (1 / k)), rel=1e-9)
    assert bar(1) == 3.0 and bar(2) > bar(1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="tests"):
            bar(bad)


def test_replicated_against_a_hand_computed_t_statistic():
    rng = np.random.default_rng(0)
    e = rng.normal(1.0, 1.0, size=12)
    ev = replicated(e)
    assert ev.n == 12 and ev.held == int((e > 0).sum())
    assert ev.mean == pytest.approx(e.mean()) and ev.se == pytest.approx(stats.sem(e))
    assert ev.holds == (e.mean() / stats.sem(e) > 3.0)


def test_replicated_needs_enough_replicates_and_a_positive_mean():
    assert not replicated(np.ones(MIN_REPLICATES - 1)).holds  # too few, however clear
    assert replicated(np.ones(MIN_REPLICATES)).holds  # identical positive effects: se = 0
    assert not replicated(np.zeros(MIN_REPLICATES)).holds
    assert not replicated(-np.ones(MIN_REPLICATES)).holds
    # just under and just over the bar
    e = np.r_[np.ones(5), -np.ones(5)] + 0.0
    se = stats.sem(e)
    assert not replicated(e + 2.99 * se).holds and replicated(e + 3.01 * se).holds
    assert not replicated(e + 3.01 * se, tests=5).holds  # the best of 5 needs more


def test_replicated_rejects_bad_effects():
    for bad in ([], [[1.0, 2.0]], [1.0, np.nan] * 5, [1.0, np.inf] * 5):
        with pytest.raises(ValueError, match="effects"):
            replicated(bad)


def test_replicated_false_alarm_rate_under_the_null():
    # 20,000 null claims of 10 normal replicates: the rate is the t(9) tail beyond 3, far below 1%.
    rng = np.random.default_rng(1)
    null = rng.normal(size=(20_000, 10))
    rate = np.mean([replicated(row).holds for row in null])
    assert rate == pytest.approx(stats.t.sf(3.0, df=9), abs=0.003)


def test_evaluate_needs_exactly_one_kind_and_the_effect():
    with pytest.raises(TypeError, match="exactly one"):
        evaluate([Claim("a", "1.1", "s")], {})
    with pytest.raises(TypeError, match="exactly one"):
        evaluate([Claim("a", "1.1", "s", lambda m: True, effect="e")], {}, replicates={"e": np.ones(10)})
    with pytest.raises(KeyError, match="replicates"):
        evaluate([Claim("a", "1.1", "s", effect="e")], {}, replicates={})
    (v,) = evaluate([Claim("a", "1.1", "s", effect="e")], {}, replicates={"e": np.arange(1, 11)})
    assert v.holds and v.evidence.n == 10 and v.to_json()["kind"] == "empirical"


def test_results_json_is_strict_and_carries_provenance(tmp_path):
    config = ExperimentConfig(seed=7)
    result = Result("t", metrics={"a": 1.0, "not_reached": None}, replicates={"e": np.arange(10)})
    write_results_json(tmp_path / "r.json", "t", result, 1.0, config)
    text = (tmp_path / "r.json").read_text()
    payload = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert payload["seed"] == 7 and payload["config"]["seed"] == 7 and payload["metrics"]["not_reached"] is None
    assert payload["replicates"]["e"] == list(range(10))
    packages = payload["provenance"]["packages"]
    assert {"jaxml", "jax", "jaxlib", "optax", "numpy"} <= set(packages) and all(packages.values())
    assert payload["provenance"]["device"]["platform"] == "cpu"
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match="never NaN"):
            write_results_json(tmp_path / "bad.json", "t", Result("t", metrics={"x": bad}), 1.0, config)
    assert not (tmp_path / "bad.json").exists()


def test_report_header_reads_the_seed_that_ran(tmp_path):
    from experiments.__main__ import main

    main(["naive_bayes_toy", "--out", str(tmp_path), "--set", "seed=7"])
    report = (tmp_path / "report.md").read_text()
    assert "seed 7" in report and "seed 0" not in report
    payload = json.loads((tmp_path / "naive_bayes_toy" / "results.json").read_text())
    assert payload["seed"] == 7 and payload["provenance"]["packages"]["jax"]


def test_figure_check_refuses_nan_and_empty_legend_entries(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.0, np.inf, 1.0], label="never reached")
    with pytest.raises(ValueError, match="NaN or ±∞"):
        plot.save(fig, tmp_path / "a.png")
    fig, ax = plt.subplots()
    ax.scatter([0, np.nan], [0, 1], label="points")
    with pytest.raises(ValueError, match="NaN or ±∞"):
        plot.save(fig, tmp_path / "b.png")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label=" ")
    ax.legend()
    with pytest.raises(ValueError, match="legend entry"):
        plot.save(fig, tmp_path / "c.png")
    assert not list(tmp_path.iterdir())  # nothing half-drawn was written


# ---------------------------------------------------------------- every experiment's claims


def _empirical(name: str) -> list[Claim]:
    return [c for c in experiments.load(name).CLAIMS if c.empirical]


@pytest.mark.parametrize("name", experiments.names())
def test_claims_are_well_formed(name):
    module = experiments.load(name)
    fields = {f.name for f in dataclasses.fields(module.Config)}
    ids = [c.id for c in module.CLAIMS]
    assert len(ids) == len(set(ids)), f"{name}: duplicate claim ids"
    for c in module.CLAIMS:
        if c.empirical:
            assert c.control, f"{name}.{c.id}: an empirical claim needs a negative control"
            assert set(c.control) <= fields - {"seed", "out", "variant"}, f"{name}.{c.id}: {c.control}"
        else:
            assert c.control is None, f"{name}.{c.id}: an exact claim has no control"
    assert module.Config().replicates >= MIN_REPLICATES
    assert module.Config().quick().replicates >= MIN_REPLICATES or not any(c.quick for c in _empirical(name))


def _controls() -> list[tuple[str, tuple]]:
    out = []
    for name in experiments.names():
        seen = []
        for c in _empirical(name):
            key = tuple(sorted(c.control.items()))
            if key not in seen:
                seen.append(key)
                out.append((name, key))
    return out


@pytest.mark.parametrize(("name", "control"), _controls(), ids=lambda p: str(p))
def test_negative_control_fails_the_claim(name, control, tmp_path):
    """Each empirical claim, measured with the lecture's mechanism removed, is not reproduced: the predicate
    can fail."""
    module = experiments.load(name)
    claims = [c for c in _empirical(name) if tuple(sorted(c.control.items())) == control]
    config = dataclasses.replace(module.Config(out=str(tmp_path)).quick(), **dict(control))
    result = module.compute(config)
    verdicts = evaluate(claims, result.metrics, replicates=result.replicates, quick=True)
    held = [(v.id, v.evidence) for v in verdicts if v.holds]
    assert not held, f"{name}: claims that hold with the mechanism removed ({dict(control)}): {held}"
