"""`polyvlm eval translate` against a real local HTTP translator: letters, answer keys and images stay aligned,
rotations are rebuilt, the output language is checked, failures are counted, and `mmbench-fr` loads."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp import web
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli
from polyvlm.eval.registry import get_task

FR = {
    "What is in the picture?": "Qu'y a-t-il sur cette image ?",
    "Look closely.": "Regardez bien.",
    "A man": "Un homme",
    "A cat": "Un chat",
    "A car": "Une voiture",
    "A tree": "Un arbre",
}
TEXT = re.compile(r"Translate into French:\s*(.*)$", re.S)


class DictionaryTranslator(FakeOpenAIServer):
    """The real local server, answering translate prompts from a dictionary; a sentence it lacks stays English."""

    async def _respond(self, request, body, prompt, fault):
        m = TEXT.search(prompt)
        source = m.group(1).strip() if m else prompt
        text = FR.get(source, source)
        return web.json_response({"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 1, "completion_tokens": 1}})  # fmt: skip


def test_translate_mmbench_to_french_keeps_structure(tmp_path, fixtures):
    with DictionaryTranslator() as server:
        args = ["eval", "translate", "--task", "mmbench", "--data", str(fixtures / "mmbench"), "--to", "fr",
                "--model", f"openai:mt@{server.url}", "-o", str(tmp_path / "tr")]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "mmbench-fr: 2 items written, 0 failed" in result.output
    original = list(get_task("mmbench").load(str(fixtures / "mmbench")))
    items = list(get_task("mmbench-fr").load(str(tmp_path / "tr")))
    assert [it.question_id for it in items] == [it.question_id for it in original]  # rotations rebuilt
    for fr, en in zip(items, original, strict=True):
        assert list(fr.choices) == list(en.choices) and fr.reference == en.reference
        assert fr.choices[fr.reference] == "Un homme" and en.choices[en.reference] == "A man"
        assert fr.language == "fr" and "Qu'y a-t-il" in fr.prompt and "Répondez" in fr.prompt
        assert (
            fr.images[0].endswith(tuple("0123456789abcdef"))
            and open(fr.images[0], "rb").read()[:2] == b"\xff\xd8"
        )
    assert get_task("mmbench-fr").default_metrics == ("circular",)
    prov = json.loads((tmp_path / "tr/mmbench-fr/provenance.json").read_text())
    assert (
        prov["translated_from"]["task"] == "mmbench"
        and prov["failures"] == {}
        and prov["translator"]["prompt_sha256"]
    )


def test_untranslated_items_are_counted_failures(tmp_path, fixtures):
    FR_MISSING = dict(FR)
    del FR_MISSING["What is in the picture?"]  # the question comes back in English
    with DictionaryTranslator() as server, pytest.MonkeyPatch.context() as mp:
        mp.setattr(__import__(__name__), "FR", FR_MISSING)
        args = ["eval", "translate", "--task", "mmbench", "--data", str(fixtures / "mmbench"), "--to", "fr",
                "--model", f"openai:mt@{server.url}", "-o", str(tmp_path / "tr")]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    prov = json.loads((tmp_path / "tr/mmbench-fr/provenance.json").read_text())
    assert prov["written_items"] == 0 and sum(prov["failures"].values()) == 2
    assert all(f["reason"].startswith("wrong_language") for f in prov["failed_items"]), prov["failed_items"]
