"""Shared test settings: experiments write into a temporary folder; hypothesis stays quick on 2 cores."""

from __future__ import annotations

import os

import jax
import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")
settings.register_profile("jaxml", max_examples=40, deadline=None)
settings.load_profile("jaxml")


@pytest.fixture
def x64():
    """Run the test in float64 (``jax.enable_x64``): oracles compared to ~1e-12 need the precision."""
    with jax.enable_x64(True):
        yield
