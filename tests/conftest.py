"""Shared fixtures: the repository root and a helper that writes recipes."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests' own helper modules (warc_builder)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # local Ray binds to 127.0.0.1


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def write_recipe(tmp_path):
    def _write(body: str, name: str = "r.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body))
        return str(path)

    return _write
