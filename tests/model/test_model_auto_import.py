"""`import polyvlm` is enough for the Auto classes to load a saved PolyVLM, in either import order,
and stays cheap: it imports neither torch nor transformers."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOAD = "m = A.from_pretrained({d!r}); p = P.from_pretrained({d!r}); print(type(m).__name__, type(p).__name__)"
AUTO = "from transformers import AutoModelForImageTextToText as A, AutoProcessor as P"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model, processor):
    directory = tmp_path_factory.mktemp("saved")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.mark.parametrize(
    "imports", [f"import polyvlm\n{AUTO}", f"{AUTO}\nimport polyvlm"], ids=["first", "after"]
)
def test_import_polyvlm_registers_the_auto_classes(saved, imports):
    code = imports + "\n" + LOAD.format(d=str(saved))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-2:] == ["PolyVLMForConditionalGeneration", "PolyVLMProcessor"]


def test_without_polyvlm_the_auto_classes_do_not_know_it(saved):
    run = subprocess.run([sys.executable, "-c", AUTO + "\n" + LOAD.format(d=str(saved))], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode != 0  # the control: the registration above is polyvlm's doing


def test_import_polyvlm_imports_neither_torch_nor_transformers():
    code = "import sys, polyvlm; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
