"""convert-jina runs nothing of SRC: a checkpoint whose config has an ``auto_map`` (and code that would
leave a marker if run) and ``eps: null`` converts with stdin closed, no prompt, no marker; the
reference's eps default (1e-5) is used; SRC's chat template is kept and the output says so."""

from __future__ import annotations

import json
import subprocess
import sys

from jina_checkpoint import jina_tokenizer, reference_config, reference_tensors, write_reference
from transformers import AutoConfig, AutoProcessor

import polyvlm.model.auto  # noqa: F401 -- the Auto registration the converted directory relies on

MARKER_CODE = "import pathlib\npathlib.Path(__file__).with_name('CODE_WAS_RUN').write_text('ran')\n"
SOURCE_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
)


def test_an_auto_map_checkpoint_converts_without_a_prompt_or_running_its_code(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    config = reference_config()
    config["auto_map"] = {"AutoConfig": "configuration_jvlm.JinaVLMConfig",
                          "AutoModelForCausalLM": "modeling_jvlm.JinaVLMForConditionalGeneration"}  # fmt: skip
    config["vision_config"]["block_config"]["lnorm_config"]["eps"] = None  # what the reference writes unset
    config["text_config"]["block_config"]["lnorm_config"]["eps"] = None
    config["text_config"]["block_config"]["attn_config"]["lnorm_config"]["eps"] = None
    tokenizer = jina_tokenizer()
    tokenizer.chat_template = SOURCE_TEMPLATE
    write_reference(src, reference_tensors(seed=3), tokenizer, config=config)
    tok_config = json.loads((src / "tokenizer_config.json").read_text())
    tok_config["auto_map"] = {"AutoProcessor": "processing_jvlm.JinaVLMProcessor"}
    (src / "tokenizer_config.json").write_text(json.dumps(tok_config))
    for name in ("configuration_jvlm.py", "modeling_jvlm.py", "processing_jvlm.py"):
        (src / name).write_text(MARKER_CODE)

    run = subprocess.run(
        [sys.executable, "-m", "polyvlm.cli", "model", "convert-jina", str(src), str(out)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (src / "CODE_WAS_RUN").exists()
    assert "[y/N]" not in run.stdout + run.stderr and "custom code" not in run.stdout + run.stderr
    converted = AutoConfig.from_pretrained(out)
    assert abs(converted.vision_config.layer_norm_eps - 1e-5) < 1e-12  # eps null -> the reference's 1e-5
    assert abs(converted.text_config.rms_norm_eps - 1e-5) < 1e-12
    processor = AutoProcessor.from_pretrained(out)
    assert processor.chat_template == SOURCE_TEMPLATE
    note = json.loads((out / "conversion.json").read_text())
    assert note["chat_template"].startswith("source")
    assert processor.tokenizer.convert_tokens_to_ids("<im_patch>") == converted.image_patch_token_id
