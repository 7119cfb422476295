"""Evaluation scoring benchmark: ROUGE-L (ja) against the anchors' way, judge throughput against capacity.

1. ROUGE-L for Japanese on real answers: the Heron-Bench GPT-4 reference answers against three
   models' answers (shared/data/vlm_bench/japanese-heron-bench, 309 pairs, repeated to --items), in
   one run:
   - the anchors' way (llm-jp-eval-mm's RougeLScorer): one ProcessPoolExecutor job per item, each
     making a MeCab tagger and a rouge-score RougeScorer (rouge1/rouge2/rougeL) and a
     BootstrapAggregator, as their `rouge_ja([ref], [pred])` does; timed on --baseline-items items;
   - polyvlm's `rougel` scorer: one tagger per process, rapidfuzz LCS on word ids, all --items items.
   Items/s of each, the ratio (goal >= 10x), and the largest per-item difference between the two on
   the items both scored (they should agree: same normalisation, same MeCab words).
   Needs `rouge-score` (bench only) for the baseline.
2. Judge throughput: the 1-5 judge scorer (`llm_judge`) over --judge-items items through the real
   client at concurrency 32 against the test server in its own process (latency --latency, capacity
   32, every reply "Score: 4"): achieved items/s against the server's capacity / latency (goal >= 90%),
   beside the client alone sending the same judge requests in the same run (what the machine allows),
   and the scorer's own CPU per item against a judge that answers at once.

3. VQA accuracy and ANLS against the official scripts' way (benchmarks/official_vqa_anls.py), on the same
   --vqa-items items in the same process: short answers with ten human answers each (case, punctuation,
   articles, number words and contractions varied, humans agreeing and not) and document answers with
   near-miss readings (dropped or swapped characters, case, spacing) against one or two accepted answers,
   drawn with a fixed seed. Items/s of each, the ratio (goal >= 10x), and how many items differ at all
   (goal 0: equal to the last digit).

Figures only, no asserts: the machine is shared, so read the ratios. Record them in docs/BENCHMARKS.md.

Run: .venv/bin/python benchmarks/eval_scoring.py [--items 3000] [--baseline-items 300] [--judge-items 2000]
     [--vqa-items 20000] [--only vqa]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from official_vqa_anls import OfficialVQAEval, official_anls

from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec, LimitsSpec
from polyvlm.clients.chat_open import CachedChatClient
from polyvlm.eval.items import EvalItem, Prediction
from polyvlm.eval.scorers.anls import ANLS
from polyvlm.eval.scorers.judge_calls import judge_params
from polyvlm.eval.scorers.llm_judge_vila import VilaJudge
from polyvlm.eval.scorers.rouge_ja import RougeL
from polyvlm.eval.scorers.vqa_accuracy import VQAAccuracy, normalize_vqa

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "fake_openai_server.py"
HERON = ROOT.parent / "shared" / "data" / "vlm_bench" / "japanese-heron-bench"
MODELS = ("claude3_0404_ja.jsonl", "gemini_0404_ja.jsonl", "gpt4v_0404_ja.jsonl")


# --- the anchors' way (llm-jp-eval-mm's rougel_scorer), reproduced for the baseline -----------------


class AnchorMecabTokenizer:
    """llm-jp-eval-mm's MecabTokenizer: emoji removed, NFKC, whitespace fixed, MeCab wakati."""

    def __init__(self) -> None:
        from fugashi import Tagger

        self.tagger = Tagger("-Owakati")

    def tokenize(self, text: str) -> list[str]:
        import emoji

        text = "".join("" if emoji.is_emoji(c) else c for c in text)
        text = re.sub(
            "[\U0001f600-\U0001f64f\U0001f300-\U0001f5ff\U0001f680-\U0001f6ff\U0001f1e0-\U0001f1ff]+",
            "",
            text,
        )
        text = " ".join(unicodedata.normalize("NFKC", text).split())
        return self.tagger.parse(text).split()


def anchor_rouge_ja(refs: list[str], preds: list[str]) -> float:
    """One item scored the anchors' way: a new tagger, a new RougeScorer, a bootstrap aggregator."""
    from rouge_score import rouge_scorer, scoring

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=AnchorMecabTokenizer())
    aggregator = scoring.BootstrapAggregator()
    for ref, pred in zip(refs, preds, strict=True):
        aggregator.add_scores(scorer.score(ref, pred))
    return aggregator.aggregate()["rougeL"].mid.fmeasure * 100


def anchor_scores(refs: list[str], preds: list[str]) -> list[float]:
    """One process-pool job per item, as llm-jp-eval-mm's RougeLScorer.score does."""
    futures: list[Future[float]] = []
    with ProcessPoolExecutor() as executor:
        for ref, pred in zip(refs, preds, strict=True):
            futures.append(executor.submit(anchor_rouge_ja, [ref], [pred]))
    return [f.result() for f in futures]


# --- inputs -------------------------------------------------------------------------------------------


def heron_pairs() -> list[tuple[str, str]]:
    """(reference, answer) for every Heron-Bench question and each of the three models."""
    if not HERON.is_dir():
        sys.exit(f"needs {HERON} (shared/data beside the repository)")

    def rows(name: str) -> list[dict]:
        return [json.loads(line) for line in (HERON / name).read_text(encoding="utf-8").splitlines() if line]

    refs = {r["question_id"]: r["text"] for r in rows("answers_gpt4.jsonl")}
    return [(refs[a["question_id"]], a["text"]) for m in MODELS for a in rows(m) if a["question_id"] in refs]


def rouge_items(pairs: list[tuple[str, str]], n: int) -> tuple[list[EvalItem], list[Prediction]]:
    items, preds = [], []
    for i in range(n):
        ref, answer = pairs[i % len(pairs)]
        items.append(EvalItem(str(i), "bench", "q", reference=ref, language="ja"))
        preds.append(Prediction(str(i), answer))
    return items, preds


def rouge_benchmark(n: int, n_base: int) -> None:
    pairs = heron_pairs()
    print(f"\n1. ROUGE-L (ja): {len(pairs)} real Heron-Bench answer pairs, repeated")
    items, preds = rouge_items(pairs, n)
    start = time.perf_counter()
    ours = RougeL().score(items, preds)  # includes making the tagger once
    wall = time.perf_counter() - start
    ours_rate = n / wall
    print(f"   polyvlm rougel      {n:6d} items  {wall:7.2f} s  {ours_rate:9,.0f} items/s")
    try:
        import rouge_score  # noqa: F401
    except ImportError:
        print("   baseline skipped: pip install rouge-score (a bench-only dependency)")
        return
    refs = [str(i.reference) for i in items[:n_base]]
    texts = [p.text for p in preds[:n_base]]
    start = time.perf_counter()
    base = anchor_scores(refs, texts)
    wall_b = time.perf_counter() - start
    base_rate = n_base / wall_b
    print(
        f"   anchors' way        {n_base:6d} items  {wall_b:7.2f} s  {base_rate:9,.0f} items/s  ({os.cpu_count()} processes)"
    )
    diff = max(abs(a - float(b.value or 0.0)) for a, b in zip(base, ours[:n_base], strict=True))
    print(
        f"   speed-up: {ours_rate / base_rate:,.0f}x (goal >= 10x); largest per-item difference {diff:.2e} points"
    )


# --- judge throughput ---------------------------------------------------------------------------------


class InstantJudge:
    """A ChatClient that answers every request at once with "Score: 4" (no network): the scorer's cost alone."""

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return [ChatResult("Score: 4") for _ in requests]


class ServerProcess:
    """The test server in a process of its own, answering every request with a fixed reply."""

    def __init__(self, latency: float, capacity: int, reply: str) -> None:
        cmd = [
            sys.executable,
            str(SERVER),
            "--latency",
            str(latency),
            "--capacity",
            str(capacity),
            "--reply",
            reply,
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            raise RuntimeError(f"the test server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(10)


def judge_benchmark(m: int, capacity: int, latency: float) -> None:
    server = ServerProcess(latency, capacity, "Score: 4")
    try:
        spec = ChatSpec(
            backend="openai",
            model="bench-judge",
            base_url=server.url,
            cache_path=os.path.join(tempfile.mkdtemp(prefix="polyvlm-bench-"), "judge.sqlite"),
            limits=LimitsSpec(concurrency=capacity, timeout_s=30),
        )
        client = CachedChatClient(spec)
        client.check()
        items = [
            EvalItem(str(i), "bench", f"質問 {i}: 何が写っていますか？", reference="赤いバス")
            for i in range(m)
        ]
        preds = [Prediction(str(i), f"赤いバスが写っています ({i})") for i in range(m)]
        ideal = capacity / latency
        print(
            f"\n2. judge throughput: {m} items, server latency {latency * 1000:.0f} ms, capacity {capacity}, concurrency {capacity}"
        )
        print(f"   ideal {ideal:,.0f} items/s ({m / ideal:.2f} s); goal >= 90% of it")
        # the same judge requests sent by the client alone, in alternating rounds with fresh caches:
        # what this machine and server allow right now, so the scorer's own cost shows apart from the load
        conversations = [
            VilaJudge().prompt.messages(question=i.prompt, reference="赤いバス", answer=p.text)
            for i, p in zip(items, preds, strict=True)
        ]
        for rnd in range(2):
            bare = CachedChatClient(spec.model_copy(update={"cache_path": spec.cache_path + f".bare{rnd}"}))
            requests = [ChatRequest(c, judge_params(rnd, 256)) for c in conversations]
            start = time.perf_counter()
            bare.complete(requests)
            wall_c = time.perf_counter() - start
            print(
                f"   client alone      {wall_c:5.2f} s  {m / wall_c:5,.0f} items/s  {m / wall_c / ideal:6.1%} of ideal"
            )
            judged = CachedChatClient(
                spec.model_copy(update={"cache_path": spec.cache_path + f".scorer{rnd}"})
            )
            scorer = VilaJudge(run=rnd)
            start = time.perf_counter()
            scores = scorer.score(items, preds, judged)
            wall = time.perf_counter() - start
            print(
                f"   llm_judge scorer  {wall:5.2f} s  {m / wall:5,.0f} items/s  {m / wall / ideal:6.1%} of ideal  <-"
            )
        result = scorer.aggregate(items, scores)
        print(f"   scored {result.n}, excluded {result.excluded}, mean {result.overall}")
        # the scorer's own work (prompts built, replies read, aggregate with CI), with a judge that answers at once
        instant = InstantJudge()
        start = time.process_time()
        scorer.aggregate(items, VilaJudge(run=9).score(items, preds, instant))
        own = time.process_time() - start
        print(
            f"   the scorer's own CPU: {own / m * 1e6:,.0f} us per item (prompt, strict read, aggregate with CI)"
        )
    finally:
        server.close()


# --- VQA accuracy and ANLS against the official scripts ---------------------------------------------

SHORT = ["yes", "no", "2", "two", "3", "three", "red", "white", "black and white", "dog", "the dog", "a cat",
         "dont know", "don't know", "coca cola", "coca-cola", "stop", "stop sign", "1,000", "1000", "3.5",
         "tennis", "playing tennis", "none", "0", "left", "on the table", "table", "10:30", "new york"]  # fmt: skip
DOCS = ["$1,234.00", "1,234", "John Smith", "J. Smith", "March 3, 1998", "03/03/1998", "Total Due",
        "Philip Morris", "ITC Limited", "12%", "Tobacco Institute", "R&D budget", "page 4", "Dr. Jane Doe"]  # fmt: skip


def _variant(rng: random.Random, text: str) -> str:
    """A model's way of writing an answer: case, a final period, an article, surrounding space."""
    pick = rng.random()
    if pick < 0.2:
        return text.capitalize() + "."
    if pick < 0.3:
        return "The " + text
    if pick < 0.4:
        return f" {text.upper()}\n"
    return text


def _near_miss(rng: random.Random, text: str) -> str:
    """A reading of a document answer with a dropped, swapped or doubled character, or none."""
    chars = list(text)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 4])):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4 and len(chars) > 1:
            del chars[i]
        elif op < 0.7:
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        else:
            chars.insert(i, chars[i])
    return _variant(rng, "".join(chars))


def vqa_anls_items(n: int, seed: int = 0) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(answer, human answers) questions and (answer, accepted answers) document questions."""
    rng = random.Random(seed)
    vqa = []
    for _ in range(n):
        majority = rng.choice(SHORT)
        humans = [
            majority if rng.random() < rng.choice([0.3, 0.6, 1.0]) else rng.choice(SHORT) for _ in range(10)
        ]
        vqa.append((_variant(rng, rng.choice([majority, rng.choice(SHORT)])), humans))
    docs = []
    for _ in range(n):
        accepted = rng.sample(DOCS, rng.choice([1, 2]))
        docs.append((_near_miss(rng, accepted[0]), accepted))
    return vqa, docs


def _timed(fn, *args):  # noqa: ANN001, ANN202 -- a stopwatch around any call
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _side_by_side(
    label: str, n: int, base: list[float], wall_b: float, ours: list[float], wall: float
) -> None:
    differ = sum(1 for a, b in zip(base, ours, strict=True) if a != b)
    largest = max(abs(a - b) for a, b in zip(base, ours, strict=True))
    print(f"   official way   {n:7d} items  {wall_b:7.3f} s  {n / wall_b:11,.0f} items/s")
    print(f"   polyvlm {label:<7}{n:7d} items  {wall:7.3f} s  {n / wall:11,.0f} items/s")
    print(
        f"   speed-up: {wall_b / wall:,.1f}x (goal >= 10x); items that differ: {differ} (largest {largest:.1e})"
    )


def vqa_anls_benchmark(n: int) -> None:
    vqa, docs = vqa_anls_items(n)
    print(f"\n3. VQA accuracy: {n} questions with ten human answers each, same items both ways")
    base, wall_b = _timed(OfficialVQAEval().evaluate, vqa)
    items = [EvalItem(str(i), "bench", "q", reference=tuple(h)) for i, (_, h) in enumerate(vqa)]
    preds = [Prediction(str(i), a) for i, (a, _) in enumerate(vqa)]
    normalize_vqa.cache_clear()  # cold: the cache fills within the timed run, as in a real one
    scores, wall = _timed(VQAAccuracy().score, items, preds)
    _side_by_side("vqa_acc", n, base, wall_b, [float(s.value or 0.0) for s in scores], wall)
    print(
        f"   mean accuracy {100 * sum(base) / n:.4f} (official) vs {VQAAccuracy().aggregate(items, scores).overall:.4f}"
    )
    print(f"\n   ANLS: {n} document answers against one or two accepted answers, same items both ways")
    base, wall_b = _timed(lambda: [official_anls(a, refs) for a, refs in docs])
    items = [EvalItem(str(i), "bench", "q", reference=tuple(r)) for i, (_, r) in enumerate(docs)]
    preds = [Prediction(str(i), a) for i, (a, _) in enumerate(docs)]
    scores, wall = _timed(ANLS().score, items, preds)
    _side_by_side("anls", n, base, wall_b, [float(s.value or 0.0) for s in scores], wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--baseline-items", type=int, default=300)
    ap.add_argument("--judge-items", type=int, default=2000)
    ap.add_argument("--capacity", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--vqa-items", type=int, default=20000)
    ap.add_argument("--only", choices=["rouge", "judge", "vqa"], default=None, help="run one part only")
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores (shared)")
    if args.only in (None, "rouge"):
        rouge_benchmark(args.items, args.baseline_items)
    if args.only in (None, "judge"):
        judge_benchmark(args.judge_items, args.capacity, args.latency)
    if args.only in (None, "vqa"):
        vqa_anls_benchmark(args.vqa_items)


if __name__ == "__main__":
    main()
