"""The README's front page says what the code does: its example runs, its tables name what exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import experiments

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_is_a_front_page():
    assert len(README.encode()) <= 12 * 1024, "the README is a front page: at most 12 KB"
    assert not re.search(r"\b\d{2}:\d{2} UTC\b", README), "no timestamps on the front page"


def test_the_claims_table_counts_each_experiments_claims():
    """Each row's denominator is the number of claims the experiment declares, every experiment has a row, and
    the headline total is their sum."""
    rows = dict(re.findall(r"^\| `(\w+)` \| [\d.]+ \| .* \| \d+ / (\d+) \|$", README, re.M))
    assert set(rows) == set(experiments.names())
    for name, total in rows.items():
        assert int(total) == len(experiments.load(name).CLAIMS), name
    headline = re.search(r"reproduces \*\*(\d+) of (\d+)\*\* lecture claims", README)
    held = sum(int(h) for h in re.findall(r"^\| `\w+` \| [\d.]+ \| .* \| (\d+) / \d+ \|$", README, re.M))
    assert headline and int(headline.group(2)) == sum(int(t) for t in rows.values())
    assert int(headline.group(1)) == held


@pytest.mark.slow
def test_the_api_in_five_minutes_runs():
    (block,) = re.findall(r"```python\n(.*?)```", README, re.S)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 -- the README's own example
    assert namespace["result"].history["train_loss"].shape == (200,)
    assert namespace["sweep"].history["train_loss"].shape[0] == 16
