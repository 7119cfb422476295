"""The load benchmark's own checks on a short run: concurrent annotators lose and duplicate nothing."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_a_short_load_run_loses_and_duplicates_nothing(pytestconfig):
    res = subprocess.run(
        [sys.executable, "benchmarks/review_load.py", "--seconds", "3", "--annotators", "6", "--items", "400"],
        cwd=pytestconfig.rootpath, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    assert figures["stored"] > 0 and figures["errors"] == 0
    assert figures["lost"] == figures["duplicated"] == figures["version_gaps"] == 0
    assert "resent forms" in res.stdout and "p95" in res.stdout
