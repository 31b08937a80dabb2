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

#: the numeric columns of the table, in the column order of :attr:`PokemonTable.numeric`.
NUMERIC: tuple[str, ...] = ("#", "Total", *STATS, "Generation")
#: the class names of the water-vs-normal task indexed by label — 0 = Normal (C₂), 1 = Water (C₁).
CLASS_NAMES: tuple[str, str] = ("Normal", "Water")


class PokemonTable(NamedTuple):
    """The whole table, one array per column (rows in file order).

    ``numeric`` is (800, 9) float64 with the columns of :data:`NUMERIC`; ``mega`` marks Mega forms.

    Attributes:
        number: the Pokédex number ``#`` of each row, shape (800,), int (Mega and alternate forms share it).
        name: the names, shape (800,), str.
        type1: ``Type 1`` of each row, shape (800,), str.
        type2: ``Type 2`` of each row, shape (800,), str (empty for a single-type Pokémon).
        numeric: the :data:`NUMERIC` columns, shape (800, 9), float64.
        legendary: whether each row is legendary, shape (800,), bool.
        mega: whether each row is a Mega form (its name contains ``"Mega "``), shape (800,), bool.
    """

    number: np.ndarray
    name: np.ndarray
    type1: np.ndarray
    type2: np.ndarray
    numeric: np.ndarray
    legendary: np.ndarray
    mega: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One numeric column (``"#"``, ``"Total"``, a stat or ``"Generation"``) as float64.

        Args:
            name: a column name from :data:`NUMERIC`.

        Returns:
            The column, shape (800,), float64 (a view into :attr:`numeric`).

        Raises:
            ValueError: if ``name`` is not in :data:`NUMERIC`.
        """
        if name not in NUMERIC:
            raise ValueError(f"column must be one of {NUMERIC}, got {name!r}")
        return self.numeric[:, NUMERIC.index(name)]


class PokemonSplit(NamedTuple):
    """A train/test split of a two-type classification task: labels 1 = the first type (C₁), 0 = the second.

    Attributes:
        x_train: the training features, shape (N_train, D), float64, columns in ``feature_names`` order.
        y_train: the training labels, shape (N_train,), int64: 1 for the first type, 0 for the second.
        x_test: the test features, shape (N_test, D), float64.
        y_test: the test labels, shape (N_test,), int64.
        feature_names: the D column names of ``x_train`` and ``x_test``.
        class_names: the type names indexed by label: ``(second type, first type)``.
        names_train: the Pokémon names of the training rows, shape (N_train,), str.
        names_test: the Pokémon names of the test rows, shape (N_test,), str.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, str]
    names_train: np.ndarray
    names_test: np.ndarray


def load_pokemon() -> PokemonTable:
    """Read ``files/pokemon.csv`` (stdlib ``csv``, packaged with ``importlib.resources``).

    Returns:
        The whole table as a :class:`PokemonTable`, rows in file order.

    Raises:
        ValueError: if the shipped file does not match its documented sha256 or lacks a needed column.
    """
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
        class1: the type labelled 1 (C₁), e.g. ``"Water"``.
        class2: the type labelled 0 (C₂), e.g. ``"Normal"``; it must differ from ``class1``.
        features: ``"two"`` (Defense, Sp. Def), ``"six"`` (the six stats), ``"seven"`` (``Total`` + six) or
            a sequence of column names.
        cutoff: training rows have ``#`` below it; the rest are the test set.
        include_mega: keep Mega forms (the lecture's 79/61 includes them).
        by: ``"type1"`` (the lecture) or ``"either"`` (a Pokémon counts if its Type 1 or Type 2 matches; one
            that matches both types is dropped).
        table: a table from :func:`load_pokemon` (read from disk when omitted).

    Returns:
        A :class:`PokemonSplit`: features as float64 columns in the order of ``features``, int64 labels, and
        ``class_names`` ``(class2, class1)``, indexed by label.

    Raises:
        TypeError: if ``class1`` or ``class2`` is not a str, ``cutoff`` is not an integer, ``include_mega`` is
            not a bool, or ``table`` is not a :class:`PokemonTable`.
        ValueError: if ``class1`` equals ``class2`` or either is not a ``Type 1`` in the table, ``features`` is
            an unknown name, empty or names a non-numeric column, ``by`` is not ``"type1"`` or ``"either"``, or
            the shipped file is corrupted (when ``table`` is omitted).
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
    The counts hold for the defaults; :func:`type_split` with ``"Water"``, ``"Normal"`` is the general form.

    Args:
        features: ``"two"``, ``"six"``, ``"seven"`` (see above) or a sequence of names from :data:`NUMERIC`.
        cutoff: training rows have ``#`` below it; the rest are the test set.
        include_mega: keep Mega forms (the lecture's 79/61 includes them).
        by: ``"type1"`` (the lecture) or ``"either"`` (Type 1 or Type 2 matches; dual Water/Normal dropped).
        table: a table from :func:`load_pokemon` (read from disk when omitted).

    Returns:
        A :class:`PokemonSplit` with labels 1 = Water, 0 = Normal and ``class_names`` ``("Normal", "Water")``.

    Raises:
        TypeError: if ``cutoff`` is not an integer, ``include_mega`` not a bool, or ``table`` not a
            :class:`PokemonTable`.
        ValueError: if ``features`` or ``by`` is not one of the choices above, or the shipped file is corrupted.
    """
    return type_split("Water", "Normal", features, cutoff=cutoff, include_mega=include_mega, by=by, table=table)


def load_pokemon_dataset() -> Dataset:
    """All 210 Water and Normal Pokémon (``Type 1``, file order) as a :class:`jaxml.data.Dataset`.

    ``x`` holds the six stats (HP, Attack, Defense, Sp. Atk, Sp. Def, Speed), ``y`` is 1 for Water and 0 for
    Normal. For the lecture's train/test split use :func:`water_vs_normal`.

    Returns:
        A :class:`jaxml.data.Dataset`: ``x`` (210, 6) float64, ``y`` (210,) int32, ``feature_names``
        :data:`STATS`, ``target_names`` :data:`CLASS_NAMES`.

    Raises:
        ValueError: if the shipped file does not match its documented sha256.
    """
    t = load_pokemon()
    keep = (t.type1 == "Water") | (t.type1 == "Normal")
    x = np.stack([t.column(f) for f in STATS], axis=1)[keep]
    y = (t.type1[keep] == "Water").astype(np.int32)
    return Dataset(x, y, STATS, CLASS_NAMES, "Pokémon water vs normal (Type 1), six base stats; 1 = Water")
