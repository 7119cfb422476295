"""QA generators on PDF pages (grounded in the text layer) and image-text pairs (alt text), against the real
OpenAI-compatible test server; contradicted answers are dropped with a reason; a re-run pays no call twice."""

from __future__ import annotations

import json
import shutil

import pytest

from fake_openai_server import FakeOpenAIServer
from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import ImageRef, Pair, Provenance, Sample
from polyvlm.core.step import Drop
from polyvlm.engine.run import run_recipe
from polyvlm.io.pdf_pages import ReadPdf
from polyvlm.synth.grounding import ungrounded
from polyvlm.synth.page_qa import PageQa
from polyvlm.synth.pair_qa import PairQa

PDF = "tests/data/pdf"
GOOD_PAGE = "Q: 何に該当しないときの規定ですか？\nA: 「電線接続端子部」が次のいずれにも該当しないときです。\n===\nQ: ａは何ですか？\nA: 「ねじ止め端子であること」です。"
BAD_PAGE = "Q: 何回書かれていますか？\nA: 「Hello World」が 7 回書かれています。"
BAD_QUOTE = "Q: 何と書かれていますか？\nA: 「Goodbye World」と書かれています。"


def reply(prompt: str) -> str | None:
    """The scripted model: faithful about the Japanese page, wrong about the English one."""
    if "電線接続端子部" in prompt:
        return GOOD_PAGE
    if "Hello World" in prompt:
        return BAD_PAGE
    if "アイロン" in prompt:
        return "Q: 何をしていますか？\nA: 「タクシーの上でアイロン」をかけています。\n===\nQ: 車の色は？\nA: 黄色です。"
    if "海辺" in prompt:
        return BAD_QUOTE
    if "わたくしといふ現象は" in prompt:
        return "この文書は詩の序文です。"  # no Q/A blocks
    return None


def test_grounding_checks_quotes_and_numbers():
    source = "第３条　電線接続端子部は、１０ミリメートル以上とする。"
    assert ungrounded("「電線接続端子部」は10ミリメートル以上です。", source) == ""
    assert ungrounded("「電線 接続端子部」です。", source) == ""  # spacing does not matter
    assert ungrounded("「電線接続部品」です。", source).startswith("quote not in source")
    assert ungrounded("12ミリメートル以上です。", source) == "number not in source: 12"
    assert ungrounded("12ミリメートル以上です。", source, numbers=False) == ""
    assert ungrounded("“1,000” yen", "costs 1,000 yen") == ""


def _client(url: str, tmp_path) -> dict:
    return {"backend": "openai", "base_url": url, "model": "fake-model", "license": "Apache-2.0",
            "cache_path": str(tmp_path / "cache.sqlite")}  # fmt: skip


def test_page_qa_keeps_grounded_answers_and_drops_contradicted_ones(root, tmp_path):
    pages = [p for name in ("pdfjs__issue16063.pdf", "pdfminer__simple1.pdf")
             for p in ReadPdf(dpi=72).read(str(root / PDF / name))]  # fmt: skip
    with FakeOpenAIServer(reply=reply) as server:
        step = PageQa(client=_client(server.url, tmp_path))
        step.check()
        good, bad = step.apply_batch(pages)
        assert server.stats()["requests"] == 2
        body = next(b for b in server.bodies if "電線接続端子部" in json.dumps(b, ensure_ascii=False))
    assert isinstance(good, Sample) and good.task == "page_qa"
    assert good.messages[1].content.startswith("「電線接続端子部」")
    assert good.metadata["prompt_file"] == "ja/page_qa.yaml" and good.provenance.generator == "fake-model"
    assert isinstance(bad, Drop) and bad.reason == "answer_not_in_text_layer"
    assert "number not in source: 7" in bad.detail
    content = body["messages"][-1]["content"]  # the page image and the prompt with the text layer
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "ａ ねじ止め端子であること。" in content[1]["text"]


def test_pair_qa_uses_the_alt_text_and_drops_quotes_it_lacks(root, tmp_path):
    photo = str(root / "examples/data/photos/llava__extreme_ironing.jpg")
    pairs = [
        Pair(
            id="p1",
            text="タクシーの上でアイロンをかける男性",
            image=ImageRef(path=photo),
            provenance=Provenance(license="CC-BY-4.0"),
        ),
        Pair(id="p2", text="海辺の景色", image=ImageRef(path=photo)),
        Pair(id="p3", text="", image=ImageRef(path=photo)),
    ]
    with FakeOpenAIServer(reply=reply) as server:
        step = PairQa(client=_client(server.url, tmp_path))
        kept, quoted, empty = step.apply_batch(pairs)
        assert server.stats()["requests"] == 2  # the pair without alt text is not asked about
    assert (
        isinstance(kept, Sample)
        and kept.task == "pair_qa"
        and kept.metadata["alt_text"].startswith("タクシー")
    )
    assert kept.provenance.license == "CC-BY-4.0" and kept.messages[0].content.startswith("<image>\n")
    assert isinstance(quoted, Drop) and quoted.reason == "answer_not_in_alt_text"
    assert isinstance(empty, Drop) and empty.reason == "no_grounding_text"


def test_documents_recipe_resumes_without_repeating_model_calls(root, tmp_path, write_recipe):
    data = tmp_path / "pdf"
    data.mkdir()
    for name in ("pdfjs__issue16063.pdf", "pdfminer__simple1.pdf", "pdfminer__jo.pdf"):
        shutil.copy(root / PDF / name, data / name)
    with FakeOpenAIServer(reply=reply) as server:
        client = json.dumps(_client(server.url, tmp_path))

        def run(out: str) -> dict:
            recipe = load_recipe(write_recipe(f"""
            inputs:
              - {{path: {data}/*.pdf, reader: read_pdf, params: {{dpi: 72, license: MIT}}}}
            steps:
              - page_qa: {{client: {client}}}
            outputs: [write_messages_jsonl]
            """))  # fmt: skip
            return run_recipe(recipe, str(tmp_path / out), workers=1, progress=False)

        first = run("run1")
        calls = server.stats()["requests"]
        second = run("run2")  # a fresh output folder: every answer comes from the response cache
        assert server.stats()["requests"] == calls == 3
    steps = {s["label"]: s for s in first["steps"]}
    # jo.pdf's page gets an answer without Q/A blocks
    assert steps["page_qa"]["dropped"] == {"answer_not_in_text_layer": 1, "bad_output:no_qa_blocks": 1}
    assert first["totals"]["kept"] == second["totals"]["kept"] == 1
    assert second["metrics"]["page_qa"].get("cache_hits", 0) == 3


@pytest.mark.parametrize("language", ["ja", "en"])
def test_prompt_files_ship_for_each_language(language):
    from polyvlm.synth.prompt_data import load_prompt_data

    for name in ("page_qa", "pair_qa", "render_tasks"):
        assert load_prompt_data(language, name).data


def test_scene_text_reads_a_japanese_sign_and_photo_text_qa_is_grounded_in_it(root, tmp_path):
    from polyvlm.image.scene_text import SceneText
    from polyvlm.io.image_files import image_sample
    from polyvlm.synth.photo_text_qa import PhotoTextQa

    sign = image_sample(str(root / "examples/data/photos/easyocr__japanese.jpg"), "Apache-2.0", "photos")
    plain = image_sample(
        str(root / "examples/data/photos/llava__extreme_ironing.jpg"), "Apache-2.0", "photos"
    )
    step = SceneText()
    step.apply(sign)
    step.apply(plain)
    texts = [ln["text"] for ln in sign.metadata["scene_text"]]
    assert "ポイ捨て禁止" in "".join(texts) and "清潔できれいな港区を" in texts  # the sign, line by line
    assert (
        sign.metadata["scene_text"][0]["box"][1] < sign.metadata["scene_text"][-1]["box"][1]
    )  # top to bottom
    assert plain.metadata["scene_text"] == []  # no text in that photo

    def sign_reply(prompt: str) -> str | None:
        if "ポイ捨て" in prompt or "ゴミ箱あり" in prompt:  # the same answer, whatever the OCR read
            return "Q: 看板には何と書かれていますか？\nA: 「ポイ捨て禁止」と書かれています。"
        return None

    broken = Sample.from_dict(sign.to_dict())
    broken.id = "sign-2"
    broken.metadata["scene_text"] = [{"text": "ゴミ箱あり", "box": [0, 0, 10, 10], "confidence": 1.0}]
    with FakeOpenAIServer(reply=sign_reply) as server:
        qa = PhotoTextQa(client=_client(server.url, tmp_path))
        kept, passed, dropped = qa.apply_batch([sign, plain, broken])
        assert server.stats()["requests"] == 2  # the photo without text goes on to photo_qa unasked
    assert isinstance(kept, Sample) and kept.task == "photo_text_qa"
    assert kept.messages[1].content == "「ポイ捨て禁止」と書かれています。"
    assert passed is plain and not passed.messages
    # an answer quoting what the OCR did not read there is dropped
    assert isinstance(dropped, Drop) and dropped.reason == "answer_not_in_scene_text"
    assert "ポイ捨て禁止" in dropped.detail
