"""`polyvlm run` of a model-calling recipe killed with SIGKILL, then run again: no answered call is paid twice."""

import glob
import signal
import subprocess
import sys
import time

from fake_openai_server import FakeOpenAIServer
from polyvlm.core.records import Message, Sample, record_to_json


def _recipe(tmp_path, server_url: str, name: str) -> str:
    data = tmp_path / "in.jsonl"
    if not data.exists():
        things = [
            f"{a} {b}"
            for a in ("red", "blue", "green", "old", "small")
            for b in ("bus", "cat", "boat", "house", "tree", "bridge", "train", "kite")
        ]  # numbers would be protected
        samples = [Sample(id=f"s{i:02d}", language="en", messages=[
            Message("user", f"Describe the {t}."), Message("assistant", f"A {t} in the rain.")])
            for i, t in enumerate(things)]  # fmt: skip
        data.write_text("".join(record_to_json(s) + "\n" for s in samples))
    client = (f"{{backend: openai, base_url: '{server_url}', model: m, license: Apache-2.0, "
              f"cache_path: '{tmp_path}/{name}.sqlite', limits: {{concurrency: 4}}}}")  # fmt: skip
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""
inputs: [{data}]
steps:
  - translate: {{target: fr, batch_size: 4, check_language: false, length_ratio: [0.1, 50], client: {client}}}
outputs:
  - write_jsonl: {{path: out}}
""")
    return str(path)


def _run(recipe: str, out) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "polyvlm.cli", "run", recipe, "-o", str(out), "--quiet", "-w", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _out(out) -> str:
    return "".join(open(f).read() for f in sorted(glob.glob(str(out / "out" / "*.jsonl"))))


def test_killed_run_rerun_pays_no_answered_call_twice_and_ends_the_same(tmp_path):
    with FakeOpenAIServer(latency=0.08) as server:
        ref = _run(_recipe(tmp_path, server.url, "ref"), tmp_path / "ref")
        assert ref.wait(120) == 0, ref.stderr.read()[-2000:]
        calls_uninterrupted = server.requests
    assert calls_uninterrupted == 80  # two messages a sample

    with FakeOpenAIServer(latency=0.08) as server:
        recipe = _recipe(tmp_path, server.url, "run")
        proc = _run(recipe, tmp_path / "run")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and server.requests < 30:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, "the run finished before it could be killed"
        answered_at_kill = server.requests
        assert 30 <= answered_at_kill < 80
        again = _run(recipe, tmp_path / "run")
        assert again.wait(120) == 0, again.stderr.read()[-2000:]
        stats = server.stats()
    # asked again at most: the requests in flight at the kill (concurrency 4) and answers that had arrived
    # but were not yet committed by the cache's writer thread (it commits what arrived, < 1 ms behind)
    assert stats["repeated"] <= 8 and server.requests <= 80 + 8
    assert _out(tmp_path / "run") == _out(tmp_path / "ref") and _out(tmp_path / "ref").count("\n") == 40
