"""LLaVA JSON and OpenAI-messages JSONL outputs of samples, and step counters summed into stats.json."""

import glob
import hashlib
import io
import json
import os

import pytest
from PIL import Image

from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import ImageRef, Message, Sample, record_to_json
from polyvlm.core.step import MapStep
from polyvlm.engine.run import run_recipe
from polyvlm.io.conversation_formats import (
    ConversationError,
    from_llava,
    from_messages,
    to_llava,
    to_messages,
)


def _sample(i: int) -> Sample:
    return Sample(
        id=f"s{i}",
        images=[ImageRef(path=f"img/{i}.jpg"), ImageRef(url=f"https://x/{i}b.png")],
        messages=[
            Message("user", "<image>\nこれは何ですか？"),
            Message("assistant", "猫です。"),
            Message("user", "こちらは？<image>"),
            Message("assistant", "犬です。"),
        ],
        task="conversation",
        language="ja",
    )


def test_llava_and_messages_forms():
    s = _sample(0)
    assert to_llava(s) == {
        "id": "s0",
        "image": ["img/0.jpg", "https://x/0b.png"],
        "conversations": [
            {"from": "human", "value": "<image>\nこれは何ですか？"},
            {"from": "gpt", "value": "猫です。"},
            {"from": "human", "value": "こちらは？<image>"},
            {"from": "gpt", "value": "犬です。"},
        ],
    }
    msgs = to_messages(s)["messages"]
    assert msgs[0]["content"] == [
        {"type": "image_url", "image_url": {"url": "img/0.jpg"}},
        {"type": "text", "text": "これは何ですか？"},
    ]
    assert msgs[2]["content"] == [
        {"type": "text", "text": "こちらは？"},
        {"type": "image_url", "image_url": {"url": "https://x/0b.png"}},
    ]
    assert msgs[1] == {"role": "assistant", "content": [{"type": "text", "text": "猫です。"}]}


class _CountingStep(MapStep):
    """Counts the records it sees, as a model-calling step counts its calls."""

    name = "test_counting"
    seen = 0

    def apply(self, record):
        type(self).seen += 1
        return record

    def metrics(self):
        return {"calls": float(type(self).seen), "cost_usd": 0.25 * type(self).seen}


def test_writers_and_metrics_through_a_run(tmp_path, write_recipe, register_step):
    register_step(_CountingStep)
    data = tmp_path / "in"
    data.mkdir()
    for part in (0, 1):
        (data / f"p{part}.jsonl").write_text(
            "".join(record_to_json(_sample(3 * part + i)) + "\n" for i in range(3))
        )
    recipe = load_recipe(
        write_recipe(f"""
        inputs: [{data}/*.jsonl]
        steps:
          - test_counting: {{}}
        outputs:
          - write_llava_json: {{path: llava}}
          - write_messages_jsonl: {{path: messages}}
        """)
    )
    stats = run_recipe(recipe, output=str(tmp_path / "out"), progress=False, workers=2)
    assert stats["metrics"]["test_counting"] == {
        "calls": 6.0,
        "cost_usd": 1.5,
    }  # summed over units, not doubled
    llava = [r for f in sorted(glob.glob(str(tmp_path / "out/llava/*.json"))) for r in json.load(open(f))]
    assert [r["id"] for r in llava] == [f"s{i}" for i in range(6)]
    lines = [
        json.loads(x) for f in sorted(glob.glob(str(tmp_path / "out/messages/*.jsonl"))) for x in open(f)
    ]
    assert len(lines) == 6 and all(len(x["messages"]) == 4 for x in lines)
    report = (tmp_path / "out" / "report.html").read_text()
    assert "Samples kept" in report and "conversation" in report and "猫です。" in report
    saved = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert saved["conversations"] == {"counts": {"-|ja|conversation": 6}, "licenses": {"-|-": 6}, "turns": 24}


def test_both_forms_read_back_to_the_same_conversation():
    s = _sample(1)
    for back in (from_llava(to_llava(s), 0), from_messages(to_messages(s), 0)):
        assert back.id == s.id
        assert [(m.role, m.content.replace("<image>\n", "<image>")) for m in back.messages] == [
            (m.role, m.content.replace("<image>\n", "<image>")) for m in s.messages
        ]
        assert [(i.path, i.url) for i in back.images] == [("img/1.jpg", ""), ("", "https://x/1b.png")]
    assert (
        from_llava({"id": "x", "conversations": [{"from": "gpt", "value": "a"}]}, 0).messages[0].role
        == "assistant"
    )


def test_one_rule_for_roles_empty_turns_and_image_marks():
    ok = {
        "id": "x",
        "image": "a.jpg",
        "conversations": [{"from": "human", "value": "何？"}, {"from": "gpt", "value": "猫"}],
    }
    assert from_llava(ok, 0).messages[0].content == "<image>\n何？"  # a lone unmarked image goes first
    bad_role = {"id": "r", "conversations": [{"from": "robot", "value": "x"}, {"from": "gpt", "value": "y"}]}
    empty = {
        "id": "e",
        "conversations": [{"from": "human", "value": "何？"}, {"from": "gpt", "value": " \n"}],
    }
    marks = {"id": "m", "image": ["a.jpg", "b.jpg"], "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "y"}]}  # fmt: skip
    for record, reason in ((bad_role, "unknown role"), (empty, "empty assistant turn"),
                           (marks, "image count differs from <image> marks")):  # fmt: skip
        with pytest.raises(ConversationError) as e:
            from_llava(record, 0)
        assert (
            e.value.reason == reason and f"sample {record['id']}" in str(e.value) or reason == "unknown role"
        )
    with pytest.raises(ConversationError, match="empty assistant turn"):
        from_messages(
            {"id": "q", "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": ""}]},
            0,
        )
    with pytest.raises(ConversationError, match="unknown role"):
        from_messages({"id": "q", "messages": [{"role": "tool", "content": "Q"}]}, 0)


def test_written_image_paths_resolve_from_any_working_directory(tmp_path, write_recipe, monkeypatch):
    """A recipe run in one folder writes LLaVA / messages that a reader in another folder resolves."""
    work = tmp_path / "work"
    (work / "photos").mkdir(parents=True)
    (work / "photos" / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n fake")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(png, format="PNG")
    sample = Sample(
        id="s",
        images=[ImageRef(path="photos/p.png"), ImageRef(data=png.getvalue())],  # a file, and bytes only
        messages=[Message("user", "<image>\n<image>\n何？"), Message("assistant", "二枚です。")],
    )
    (work / "in.jsonl").write_text(record_to_json(sample) + "\n")
    monkeypatch.chdir(work)
    recipe = load_recipe(
        write_recipe("""
        inputs: [in.jsonl]
        outputs:
          - write_llava_json: {path: llava}
          - write_messages_jsonl: {path: messages}
        """)
    )
    run_recipe(recipe, output="out", progress=False, workers=1)
    monkeypatch.chdir(tmp_path)  # elsewhere
    (llava_file,) = glob.glob(str(work / "out/llava/*.json"))
    (messages_file,) = glob.glob(str(work / "out/messages/*.jsonl"))
    back = [
        from_llava(json.load(open(llava_file))[0], 0, os.path.dirname(llava_file)),
        from_messages(json.loads(open(messages_file).readline()), 0, os.path.dirname(messages_file)),
    ]
    for read in back:
        first, stored = (im.path for im in read.images)
        assert os.path.samefile(first, work / "photos" / "p.png")
        assert os.path.basename(stored) == hashlib.sha256(png.getvalue()).hexdigest() + ".png"
        assert open(stored, "rb").read() == png.getvalue()
    assert json.load(open(llava_file))[0]["image"][0] == "../../photos/p.png"  # relative to the JSON
