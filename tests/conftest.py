"""Shared fixtures: the repository root, a helper that writes recipes, and test-only steps that leave the
registry as they found it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
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


@pytest.fixture
def gcs_server():
    """A real GCS-compatible HTTP server (gcp-storage-emulator) on 127.0.0.1 with a bucket `runs`; its URL."""
    pytest.importorskip("gcp_storage_emulator", reason="pip install gcp-storage-emulator (dev extra)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
                             "--port", str(port), "--in-memory", "--default-bucket", "runs"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.kill()
    proc.wait()
