"""Shared test settings: experiments write into a temporary folder; hypothesis stays quick on 2 cores."""

from __future__ import annotations

import os

from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")
settings.register_profile("jaxml", max_examples=40, deadline=None)
settings.load_profile("jaxml")
