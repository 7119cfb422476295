"""`polyvlm train`: --validate, errors with file:line, and `polyvlm run` still never imports torch."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from polyvlm.cli import cli
from polyvlm.train.config import load_train_config


def test_validate_the_shipped_configs():
    # --validate opens the data: the demo's is bundled; the others read recipe outputs (test_config_joints)
    result = CliRunner().invoke(cli, ["train", "configs/train/demo.yaml", "--validate"])
    assert result.exit_code == 0, result.output
    assert (
        "ok" in result.output and "stage instruct-all: source text (text_jsonl): 1 file(s)" in result.output
    )
    for path in ("configs/train/jina-vlm.yaml", "configs/train/llm-jp-vila.yaml", "configs/train/loop.yaml"):
        assert load_train_config(path).stages


def test_a_bad_config_is_a_clear_error_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: {tiny: {}}\nstagez: []\n")
    result = CliRunner().invoke(cli, ["train", str(bad)])
    assert result.exit_code != 0
    assert f"{bad}:3: unknown key 'stagez'" in result.output


def test_the_cli_imports_no_torch():
    code = "import sys, polyvlm.cli; assert 'torch' not in sys.modules, 'polyvlm.cli imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
