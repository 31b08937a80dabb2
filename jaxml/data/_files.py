"""The files shipped in ``jaxml/data/files``: their documented sha256, the reader, and the :class:`Dataset` record.

Private: :mod:`jaxml.data` and :mod:`jaxml.data.pokemon` both import it (neither imports the other for these).
"""

from __future__ import annotations

import csv
import hashlib
import io
from importlib import resources
from typing import NamedTuple

import numpy as np

#: sha256 of the shipped files, from SOURCES.md — a load checks the bytes it reads are the documented ones.
SHA256 = {
    "pokemon.csv": "02eabc49d3c70bc1e150891bdb9acb254910adfdfc12a6020c7b7117b2eca32f",
    "covid.train.csv": "298378b3db6a233e6cba686533c55844072b7c84e5e2eecf830a9e86a8dce475",
    "covid.test.csv": "d7bc0afb67a741638d745efa53dd4f967ca65f1e774957e701ff7822af6a37c3",
}


class Dataset(NamedTuple):
    """Features ``x`` (N, d) float64, targets ``y`` (N,), names and a one-line description.

    Attributes:
        x: the features, shape (N, d), float64, finite.
        y: the targets, shape (N,): int32 class labels for a classification set, float64 for a regression one.
        feature_names: the d column names of ``x``, in order.
        target_names: the class names, indexed by label, or the one name of a regression target.
        description: a one-line description of the set and its source.
    """

    __module__ = "jaxml.data"  # its public home

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str


def read_file(name: str) -> bytes:
    """The bytes of a shipped data file, checked against its documented sha256.

    Args:
        name: a file name in ``jaxml/data/files``, one of the keys of :data:`SHA256`.

    Returns:
        The file's contents as ``bytes``.

    Raises:
        ValueError: if ``name`` is not a shipped file, or if the bytes read do not have the documented sha256
            (a corrupted or replaced file).
    """
    if name not in SHA256:
        raise ValueError(f"unknown data file {name!r}; shipped files: {sorted(SHA256)}")
    raw = resources.files("jaxml.data").joinpath("files", name).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{name} is corrupted: sha256 {digest}, expected {SHA256[name]}")
    return raw


def read_csv(name: str) -> tuple[list[str], list[list[str]]]:
    """A shipped CSV as (header, rows of strings); ragged rows raise ``ValueError``.

    Args:
        name: a CSV file name in ``jaxml/data/files``, one of the keys of :data:`SHA256`.

    Returns:
        ``(header, rows)``: the column names (a list of str) and the data rows (a list of lists of str, one
        field per column; blank lines skipped).

    Raises:
        ValueError: if ``name`` is not a shipped file, its sha256 is not the documented one, it is not UTF-8,
            or a row has another number of fields than the header.
    """
    reader = csv.reader(io.StringIO(read_file(name).decode("utf-8")))
    header = next(reader)
    rows = [row for row in reader if row]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"{name}: row {i + 1} has {len(row)} fields, the header has {len(header)}")
    return header, rows
