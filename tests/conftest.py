"""Shared fixtures: the repository root, a helper that writes recipes, and test-only steps that leave the
registry as they found it."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from polyvlm.core.step import REGISTRY, Step
from polyvlm.engine.catalog import load_builtin_steps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests' own helper modules (warc_builder)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # local Ray binds to 127.0.0.1
load_builtin_steps()  # as the CLI and the engines do before reading a recipe


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


@pytest.fixture
def register_step():
    """Register a test's own step class for that test only; the registry is restored afterwards."""
    before = dict(REGISTRY)

    def _register(cls: type[Step]) -> type[Step]:
        if cls.name in REGISTRY:
            raise ValueError(f"step name {cls.name!r} is taken")
        REGISTRY[cls.name] = cls
        return cls

    yield _register
    REGISTRY.clear()
    REGISTRY.update(before)
