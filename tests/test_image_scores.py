"""NSFW scores (NudeNet's shipped detector), CLIP scores (a tiny random CLIP saved to disk), percentile cut."""

from __future__ import annotations

import glob
import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine_outputs import side_files
from polyvlm.clients.clip import load_scorer
from polyvlm.clients.nsfw import nsfw_score
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Pair, record_to_json
from polyvlm.core.step import Drop
from polyvlm.image.clip_step import ClipScore
from polyvlm.image.nsfw_step import NsfwFilter
from polyvlm.image.score_percentile import ScorePercentile

PHOTOS = Path(__file__).parents[1] / "examples" / "data" / "photos"  # real photos, see its PROVENANCE.md
IMAGES = [str(PHOTOS / n) for n in
          ("easyocr__chinese.jpg", "llava__extreme_ironing.jpg", "llava__waterview.jpg", "ukbench00120_gray.jpg")]  # fmt: skip
TEXTS = ["湖の桟橋と山", "a man ironing on a taxi", "道路標識 Yuyuan Rd.", "白黒のベビーシート"]


def _pairs(n: int = 4) -> list[Pair]:
    return [
        Pair(id=f"p{i}", text=TEXTS[i % 4], image=ImageRef(data=Path(IMAGES[i % 4]).read_bytes()))
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> str:
    """A randomly initialised CLIPModel with a byte-level BPE tokenizer and a CLIPImageProcessor, saved."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<pad>", "<s>", "<unk>", "</s>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # any text encodes, Japanese included
    )  # fmt: skip
    tok.train_from_iterator(TEXTS + ["a wooden pier on a lake", "タクシーの上でアイロン"], trainer)
    # CLIP pools the text at the first </s>: id 3, not 2 (2 selects a legacy argmax pooling)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        model_max_length=32,
    )  # fmt: skip
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={**small, "vocab_size": tok.get_vocab_size(), "max_position_embeddings": 32,
                     "bos_token_id": 1, "eos_token_id": 3, "pad_token_id": 0},
        vision_config={**small, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny_clip")
    CLIPModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(path)
    return str(path)


def _clip_step(model: str, **params) -> ClipScore:
    step = ClipScore(model=model, **params)
    step.check()
    step.setup()
    return step


def test_clip_scores_are_cosines_deterministic_and_batch_independent(tiny_clip):
    step = _clip_step(tiny_clip)
    batched = [r.image.scores["clip"] for r in step.apply_batch(_pairs())]
    assert all(math.isfinite(s) and -1.0 <= s <= 1.0 for s in batched)
    assert len({round(s, 6) for s in batched}) == 4  # different pairs, different scores
    one_by_one = [step.apply_batch([p])[0].image.scores["clip"] for p in _pairs()]
    assert one_by_one == pytest.approx(batched, abs=1e-5)
    # a second load of the saved model gives the very same scores
    load_scorer.cache_clear()
    reloaded = _clip_step(tiny_clip, score_name="clip_ja")
    again = [r.image.scores["clip_ja"] for r in reloaded.apply_batch(_pairs())]
    assert again == batched
    # the same image with another text scores differently
    swapped = _pairs()
    swapped[0].text = TEXTS[1]
    assert step.apply_batch(swapped)[0].image.scores["clip"] != batched[0]


def test_clip_drops_pairs_whose_image_does_not_load_and_scores_the_rest(tiny_clip):
    step = _clip_step(tiny_clip)
    bad = Pair(id="bad", text="x", image=ImageRef(data=b"<html>not an image</html>"))
    empty = Pair(id="empty", text="x", image=ImageRef(data=None))
    out = step.apply_batch([bad, _pairs(1)[0], empty])
    assert isinstance(out[0], Drop) and out[0].reason == "clip_unloadable_image"
    assert isinstance(out[2], Drop) and out[2].reason == "clip_unloadable_image"
    assert isinstance(out[1], Pair) and "clip" in out[1].image.scores
    assert "clip" not in bad.image.scores


def test_missing_clip_models_stop_in_check_with_what_to_do(tmp_path, monkeypatch):
    # a missing model must fail from what is on disk, never by waiting on the network: count every
    # connection the check tries to open (and refuse it, as this machine's network would)
    tried: list[object] = []

    def refuse(sock, address):
        tried.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    cases = {
        str(tmp_path / "no" / "such" / "model"): "does not exist",
        "polyvlm-test/no-such-clip": "not in the local Hugging Face cache",
        "hf-hub:polyvlm-test/no-such-open-clip": "not in the local Hugging Face cache",
    }
    for model, expected in cases.items():
        backend = "open_clip" if model.startswith("hf-hub:") else "transformers"
        with pytest.raises(RecipeError, match=expected) as err:
            ClipScore(model=model, backend=backend).check()
        assert "local directory" in str(err.value)
    assert tried == [], f"the check tried the network: {tried}"


def test_open_clip_backend_says_how_to_install_it(tmp_path, monkeypatch):
    # an open_clip model directory that passes the weight checks; the import is what fails
    (tmp_path / "open_clip_config.json").write_text('{"model_cfg": {}}')
    (tmp_path / "open_clip_model.safetensors").write_bytes(b"")
    # the import fails, as it does here beside a torchvision that does not match torch
    monkeypatch.setitem(sys.modules, "open_clip", None)
    with pytest.raises(RecipeError, match=r"pip install open_clip_torch.*torchvision"):
        ClipScore(model=str(tmp_path), backend="open_clip").check()


def test_open_clip_refuses_random_weights(tmp_path):
    with pytest.raises(RecipeError, match="architecture only"):
        ClipScore(model="xlm-roberta-large-ViT-H-14", backend="open_clip").check()
    (tmp_path / "open_clip_config.json").write_text('{"model_cfg": {}}')
    with pytest.raises(RecipeError, match="holds no weights"):
        ClipScore(model=str(tmp_path), backend="open_clip").check()


def _scored(scores: list[float | None]) -> list[Pair]:
    pairs = []
    for i, s in enumerate(scores):
        p = Pair(id=f"s{i}", text="t")
        if s is not None:
            p.image.scores["clip"] = s
        pairs.append(p)
    return pairs


def _run_percentile(step: ScorePercentile, shards: list[list[Pair]], merge_order: list[int]) -> set[str]:
    partial = []
    for shard, records in enumerate(shards):
        state = step.init_state()
        for idx, r in enumerate(records):
            step.observe(state, r, (shard, idx, 0))
        partial.append(state)
    merged = partial[merge_order[0]]
    for k in merge_order[1:]:
        merged = step.merge(partial[k], merged) if k % 2 else step.merge(merged, partial[k])
    dropped = set()
    for shard, records in enumerate(shards):
        for idx, r in enumerate(records):
            verdict = step.apply(merged, r, (shard, idx, 0))
            if isinstance(verdict, Drop):
                dropped.add(f"{r.id}:{verdict.reason}")
    return dropped


def test_score_percentile_drops_exactly_the_bottom_share_in_any_merge_order():
    # 20 scored pairs (ties at 0.2 straddle the cut) and one without a score, in 3 shards
    scores = [0.9, 0.2, 0.5, 0.2, 0.1, 0.7, 0.2, 0.8, 0.3, 0.6, 0.2, 0.4, 0.95, 0.05, 0.2, 0.85, 0.75]
    scores += [0.65, 0.55, 0.45, None]
    pairs = _scored(scores)
    shards = [pairs[:7], pairs[7:12], pairs[12:]]
    step = ScorePercentile(percentile=30)
    results = {frozenset(_run_percentile(step, shards, order)) for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0])}
    assert len(results) == 1
    dropped = set(results.pop())
    assert f"s{len(scores) - 1}:no_clip" in dropped
    low = {d.split(":")[0] for d in dropped if d.endswith(":low_clip")}
    assert len(low) == 6  # floor(20 * 30 / 100)
    # 0.05 and 0.1, then four of the five 0.2s: of equal scores the later pair goes first
    assert low == {"s13", "s4", "s14", "s10", "s6", "s3"}
    none_cut = _run_percentile(ScorePercentile(percentile=0), shards, [0, 1, 2])
    assert none_cut == {f"s{len(scores) - 1}:no_clip"}


def test_nsfw_scores_real_photos_low_and_keeps_the_score():
    step = NsfwFilter()
    step.check()
    step.setup()
    pairs = _pairs()
    out = step.apply_batch(pairs)
    assert all(isinstance(r, Pair) for r in out)
    assert all(0.0 <= p.image.scores["nsfw"] < 0.25 for p in pairs)  # a lake, a street, a sign, a baby seat
    # a threshold below every score drops every pair, with the reason, and the score stays in the record
    strict = NsfwFilter(threshold=-1, batch_size=2)
    strict.setup()
    pairs = _pairs()
    dropped = strict.apply_batch(pairs)
    assert [d.reason for d in dropped] == ["nsfw"] * 4  # type: ignore[union-attr]
    assert all("nsfw" in p.image.scores for p in pairs)
    bad = strict.apply_batch([Pair(id="b", image=ImageRef(data=b"\xff\xd8 truncated")), Pair(id="n")])
    assert [d.reason for d in bad] == ["undecodable_image", "no_image_data"]  # type: ignore[union-attr]


def test_nsfw_score_counts_only_exposed_body_classes():
    assert nsfw_score([]) == 0.0
    detections = [
        {"class": "FACE_FEMALE", "score": 0.95},
        {"class": "FEMALE_BREAST_COVERED", "score": 0.9},
        {"class": "BUTTOCKS_EXPOSED", "score": 0.41},
        {"class": "MALE_GENITALIA_EXPOSED", "score": 0.62},
        {"class": "FEET_EXPOSED", "score": 0.99},
    ]
    assert nsfw_score(detections) == 0.62


def test_recipe_scores_and_cuts_pairs_on_the_local_engine(tiny_clip, tmp_path, root):
    data = tmp_path / "pairs"
    data.mkdir()
    pairs = _pairs(10)
    for k, part in enumerate((pairs[:6], pairs[6:])):
        (data / f"part{k}.jsonl").write_text("".join(record_to_json(p) + "\n" for p in part))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"inputs: ['{data}/*.jsonl']\n"
        "steps:\n  - nsfw_filter: {}\n"
        f"  - clip_score: {{model: '{tiny_clip}', batch_size: 4}}\n"
        "  - score_percentile: {percentile: 30}\n"
        "outputs: [write_jsonl]\n"
    )
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "-o", str(out), "--quiet", "-w", "2"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    kept = [json.loads(x) for f in sorted(glob.glob(str(out / "jsonl" / "*.jsonl"))) for x in open(f)]
    rejects = [r for rs in side_files(str(out), "rejects").values() for r in rs]
    assert len(kept) == 7 and len(rejects) == 3
    assert {r["reason"] for r in rejects} == {"low_clip"}
    assert all({"nsfw", "clip"} <= set(k["image"]["scores"]) for k in kept)
    # a score cut: every dropped pair scores at most what any kept pair scores, and the scores are real
    dropped = [r["record"]["image"]["scores"]["clip"] for r in rejects]
    assert max(dropped) <= min(k["image"]["scores"]["clip"] for k in kept)
    by_text: dict[str, list[float]] = {}
    for r in kept + [r["record"] for r in rejects]:
        by_text.setdefault(r["text"], []).append(r["image"]["scores"]["clip"])
    # the same photo and text score the same in any batch and worker
    assert len(by_text) == 4 and all(max(v) - min(v) < 1e-5 for v in by_text.values())


def test_missing_model_stops_a_recipe_before_any_output(tmp_path):
    from polyvlm.core.recipe import load_recipe
    from polyvlm.engine.run import run_recipe

    data = tmp_path / "pairs.jsonl"
    data.write_text(record_to_json(_pairs(1)[0]) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"inputs: ['{data}']\nsteps:\n  - clip_score: {{model: polyvlm-test/no-such-clip}}\n"
        "outputs: [write_jsonl]\n"
    )
    with pytest.raises(RecipeError, match="not in the local Hugging Face cache"):
        run_recipe(load_recipe(str(recipe)), str(tmp_path / "out"), progress=False)
    assert not (tmp_path / "out").exists()
