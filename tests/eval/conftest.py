"""Shared pieces of the evaluation tests: the fixtures folder and a tiny scorer of the tests' own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(Path(__file__).parents[1]))  # fake_openai_server


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
