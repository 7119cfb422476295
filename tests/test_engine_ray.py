"""The same recipe gives the same records on a real local Ray cluster (127.0.0.1) as on the local engine."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from engine_outputs import funnel, parquet_records, side_files
from pair_crawl import recipe_on_small_crawl

pytestmark = pytest.mark.ray


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    ray_bin = shutil.which("ray", path=os.path.dirname(sys.executable))
    port = _free_port()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    start = [ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats"]  # fmt: skip
    res = subprocess.run(start, env=env, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    yield f"127.0.0.1:{port}"
    subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_ray_engine_gives_the_same_records_as_local(root, tmp_path, ray_head):
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    cmd = [sys.executable, "-m", "polyvlm.cli", "run", "recipes/demo.yaml", "--quiet"]
    res = subprocess.run([*cmd, "-o", str(local)], cwd=root, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([*cmd, "-o", str(ray_out), "--engine", "ray", "--ray-address", ray_head],
                         cwd=root, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    records = parquet_records(str(ray_out))
    assert records and records == parquet_records(str(local))
    assert side_files(str(ray_out), "rejects") == side_files(str(local), "rejects")
    assert side_files(str(ray_out), "_errors") == side_files(str(local), "_errors")
    assert funnel(str(ray_out)) == funnel(str(local))


def test_pair_recipe_gives_the_same_pairs_on_ray(root, tmp_path, ray_head):
    """ja-pairs (expand step, two aggregates, image fetching from the crawl, NSFW model) on both engines."""
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    pages = ("html/postlight__www.ipa.go.jp.html", "html/readability__hukumusume__source.html",
             "html/trafilatura__nhk.or.jp.k100.html", "ja-pages/newspaper4k__japanese_article.html")  # fmt: skip
    recipe = recipe_on_small_crawl(root, tmp_path, "recipes/ja-pairs.yaml", pages)
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    cmd = [sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "--quiet"]
    res = subprocess.run([*cmd, "-o", str(local)], cwd=root, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    res = subprocess.run([*cmd, "-o", str(ray_out), "--engine", "ray", "--ray-address", ray_head],
                         cwd=root, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    pairs = parquet_records(str(ray_out), "index")
    assert len(pairs) >= 5 and pairs == parquet_records(str(local), "index")
    assert all(p["image"]["phash"] and "nsfw" in p["image"]["scores"] for p in pairs)
    assert side_files(str(ray_out), "rejects") == side_files(str(local), "rejects")
    assert funnel(str(ray_out)) == funnel(str(local))
    stats = [json.loads((out / "stats.json").read_text()) for out in (local, ray_out)]
    fetched = next(s["out"] for s in stats[0]["steps"] if s["label"] == "fetch_images")
    assert stats[0]["metrics"] == stats[1]["metrics"] == {"fetch_images": {"images_from_warc": fetched}}


def test_model_calling_recipe_gives_the_same_samples_on_ray(root, tmp_path, ray_head):
    """translate against a real local OpenAI-compatible server: same samples, funnel and calls on Ray."""
    from fake_openai_server import FakeOpenAIServer
    from polyvlm.core.records import Message, Sample, record_to_json

    data = tmp_path / "in.jsonl"
    things = [f"{a} {b}" for a in ("red", "blue", "old") for b in ("bus", "cat", "boat", "house")]
    data.write_text("".join(record_to_json(Sample(id=f"s{i:02d}", language="en", messages=[
        Message("user", f"Describe the {t}."), Message("assistant", f"A {t} in the rain.")])) + "\n"
        for i, t in enumerate(things)))  # fmt: skip
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    outs = {}
    with FakeOpenAIServer() as server:
        for engine in ("local", "ray"):
            client = f"{{backend: openai, base_url: '{server.url}', model: m, cache_path: '{tmp_path}/{engine}.sqlite'}}"
            recipe = tmp_path / f"{engine}.yaml"
            recipe.write_text(f"""
inputs: [{data}]
steps:
  - translate: {{target: fr, batch_size: 4, check_language: false, length_ratio: [0.1, 50], client: {client}}}
outputs:
  - write_parquet: {{path: samples}}
""")
            outs[engine] = tmp_path / engine
            cmd = [
                sys.executable,
                "-m",
                "polyvlm.cli",
                "run",
                str(recipe),
                "-o",
                str(outs[engine]),
                "--quiet",
            ]
            if engine == "ray":
                cmd += ["--engine", "ray", "--ray-address", ray_head]
            res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, res.stderr[-3000:]
    samples = parquet_records(str(outs["ray"]), "samples")
    assert len(samples) == 12 and samples == parquet_records(str(outs["local"]), "samples")
    assert all(s["language"] == "fr" and s["messages"][0]["content"].startswith("answer ") for s in samples)
    assert funnel(str(outs["ray"])) == funnel(str(outs["local"]))
    metrics = [
        json.loads((outs[e] / "stats.json").read_text())["metrics"]["translate"] for e in ("local", "ray")
    ]
    assert metrics[0]["calls"] == metrics[1]["calls"] == 24 and metrics[0] == metrics[1]
