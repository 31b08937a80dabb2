"""The Pokémon table and the lecture's water-vs-normal classification split.

``files/pokemon.csv`` (see ``files/SOURCES.md``) lists all 800 Pokémon of generations 1–6 with their Mega and
alternate forms: ``#, Name, Type 1, Type 2, Total, HP, Attack, Defense, Sp. Atk, Sp. Def, Speed, Generation,
Legendary``. The lecture classifies Water against Normal (by ``Type 1``) and trains on the Pokémon whose ``#`` is
below 400 — 79 Water and 61 Normal, Mega forms included — and tests on the remaining 70 (33 Water, 37 Normal).
Labels follow the lecture's class order with logistic regression's convention: **1 = Water (C₁)**,
0 = Normal (C₂).

Example:
    >>> from jaxml.data.pokemon import water_vs_normal
    >>> split = water_vs_normal("two")            # Defense, Sp. Def
    >>> split.x_train.shape, int(split.y_train.sum()), split.x_test.shape
    ((140, 2), 79, (70, 2))
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from jaxml import _checks
from jaxml.data._files import Dataset, read_file

__all__ = [
    "CLASS_NAMES",
    "FEATURE_SETS",
    "NUMERIC",
    "STATS",
    "PokemonSplit",
    "PokemonTable",
    "load_pokemon",
    "load_pokemon_dataset",
    "type_split",
    "water_vs_normal",
]

STATS: tuple[str, ...] = ("HP", "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed")
"""The six base stats; ``Total`` is their sum."""

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "two": ("Defense", "Sp. Def"),
    "six": STATS,
    "seven": ("Total", *STATS),
}
"""Named feature choices: the lecture's two features, its six stats, and the six plus ``Total`` (singular Σ)."""

NUMERIC: tuple[str, ...] = ("#", "Total", *STATS, "Generation")
CLASS_NAMES: tuple[str, str] = ("Normal", "Water")


class PokemonTable(NamedTuple):
    """The whole table, one array per column (rows in file order).

    ``numeric`` is (800, 9) float64 with the columns of :data:`NUMERIC`; ``mega`` marks Mega forms.
    """

    number: np.ndarray
    name: np.ndarray
    type1: np.ndarray
    type2: np.ndarray
    numeric: np.ndarray
    legendary: np.ndarray
    mega: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One numeric column (``"#"``, ``"Total"``, a stat or ``"Generation"``) as float64."""
        if name not in NUMERIC:
            raise ValueError(f"column must be one of {NUMERIC}, got {name!r}")
        return self.numeric[:, NUMERIC.index(name)]


class PokemonSplit(NamedTuple):
    """A train/test split of a two-type classification task: labels 1 = the first type (C₁), 0 = the second."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, str]
    names_train: np.ndarray
    names_test: np.ndarray


def load_pokemon() -> PokemonTable:
    """Read ``files/pokemon.csv`` (stdlib ``csv``, packaged with ``importlib.resources``)."""
    # read_file checks the bytes against the sha256 documented in files/SOURCES.md.
    reader = csv.DictReader(io.StringIO(read_file("pokemon.csv").decode("utf-8")))
    rows = list(reader)
    missing = set(NUMERIC) | {"Name", "Type 1", "Type 2", "Legendary"}
    missing -= set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"pokemon.csv lacks the column(s) {sorted(missing)}")
    name = np.array([r["Name"] for r in rows])
    return PokemonTable(
        number=np.array([int(r["#"]) for r in rows]),
        name=name,
        type1=np.array([r["Type 1"] for r in rows]),
        type2=np.array([r["Type 2"] for r in rows]),
        numeric=np.array([[float(r[c]) for c in NUMERIC] for r in rows], dtype=np.float64),
        legendary=np.array([r["Legendary"].strip().lower() == "true" for r in rows]),
        mega=np.array(["Mega " in n for n in name]),
    )


def _feature_names(features: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(features, str):
        if features not in FEATURE_SETS:
            raise ValueError(
                f"features must be one of {tuple(FEATURE_SETS)} or a sequence of column names, got {features!r}"
            )
        return FEATURE_SETS[features]
    names = tuple(features)
    bad = [f for f in names if f not in NUMERIC]
    if not names or bad:
        raise ValueError(f"features must be column names from {NUMERIC}, got {names!r}")
    return names


def type_split(
    class1: str,
    class2: str,
    features: str | Sequence[str] = "two",
    *,
    cutoff: int = 400,
    include_mega: bool = True,
    by: str = "type1",
    table: PokemonTable | None = None,
) -> PokemonSplit:
    """Pokémon of type ``class1`` (label 1) against ``class2`` (label 0); train on ``#`` < ``cutoff``.

    Args:
        class1, class2: the two types (e.g. ``"Water"``, ``"Normal"``).
        features: ``"two"`` (Defense, Sp. Def), ``"six"`` (the six stats), ``"seven"`` (``Total`` + six) or
            a sequence of column names.
        cutoff: training rows have ``#`` below it; the rest are the test set.
        include_mega: keep Mega forms (the lecture's 79/61 includes them).
        by: ``"type1"`` (the lecture) or ``"either"`` (a Pokémon counts if its Type 1 or Type 2 matches; one
            that matches both types is dropped).
        table: a table from :func:`load_pokemon` (read from disk when omitted).
    """
    if by not in ("type1", "either"):
        raise ValueError(f"by must be 'type1' or 'either', got {by!r}")
    cutoff = _checks.integer(cutoff, "cutoff")
    if not isinstance(include_mega, (bool, np.bool_)):
        raise TypeError(f"include_mega must be a bool, got {type(include_mega).__name__}")
    for value, label in ((class1, "class1"), (class2, "class2")):
        if not isinstance(value, str):
            raise TypeError(f"{label} must be a type name (a str such as 'Water'), got {type(value).__name__}")
    if class1 == class2:
        raise ValueError(f"class1 and class2 must differ, got {class1!r} twice")
    if table is not None and not isinstance(table, PokemonTable):
        raise TypeError(f"table must be a PokemonTable (from load_pokemon) or None, got {type(table).__name__}")
    names = _feature_names(features)
    t = load_pokemon() if table is None else table
    known = set(t.type1.tolist())
    for c, label in ((class1, "class1"), (class2, "class2")):
        if c not in known:
            raise ValueError(f"{label} must be a type in the table, one of {sorted(known)}; got unknown type {c!r}")
    if by == "type1":
        is1, is2 = t.type1 == class1, t.type1 == class2
    else:
        is1 = (t.type1 == class1) | (t.type2 == class1)
        is2 = (t.type1 == class2) | (t.type2 == class2)
        is1, is2 = is1 & ~is2, is2 & ~is1
    keep = (is1 | is2) & (include_mega | ~t.mega)
    x = np.stack([t.column(f) for f in names], axis=1)
    y = is1.astype(np.int64)
    train = keep & (t.number < cutoff)
    test = keep & (t.number >= cutoff)
    return PokemonSplit(
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        feature_names=names,
        class_names=(class2, class1),
        names_train=t.name[train],
        names_test=t.name[test],
    )


def water_vs_normal(
    features: str | Sequence[str] = "two",
    *,
    cutoff: int = 400,
    include_mega: bool = True,
    by: str = "type1",
    table: PokemonTable | None = None,
) -> PokemonSplit:
    """The lecture's task: Water (label 1, C₁) vs Normal (label 0, C₂), 79/61 for training, 33/37 for testing.

    ``features``: ``"two"`` = (Defense, Sp. Def), ``"six"`` = (HP, Attack, Defense, Sp. Atk, Sp. Def, Speed),
    ``"seven"`` = ``Total`` + the six (a singular covariance: Total is their sum), or column names.
    """
    return type_split("Water", "Normal", features, cutoff=cutoff, include_mega=include_mega, by=by, table=table)


def load_pokemon_dataset() -> Dataset:
    """All 210 Water and Normal Pokémon (``Type 1``, file order) as a :class:`jaxml.data.Dataset`.

    ``x`` holds the six stats (HP, Attack, Defense, Sp. Atk, Sp. Def, Speed), ``y`` is 1 for Water and 0 for
    Normal. For the lecture's train/test split use :func:`water_vs_normal`.
    """
    t = load_pokemon()
    keep = (t.type1 == "Water") | (t.type1 == "Normal")
    x = np.stack([t.column(f) for f in STATS], axis=1)[keep]
    y = (t.type1[keep] == "Water").astype(np.int32)
    return Dataset(x, y, STATS, CLASS_NAMES, "Pokémon water vs normal (Type 1), six base stats; 1 = Water")
