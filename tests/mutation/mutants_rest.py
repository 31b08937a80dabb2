"""Planted bugs in the modules no other list covers: row-block streaming, the shipped files and the Pokémon table,
``distributed``'s pure helpers, and the boundaries of ``_checks`` (ids B1 …).

Stage 1 is ``tests/test_rest_edges.py`` (about 8 s): each of these breaks a promise it pins.
"""

from __future__ import annotations

from mutant import M

BLOCKS = "jaxml/_blocks.py"
FILES = "jaxml/data/_files.py"
POKEMON = "jaxml/data/pokemon.py"
DIST = "jaxml/distributed.py"
CHECKS = "jaxml/_checks.py"
EDGES = ["tests/test_rest_edges.py"]

MUTATIONS = [
    # ---- _blocks: every row counted once
    M(
        "B1 host tail block counts its overlap again",
        BLOCKS,
        [("yield n - block, end - (n - block), block", "yield n - block, 0, block")],
        EDGES,
    ),
    M(
        "B2 short host input counts its zero padding",
        BLOCKS,
        [("yield tuple(padded), 0, n\n", "yield tuple(padded), 0, block\n")],
        EDGES,
    ),
    M(
        "B3 traced last block counts its overlap again",
        BLOCKS,
        [("return fn(*parts, i * block - start, block)", "return fn(*parts, 0, block)")],
        EDGES,
    ),
    M(
        "B4 map_host writes a shifted block's rows from its start",
        BLOCKS,
        [("out[start + lo : start + hi] = values[lo:hi]", "out[start + lo : start + hi] = values[: hi - lo]")],
        EDGES,
    ),
    M(
        "B5 map_rows of a short input keeps the padded tail",
        BLOCKS,
        [("return fn(_pad_rows(x, block))[:n]", "return fn(_pad_rows(x, block))[-n:]")],
        EDGES,
    ),
    M(
        "B6 block_rows rounds N past its power of two",
        BLOCKS,
        [
            (
                "small = max(MIN_BLOCK, 1 << max(0, (n - 1).bit_length()))",
                "small = max(MIN_BLOCK, 1 << max(0, n.bit_length()))",
            )
        ],
        EDGES,
    ),
    M(
        "B7 aligned_empty offsets by the misalignment itself",
        BLOCKS,
        [("start = (-raw.ctypes.data) % ALIGN", "start = raw.ctypes.data % ALIGN")],
        EDGES,
    ),
    # ---- data/_files: the documented bytes, the reader
    M(
        "B8 sha256 compared on its first 16 hex digits",
        FILES,
        [("if digest != SHA256[name]:", "if digest[:16] != SHA256[name][:16]:")],
        EDGES,
    ),
    M(
        "B9 any .csv name read without a documented digest",
        FILES,
        [("    if name not in SHA256:\n", '    if not name.endswith(".csv"):\n')],
        EDGES,
    ),
    M(
        "B10 short rows pass the ragged check",
        FILES,
        [("if len(row) != len(header):", "if len(row) > len(header):")],
        EDGES,
    ),
    M(
        "B11 ragged row numbered from 0",
        FILES,
        [('raise ValueError(f"{name}: row {i + 1} has', 'raise ValueError(f"{name}: row {i} has')],
        EDGES,
    ),
    # ---- data/pokemon: the table and the splits
    M(
        "B12 Meganium and Yanmega marked Mega",
        POKEMON,
        [('mega=np.array(["Mega " in n for n in name])', 'mega=np.array(["Mega" in n for n in name])')],
        EDGES,
    ),
    M(
        "B13 either: a Pokémon of both types kept as class1",
        POKEMON,
        [("is1, is2 = is1 & ~is2, is2 & ~is1", "is1, is2 = is1, is2 & ~is1")],
        EDGES,
    ),
    M(
        "B14 # = cutoff trains too",
        POKEMON,
        [("train = keep & (t.number < cutoff)", "train = keep & (t.number <= cutoff)")],
        EDGES,
    ),
    M(
        "B15 legendary compared without lower()",
        POKEMON,
        [('r["Legendary"].strip().lower() == "true"', 'r["Legendary"].strip() == "true"')],
        EDGES,
    ),
    M(
        "B16 class_names in label order reversed",
        POKEMON,
        [("class_names=(class2, class1),", "class_names=(class1, class2),")],
        EDGES,
    ),
    M(
        "B17 include_mega=True drops the Mega forms",
        POKEMON,
        [("keep = (is1 | is2) & (include_mega | ~t.mega)", "keep = (is1 | is2) & (include_mega & ~t.mega)")],
        EDGES,
    ),
    M(
        "B18 empty feature list accepted",
        POKEMON,
        [("    if not names or bad:\n", "    if bad:\n")],
        EDGES,
    ),
    # ---- distributed: the environment, the rows of this process
    M(
        "B19 empty variable counts as set",
        DIST,
        [('if value not in (None, ""):', "if value is not None:")],
        EDGES,
    ),
    M(
        "B20 partial set-up read as none",
        DIST,
        [
            (
                "if coordinator is None and count is None and pid is None:",
                "if coordinator is None or count is None or pid is None:",
            )
        ],
        EDGES,
    ),
    M(
        "B21 process id = number of processes accepted",
        DIST,
        [("if process_id >= num_processes:", "if process_id > num_processes:")],
        EDGES,
    ),
    M(
        "B22 JAX's names win over jaxml's",
        DIST,
        [
            (
                "    for name in names:\n        value = environ.get(name)",
                "    for name in reversed(names):\n        value = environ.get(name)",
            )
        ],
        EDGES,
    ),
    M(
        "B23 local_rows: a tuple of mesh axes counted by its first axis",
        DIST,
        [
            (
                "axes = () if split is None else (split,) if isinstance(split, str) else tuple(split)",
                "axes = () if split is None else (split,) if isinstance(split, str) else tuple(split)[:1]",
            )
        ],
        EDGES,
    ),
    M(
        "B24 local_rows accepts bool counts",
        DIST,
        [
            (
                "if isinstance(num_examples, bool) or not isinstance(num_examples, int | np.integer) or num",
                "if not isinstance(num_examples, int | np.integer) or num",
            )
        ],
        EDGES,
    ),
    # ---- _checks: the edges of each interval
    M(
        "B25 integer: the low bound is exclusive",
        CHECKS,
        [("if (low is not None and value < low) or", "if (low is not None and value <= low) or")],
        EDGES,
    ),
    M(
        "B26 integer: bool accepted",
        CHECKS,
        [
            (
                "    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):\n"
                "        if isinstance(value, (np.ndarray, jax.Array)) and value.ndim == 0",
                "    if not isinstance(value, (numbers.Integral, np.integer)):\n"
                "        if isinstance(value, (np.ndarray, jax.Array)) and value.ndim == 0",
            )
        ],
        EDGES,
    ),
    M(
        "B27 real: open and closed low ends swapped",
        CHECKS,
        [("np.any(arr <= low if low_open else arr < low)", "np.any(arr < low if low_open else arr <= low)")],
        EDGES,
    ),
    M(
        "B28 real: an array passes if any entry is finite",
        CHECKS,
        [("if not np.all(np.isfinite(arr)):", "if not np.any(np.isfinite(arr)):")],
        EDGES,
    ),
    M(
        "B29 seed's high half shifted by 31",
        CHECKS,
        [
            (
                "return np.array([bits >> 32, bits & 0xFFFFFFFF], np.uint32)",
                "return np.array([bits >> 31, bits & 0xFFFFFFFF], np.uint32)",
            )
        ],
        EDGES,
    ),
    M(
        "B30 seed 2**63 accepted (aliases -2**63)",
        CHECKS,
        [("if not -(2**63) <= seed < 2**63:", "if not -(2**63) <= seed <= 2**63:")],
        EDGES,
    ),
    M(
        "B31 keys: an empty batch accepted",
        CHECKS,
        [
            (
                "value.dtype != np.uint32 or value.shape[0] == 0:",
                "value.dtype != np.uint32:",
            )
        ],
        EDGES,
    ),
    M(
        "B32 labels: K itself accepted",
        CHECKS,
        [
            (
                "if lo < 0 or (num_classes is not None and hi >= num_classes):",
                "if lo < 0 or (num_classes is not None and hi > num_classes):",
            )
        ],
        EDGES,
    ),
    M(
        "B33 probabilities: rows summing below 1 accepted",
        CHECKS,
        [("worst = np.argmax(np.abs(sums - 1))", "worst = np.argmax(sums - 1)")],
        EDGES,
    ),
    M(
        "B34 probabilities: default atol the smaller of 1e-5 and 100·eps",
        CHECKS,
        [
            (
                "atol = max(1e-5, 100 * float(jnp.finfo(dtype).eps))",
                "atol = min(1e-5, 100 * float(jnp.finfo(dtype).eps))",
            )
        ],
        EDGES,
    ),
]
