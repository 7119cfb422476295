"""SIGKILL a real `polyvlm eval run` mid-inference and mid-judging, run it again: it continues, no answered
prediction or judge call is asked twice (the server's request log says so), and the scores are those of an
uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_openai_server import FakeOpenAIServer

HERE = Path(__file__).parent
LAUNCH = (
    f"import sys; sys.path.insert(0, {str(HERE)!r}); import harness_scorers; "
    "from polyvlm.cli import main; main()"
)


def write_task(tmp_path: Path, fixtures: Path) -> Path:
    image = str(fixtures / "custom/images/lake.jpg")
    questions = ["one?", "two?", "three?", "[[stallx1]] four?", "five?", "[judgestall1] six?"]
    rows = [
        {"id": f"q{i}", "image": image, "question": q, "reference": "answer"} for i, q in enumerate(questions)
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def command(server: FakeOpenAIServer, data: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", LAUNCH, "eval", "run", "--model", f"openai:vlm@{server.url}",
            "--tasks", "custom", "--data", f"custom={data}", "--metrics", "harness_contains,harness_judge",
            "--judge", f"openai:judge@{server.url}", "--concurrency", "1", "--quiet", "-o", str(out)]  # fmt: skip


def run_until(cmd: list[str], done, seen, timeout: float = 180.0) -> None:
    """Start the run; SIGKILL it as soon as `done()` holds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not done():
            assert proc.poll() is None, (
                f"the run ended before the kill: {proc.stderr.read().decode()[-2000:]}"
            )
            assert time.monotonic() < deadline, f"the run never reached the kill point: {dict(seen)}"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


def stored(cache: Path) -> int:
    """Answers committed to a response cache (what a killed run keeps; the server's count runs ahead)."""
    import sqlite3

    if not cache.is_file():
        return 0
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_inference_and_mid_judging_then_resume(tmp_path, fixtures):
    data = write_task(tmp_path, fixtures)
    out = tmp_path / "out"
    log = out / "custom/vlm/prediction.jsonl"
    with FakeOpenAIServer(stall_s=60.0) as server:
        cmd = command(server, data, out)
        # killed while the model stalls on the fourth question, three answers saved
        run_until(cmd, lambda: lines(log) == 3 and server.seen["<image>[[stallx1]] four?"] == 1, server.seen)
        # killed while the judge stalls on the sixth item, the other five verdicts received and stored (an
        # answer the server has sent but the client has not committed yet is in flight: it may be paid twice)
        judged = lambda: sum(n for p, n in server.answered.items() if p.startswith("Judge"))  # noqa: E731
        run_until(
            cmd,
            lambda: (
                judged() == 5
                and any("[[stallx1]]" in p for p in server.seen if p.startswith("Judge"))
                and stored(out / ".cache/judge-responses.sqlite") == 5
            ),
            server.seen,
        )
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        stalled = {p for p in server.seen if "[[stallx1]]" in p}
        assert len(stalled) == 2
        for prompt, n in server.seen.items():
            assert n == (2 if prompt in stalled else 1), (prompt, n)  # nothing answered was asked again
        assert all(n == 1 for n in server.answered.values())
        resumed = json.loads((out / "custom/vlm/evaluation.jsonl").read_text())

        # the same run uninterrupted, elsewhere: the same scores
        clean = subprocess.run(
            command(server, data, tmp_path / "clean"), capture_output=True, text=True, timeout=120
        )
        assert clean.returncode == 0, clean.stderr[-2000:]
    expected = json.loads((tmp_path / "clean/custom/vlm/evaluation.jsonl").read_text())
    for metric in ("harness_contains", "harness_judge"):
        assert resumed[metric]["overall_score"] == pytest.approx(expected[metric]["overall_score"])
        assert resumed[metric]["details"]["n"] == expected[metric]["details"]["n"] == 6
    manifest = json.loads((out / "custom/vlm/manifest.json").read_text())
    assert [s["asked"] for s in manifest["inference_sessions"]] == [
        6,
        3,
    ]  # the resumed session asked the rest
    preds = [json.loads(x) for x in log.read_text().splitlines()]
    assert [p["question_id"] for p in preds] == [f"q{i}" for i in range(6)]
