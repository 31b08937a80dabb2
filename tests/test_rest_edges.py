"""Edges of the modules the other test files reach only in passing: row-block streaming (``_blocks``), the
shipped files and the Pokémon table, ``distributed``'s pure helpers, and the boundaries of ``_checks``.

Oracles: NumPy reductions over all rows and row-by-row maps (streaming), the shipped CSV parsed with Python's
``csv`` module (data), crafted environment mappings and the rows each device holds (distributed), the int64
seed viewed as two uint32 halves with NumPy (keys), and each check's documented interval (boundaries).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxml import _blocks, _checks, distributed
from jaxml.data import _files, pokemon

# ----------------------------------------------------------------------------------------------------------
# _blocks: every row counted once, whatever N is next to the block


# Blocks start at the first 64-byte-aligned row, which is < BLOCK here (as it is < 64 ≤ MIN_BLOCK in use): rows of
# 3 float32 (12 bytes) are aligned every 16 rows.
BLOCK = 16
LENGTHS = [1, 5, BLOCK, BLOCK + 1, 39, 40, 80]  # shorter than, equal to, and not a multiple of the block


def _masked_sums(xb, lo, hi):
    """A block's statistics: the sum and count of its rows lo ≤ i < hi (what a fit accumulates)."""
    mask = (jnp.arange(xb.shape[0]) >= lo) & (jnp.arange(xb.shape[0]) < hi)
    return {"sum": jnp.sum(xb * mask[:, None], axis=0), "count": jnp.sum(mask)}


def _data(n: int, misaligned: bool) -> np.ndarray:
    """Small integers in float32 (sums exact); ``misaligned`` starts the rows 12 bytes into an aligned buffer,
    so the first 64-byte-aligned row is row 15 and the streaming adds a head block."""
    rng = np.random.default_rng(n)
    values = rng.integers(-5, 6, size=(n, 3)).astype(np.float32)
    if not misaligned:
        return values
    buf = _blocks.aligned_empty((n + 1, 3), np.float32)
    buf[1:] = values
    return buf[1:]


@pytest.mark.parametrize("head", [0, 5, BLOCK - 1])
@pytest.mark.parametrize("n", [16, 17, 20, 31, 32, 47, 80])
def test_host_blocks_cover_every_row_once(n, head):
    counted = np.zeros(n, int)
    for start, lo, hi in _blocks.host_blocks(n, BLOCK, head):
        assert start >= 0 and start + BLOCK <= n  # every block lies inside the array
        counted[start + lo : start + hi] += 1
    np.testing.assert_array_equal(counted, np.ones(n, int))


@pytest.mark.parametrize("misaligned", [False, True])
@pytest.mark.parametrize("n", [*LENGTHS, 47])
def test_map_host_blocks_sums_equal_numpy_over_all_rows(n, misaligned):
    x = _data(n, misaligned)
    out = _blocks.map_host_blocks(_masked_sums, (x,), BLOCK)
    np.testing.assert_array_equal(out["sum"].sum(axis=0), x.sum(axis=0))
    assert int(out["count"].sum()) == n


@pytest.mark.parametrize("n", LENGTHS)
def test_map_blocks_under_jit_sums_equal_numpy_over_all_rows(n):
    x = _data(n, False)
    out = jax.jit(lambda a: _blocks.map_blocks(_masked_sums, (a,), BLOCK))(x)
    np.testing.assert_array_equal(np.asarray(out["sum"]).sum(axis=0), x.sum(axis=0))
    assert int(np.asarray(out["count"]).sum()) == n


@pytest.mark.parametrize("misaligned", [False, True])
@pytest.mark.parametrize("n", [*LENGTHS, 47])
def test_row_maps_equal_the_map_applied_row_by_row(n, misaligned):
    x = _data(n, misaligned)
    expected = np.stack([row * 2 + 1 for row in x])  # fn of a zero (padding) row is 1: never in the answer
    np.testing.assert_array_equal(_blocks.map_host(lambda b: b * 2 + 1, x, BLOCK), expected)
    traced = jax.jit(lambda a: _blocks.map_rows(lambda b: b * 2 + 1, a, BLOCK))(x)
    np.testing.assert_array_equal(np.asarray(traced), expected)


def test_block_rows_is_a_power_of_two_no_more_than_n_rounded_up():
    # The module's tuning note: 8192 rows of 50 float64 (4 MiB) for a large input.
    assert _blocks.block_rows(10**6, 50 * 8) == 8192
    assert _blocks.block_rows(1, 8) == _blocks.block_rows(200, 8) == _blocks.MIN_BLOCK
    for n in (1000, 1024, 1025):
        rounded = 1 << (n - 1).bit_length()  # N rounded up to a power of two
        assert _blocks.block_rows(n, 8) == rounded


def test_aligned_empty_is_64_byte_aligned():
    for shape in [(5, 3), (17,), (2, 2, 2)]:
        a = _blocks.aligned_empty(shape, np.float32)
        assert a.shape == shape and a.dtype == np.float32 and a.ctypes.data % _blocks.ALIGN == 0


# ----------------------------------------------------------------------------------------------------------
# data: the shipped files and the Pokémon table against Python's csv module


def _shipped(name: str) -> bytes:
    return resources.files("jaxml.data").joinpath("files", name).read_bytes()


def _csv_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_shipped(name).decode("utf-8"))))


def test_read_csv_equals_python_csv():
    header, rows = _files.read_csv("covid.test.csv")
    expected = list(csv.reader(io.StringIO(_shipped("covid.test.csv").decode("utf-8"))))
    assert header == expected[0] and rows == [r for r in expected[1:] if r]


def test_read_file_refuses_bytes_with_another_digest(monkeypatch):
    real = _files.SHA256["pokemon.csv"]
    last = "0" if real[-1] != "0" else "1"  # a digest differing only in its last hex digit
    monkeypatch.setitem(_files.SHA256, "pokemon.csv", real[:-1] + last)
    with pytest.raises(ValueError, match="pokemon.csv is corrupted"):
        _files.read_file("pokemon.csv")


@pytest.mark.parametrize("name", ["SOURCES.md", "missing.csv"])
def test_read_file_refuses_unlisted_names(name):
    with pytest.raises(ValueError, match="unknown data file"):
        _files.read_file(name)


@pytest.mark.parametrize("text, row, fields", [(b"a,b\n1,2\n3\n", 2, 1), (b"a,b\n1,2,3\n4,5\n", 1, 3)])
def test_read_csv_refuses_short_and_long_rows(monkeypatch, text, row, fields):
    monkeypatch.setattr(_files, "read_file", lambda name: text)
    with pytest.raises(ValueError, match=f"row {row} has {fields} fields, the header has 2"):
        _files.read_csv("covid.test.csv")


def test_pokemon_table_equals_python_csv():
    rows = _csv_rows("pokemon.csv")
    t = pokemon.load_pokemon()
    assert len(rows) == len(t.name) == 800
    assert t.name.tolist() == [r["Name"] for r in rows]
    assert t.number.tolist() == [int(r["#"]) for r in rows]
    assert t.type1.tolist() == [r["Type 1"] for r in rows] and t.type2.tolist() == [r["Type 2"] for r in rows]
    for c in pokemon.NUMERIC:
        np.testing.assert_array_equal(t.column(c), [float(r[c]) for r in rows])
    assert t.legendary.tolist() == [r["Legendary"] == "True" for r in rows]
    np.testing.assert_array_equal(t.numeric[:, 1], t.numeric[:, 2:8].sum(axis=1))  # Total = Σ the six stats


def test_mega_forms_are_the_extra_mega_rows_of_a_number():
    rows = _csv_rows("pokemon.csv")
    seen: set[str] = set()
    expected = []
    for r in rows:  # a Mega form repeats the number of its base form (Meganium, Yanmega do not)
        expected.append(r["#"] in seen and "Mega" in r["Name"])
        seen.add(r["#"])
    assert pokemon.load_pokemon().mega.tolist() == expected


def _oracle_split(class1, class2, features, cutoff, include_mega, by):
    rows, seen = _csv_rows("pokemon.csv"), set()
    out = {"train": ([], [], []), "test": ([], [], [])}
    for r in rows:
        mega = r["#"] in seen and "Mega" in r["Name"]
        seen.add(r["#"])
        types = (r["Type 1"],) if by == "type1" else (r["Type 1"], r["Type 2"])
        has1, has2 = class1 in types, class2 in types
        if has1 == has2 or (mega and not include_mega):
            continue
        x, y, names = out["train" if int(r["#"]) < cutoff else "test"]
        x.append([float(r[f]) for f in features])
        y.append(int(has1))
        names.append(r["Name"])
    return out


@pytest.mark.parametrize(
    "class1, class2, cutoff, include_mega, by",
    [
        ("Water", "Normal", 400, True, "type1"),
        ("Water", "Normal", 382, False, "either"),
        ("Fire", "Flying", 151, True, "either"),
    ],
)
def test_type_split_equals_a_loop_over_the_csv(class1, class2, cutoff, include_mega, by):
    features = ("HP", "Speed")
    split = pokemon.type_split(class1, class2, features, cutoff=cutoff, include_mega=include_mega, by=by)
    oracle = _oracle_split(class1, class2, features, cutoff, include_mega, by)
    for part, (x, y, names) in (("train", oracle["train"]), ("test", oracle["test"])):
        np.testing.assert_array_equal(getattr(split, f"x_{part}"), np.reshape(x, (-1, 2)))
        np.testing.assert_array_equal(getattr(split, f"y_{part}"), y)
        assert getattr(split, f"names_{part}").tolist() == names
    assert split.class_names[1] == class1 and split.class_names[0] == class2  # class_names[label]


def test_lecture_split_counts_and_bibarel_at_the_cutoff():
    split = pokemon.water_vs_normal("six")
    assert (int(split.y_train.sum()), int((split.y_train == 0).sum())) == (79, 61)
    assert (int(split.y_test.sum()), int((split.y_test == 0).sum())) == (33, 37)
    assert "Bibarel" in split.names_test.tolist()  # #400 = the cutoff: a test example, not a training one
    assert [split.class_names[k] for k in (0, 1)] == list(pokemon.CLASS_NAMES)


def test_pokemon_dataset_equals_python_csv():
    rows = [r for r in _csv_rows("pokemon.csv") if r["Type 1"] in ("Water", "Normal")]
    ds = pokemon.load_pokemon_dataset()
    np.testing.assert_array_equal(ds.x, [[float(r[s]) for s in pokemon.STATS] for r in rows])
    assert ds.y.tolist() == [int(r["Type 1"] == "Water") for r in rows]
    assert [ds.target_names[k] for k in ds.y] == [r["Type 1"] for r in rows]


@pytest.mark.parametrize("features", [(), ["HP", "Weight"], "eight"])
def test_type_split_refuses_empty_or_unknown_features(features):
    with pytest.raises(ValueError, match="features must be"):
        pokemon.water_vs_normal(features)


# ----------------------------------------------------------------------------------------------------------
# distributed: the environment and the rows of this process

FULL = {"JAXML_COORDINATOR": "h:1", "JAXML_NUM_PROCESSES": "3", "JAXML_PROCESS_ID": "2"}


def test_config_from_env_boundaries():
    assert distributed.config_from_env(FULL) == distributed.DistributedConfig("h:1", 3, 2)  # id = count − 1
    # An empty jaxml variable is unset: JAX's name is read instead, variable by variable.
    mixed = {
        "JAXML_COORDINATOR": "",
        "JAX_COORDINATOR_ADDRESS": "j:2",
        "JAXML_NUM_PROCESSES": "1",
        "JAX_NUM_PROCESSES": "9",
        "JAX_PROCESS_ID": "0",
    }
    assert distributed.config_from_env(mixed) == distributed.DistributedConfig("j:2", 1, 0)
    assert distributed.config_from_env({k: "" for k in FULL}) is None


@pytest.mark.parametrize(
    "change, match",
    [
        ({"JAXML_PROCESS_ID": "3"}, r"JAXML_PROCESS_ID \(3\) must be smaller than JAXML_NUM_PROCESSES \(3\)"),
        ({"JAXML_PROCESS_ID": "-1"}, "JAXML_PROCESS_ID must be >= 0"),
        ({"JAXML_NUM_PROCESSES": "0", "JAXML_PROCESS_ID": "0"}, "JAXML_NUM_PROCESSES must be >= 1"),
        ({"JAXML_COORDINATOR": "h1"}, "host:port"),
        ({"JAXML_COORDINATOR": ""}, "JAXML_COORDINATOR"),
        ({"JAXML_NUM_PROCESSES": ""}, "JAXML_NUM_PROCESSES"),
    ],
)
def test_config_from_env_refusals(change, match):
    with pytest.raises(ValueError, match=match):
        distributed.config_from_env({**FULL, **change})


_ROWS_SCRIPT = """
import json, jax
from jax.sharding import PartitionSpec as P
from jaxml import distributed
out = {}
mesh = distributed.global_mesh()
grid = distributed.global_mesh((2, 2), ("sweep", "data"))
for label, m, spec, n in [("data", mesh, P("data"), 8), ("grid", grid, P("data"), 6),
                          ("both", grid, P(("sweep", "data")), 8), ("none", grid, P(), 3)]:
    r = distributed.local_rows(m, n, spec)
    out[label] = [r.start, r.stop]
for label, m, spec, n in [("data", mesh, P("data"), 6), ("both", grid, P(("sweep", "data")), 6)]:
    try:
        distributed.local_rows(m, n, spec)
        out["refused_" + label] = None
    except ValueError as err:
        out["refused_" + label] = str(err)
print(json.dumps(out))
"""


def test_local_rows_of_one_process_with_four_devices_are_all_rows():
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_ROWS_SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    # One process holds every device, so its rows are the whole set (the slices of its devices joined).
    assert got["data"] == [0, 8] and got["grid"] == [0, 6] and got["both"] == [0, 8] and got["none"] == [0, 3]
    assert "divisible" in got["refused_data"] and "(4)" in got["refused_data"]  # 6 rows over 4 devices
    assert "divisible" in got["refused_both"] and "(4)" in got["refused_both"]  # 2·2 devices


@pytest.mark.parametrize("n", [0, -1, True, 2.0])
def test_local_rows_refuses_a_non_positive_or_non_integer_count(n):
    with pytest.raises(ValueError, match="num_examples must be a positive integer"):
        distributed.local_rows(distributed.global_mesh(), n)


# ----------------------------------------------------------------------------------------------------------
# _checks: the edges of each interval


def test_integer_bounds_are_inclusive():
    assert _checks.integer(1, "n", low=1, high=3) == 1 and _checks.integer(3, "n", low=1, high=3) == 3
    assert _checks.integer(np.int64(2), "n") == 2 and _checks.integer(np.array(2), "n") == 2
    for bad in (0, 4):
        with pytest.raises(ValueError, match=rf"n must be an integer in \[1, 3\], got {bad}"):
            _checks.integer(bad, "n", low=1, high=3)
    for bad in (True, np.bool_(False), 2.0, "2", np.array([2])):
        with pytest.raises(TypeError, match="n must be an integer"):
            _checks.integer(bad, "n")


@pytest.mark.parametrize(
    "value, kwargs, ok",
    [
        (0.0, {"low": 0.0}, True),
        (0.0, {"low": 0.0, "low_open": True}, False),
        (1.0, {"high": 1.0}, True),
        (1.0, {"high": 1.0, "high_open": True}, False),
        (np.array([0.5, 1.0]), {"low": 0.0, "high": 1.0}, True),
        (np.array([0.5, 1.0 + 1e-12]), {"low": 0.0, "high": 1.0}, False),
        (np.array([0.5, np.nan]), {}, False),
        (np.array([np.inf, 1.0]), {}, False),
    ],
)
def test_real_interval_edges(value, kwargs, ok):
    if ok:
        assert _checks.real(value, "eta", **kwargs) is value
    else:
        with pytest.raises(ValueError, match="eta must"):
            _checks.real(value, "eta", **kwargs)


def _halves(seed: int) -> list[int]:
    """The int64 seed's two's complement [high, low] 32-bit halves, by NumPy's view of its bytes."""
    low, high = np.array([seed], dtype="<i8").view("<u4").tolist()
    return [high, low]


SEEDS = [0, 5, 2**31, 2**32 - 1, 2**32 + 5, -1, -(2**63), 2**63 - 1]


def test_keys_from_int_seeds_are_the_seed_halves():
    for s in SEEDS:
        assert np.asarray(_checks.raw_key(s)).tolist() == _halves(s)
    batch = _checks.keys(np.array(SEEDS, dtype=np.int64))
    assert np.asarray(batch).tolist() == [_halves(s) for s in SEEDS]
    assert np.asarray(_checks.keys(SEEDS)).tolist() == [_halves(s) for s in SEEDS]
    assert np.asarray(_checks.raw_key(3)).tolist() == np.asarray(jax.random.PRNGKey(3)).tolist()


def test_seeds_outside_int64_and_empty_or_miscounted_batches_are_refused():
    for s in (2**63, -(2**63) - 1):
        with pytest.raises(ValueError, match="signed 64-bit"):
            _checks.key(s)
    for empty in ([], np.zeros((0, 2), np.uint32)):
        with pytest.raises(TypeError, match="non-empty batch"):
            _checks.keys(empty)
    with pytest.raises(ValueError, match="must hold 3 keys, got 2"):
        _checks.keys([1, 2], count=3)


def test_labels_range_edges():
    y = np.array([0, 2])
    assert _checks.labels(y, 3) is y  # K − 1 is a label
    for y, bad in ((np.array([0, 3]), 3), (np.array([-1, 1]), -1)):
        with pytest.raises(ValueError, match=rf"labels must lie in 0 … 2, got {bad}"):
            _checks.labels(y, 3)
    with pytest.raises(ValueError, match=r"must lie in >= 0, got -1"):
        _checks.labels(np.array([-1]), None)


def test_probabilities_tolerance_edges():
    # float64: atol = 1e-5 (the floor over 100·eps), so rounding of 5e-6 passes and 2e-5 does not.
    _checks.probabilities(np.array([[0.5, 0.5 + 5e-6], [0.25, 0.75]]), "p")
    _checks.probabilities(np.array([[0.0, 1.0]]), "p")
    with pytest.raises(ValueError, match="rows must sum to 1, got a row summing to 0.6"):
        _checks.probabilities(np.array([[0.5, 0.5], [0.3, 0.3]]), "p")  # below 1
    with pytest.raises(ValueError, match="rows must sum to 1, got a row summing to 1.4"):
        _checks.probabilities(np.array([[0.7, 0.7], [0.5, 0.5]]), "p")  # above 1
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        _checks.probabilities(np.array([[-0.5, 1.5]]), "p")  # each row sums to 1


def test_silent_wrong_answers_found_while_documenting_are_errors(tmp_path):
    """Four doors the docstring pass found open: each now refuses its bad input with a named error."""
    import numpy as np
    import pytest

    from jaxml import checkpoint, distributed, plot
    from jaxml.curvature import density_on_grid

    with pytest.raises(ValueError, match="sample 'a' has NaN"):  # Matplotlib would drop the NaN from the counts
        plot.histogram(tmp_path / "h.png", {"a": [1.0, float("nan"), 2.0]}, title="t", xlabel="x")
    assert not (tmp_path / "h.png").exists()
    with pytest.raises(ValueError, match="grid must be a 1-D"):
        density_on_grid([[0.0, 1.0]], [[0.5, 0.5]], np.zeros((3, 2)), 0.1)
    with pytest.raises(TypeError, match="step must be an int"):
        checkpoint.load_params(tmp_path, step="2")
    with pytest.raises(TypeError, match="DistributedConfig"):
        distributed.initialize(type("Fake", (), {"num_processes": 1})())
