"""`polyvlm train`: --validate, errors with file:line, and `polyvlm run` still never imports torch."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from polyvlm.cli import cli


def test_validate_the_shipped_configs():
    runner = CliRunner()
    for path in ("configs/train/demo.yaml", "configs/train/jina-vlm.yaml", "configs/train/llm-jp-vila.yaml"):
        result = runner.invoke(cli, ["train", path, "--validate"])
        assert result.exit_code == 0, result.output
        assert "ok" in result.output


def test_a_bad_config_is_a_clear_error_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: {tiny: {}}\nstagez: []\n")
    result = CliRunner().invoke(cli, ["train", str(bad)])
    assert result.exit_code != 0
    assert f"{bad}:3: unknown key 'stagez'" in result.output


def test_the_cli_imports_no_torch():
    code = "import sys, polyvlm.cli; assert 'torch' not in sys.modules, 'polyvlm.cli imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
