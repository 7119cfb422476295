"""`polyvlm model stats`, `polyvlm model tiny` and `polyvlm chat` end to end, and the lazy torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from model_inputs import PHOTO

from polyvlm.cli import cli


def test_stats_of_the_reference_model():
    result = CliRunner().invoke(cli, ["model", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    d_v, d_l = 1152, 2048  # SigLIP2-So400M and Qwen3-1.7B widths
    # q, k, v: 2*d_v -> 16 heads x 72 = d_v, with biases; out: d_v -> d_v; pad_embed: 2 x 2*d_v
    pool = 3 * (2 * d_v * d_v + d_v) + (d_v * d_v + d_v) + 2 * 2 * d_v
    assert stats["params"]["connector"] == pool + 2 * d_v * 3 * d_l + 3 * d_l * d_l
    assert 1.3e9 < stats["params"]["lm_blocks"] < 1.5e9 and 3.9e8 < stats["params"]["vision_tower"] < 4.3e8
    assert stats["resized_to"] == [1134, 868] and stats["grid"] == [3, 4]
    assert stats["image_tokens_pooled"] == 1744 and stats["image_tokens_unpooled"] == 6285
    pooled, unpooled = stats["pooled"], stats["unpooled"]
    # integers: compare the ratios by cross-multiplying, not as floats
    assert unpooled["kv_cache_bytes"] * pooled["tokens"] == pooled["kv_cache_bytes"] * unpooled["tokens"]
    # K and V, 28 layers, 8 KV heads, head dim 128, 2 bytes
    assert pooled["kv_cache_bytes"] == pooled["tokens"] * 2 * 28 * 8 * 128 * 2
    assert unpooled["prefill_flops"] > 4 * pooled["prefill_flops"]  # attention grows with the square


def test_stats_table_and_bad_size():
    runner = CliRunner()
    table = runner.invoke(
        cli, ["model", "stats", "--image-size", "640x480", "--max-tiles", "6", "--connector", "mlp"]
    )
    assert table.exit_code == 0 and "image tokens" in table.output and "KV cache" in table.output
    bad = runner.invoke(cli, ["model", "stats", "--image-size", "big"])
    assert bad.exit_code == 2 and "WIDTHxHEIGHT" in bad.output


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    result = CliRunner().invoke(cli, ["model", "tiny", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_chat_answers_about_a_photo(tiny_dir):
    args = [
        "chat",
        "--model",
        str(tiny_dir),
        "--image",
        str(PHOTO),
        "--max-tiles",
        "4",
        "--max-new-tokens",
        "5",
    ]
    result = CliRunner().invoke(cli, [*args, "この看板には何と書いてありますか？"])
    assert result.exit_code == 0, result.output
    assert result.output.strip()  # a tiny random model answers noise, but it answers


def test_chat_errors_are_messages_not_tracebacks(tiny_dir, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["chat", "--model", str(tmp_path), "質問"])
    assert (
        missing.exit_code == 1
        and "not a saved PolyVLM" in missing.output
        and "Traceback" not in missing.output
    )
    no_image = runner.invoke(
        cli, ["chat", "--model", str(tiny_dir), "--image", str(tmp_path / "x.jpg"), "質問"]
    )
    assert no_image.exit_code == 1 and "cannot read image" in no_image.output


def test_build_explains_a_missing_checkpoint(tmp_path):
    result = CliRunner().invoke(cli, ["model", "build", "--vision", str(tmp_path / "no"), "--text",
                                      str(tmp_path / "no"), str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 1 and "could not load" in result.output and "Traceback" not in result.output


def test_the_cli_imports_no_torch_until_a_model_command_runs():
    code = "import sys, polyvlm.cli; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
