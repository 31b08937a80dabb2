"""What a planted bug is: one logical change to one file, and the test files that should catch it.

Shared by ``run_mutations.py`` and the ``mutants_*.py`` lists beside it (one per area of the code).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["tests/test_train_oracle.py"]
NUMERICS = ["tests/test_numerics_oracle.py"]


class Mutation(NamedTuple):
    id: str  # unique first word, e.g. "T3"; the rest describes the bug
    file: str
    edits: list[tuple[str, str]]  # (exact old text, new text); one logical bug
    stage1: list[str]  # test files run first (cheap oracles)
    stage2: list[str] = []  # run only if stage 1 missed it


M = Mutation
