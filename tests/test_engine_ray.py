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
    """A Ray head on 127.0.0.1, ended by ending its `ray start --block` (never `ray stop`: that ends every
    Ray on the machine, other users' too)."""
    import time

    ray_bin = shutil.which("ray", path=os.path.dirname(sys.executable))
    port = _free_port()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    start = [ray_bin, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"]  # fmt: skip
    proc = subprocess.Popen(start, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    assert proc.poll() is None, "ray start --head failed"
    time.sleep(2)  # the raylet registers after the GCS port opens
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(120)


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


def _translate_recipe(tmp_path, server_url: str, name: str, shards: int = 8, per_shard: int = 10) -> str:
    """exact_dedup (an aggregate: two phases) then translate (paid calls) over `shards` JSONL files."""
    from polyvlm.core.records import Message, Sample, record_to_json

    data = tmp_path / "in"
    data.mkdir(exist_ok=True)
    for s in range(shards):
        lines = []
        for i in range(per_shard):
            k = (s * per_shard + i) % (shards * per_shard - 7)  # a few repeats for dedup
            thing = "".join(
                "bdfgklmnprstvz"[int(d)] for d in str(k)
            )  # no digits: those are masked in prompts
            sample = Sample(id=f"s{s}-{i}", language="en", messages=[
                Message("user", f"Describe the {thing}."), Message("assistant", f"A {thing} in the rain.")])  # fmt: skip
            lines.append(record_to_json(sample) + "\n")
        (data / f"part{s:02d}.jsonl").write_text("".join(lines))
    client = (
        f"{{backend: openai, base_url: '{server_url}', model: m, cache_path: '{tmp_path}/{name}.sqlite'}}"
    )
    recipe = tmp_path / f"{name}.yaml"
    recipe.write_text(f"""
inputs: ['{data}/*.jsonl']
steps:
  - exact_dedup: {{}}
  - translate: {{target: fr, batch_size: 4, check_language: false, length_ratio: [0.1, 50], client: {client}}}
outputs:
  - write_parquet: {{path: samples}}
shard_size: 6
""")
    return str(recipe)


def test_killed_ray_driver_resumes_without_recomputing_or_paying_twice(root, tmp_path, ray_head):
    """SIGKILL the driver mid-run; the same command finishes the rest: output equal to an uninterrupted run,
    finished units untouched, and no model call answered twice."""
    import signal
    import time

    from fake_openai_server import FakeOpenAIServer

    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    with FakeOpenAIServer(latency=0.05) as server:
        recipe = _translate_recipe(tmp_path, server.url, "whole")
        cmd = [sys.executable, "-m", "polyvlm.cli", "run", recipe, "-o", str(whole), "--quiet"]
        assert subprocess.run(cmd, cwd=root, env=env, capture_output=True).returncode == 0
        uninterrupted = server.stats()
    assert uninterrupted["repeated"] == 0 and uninterrupted["answered"] > 100

    with FakeOpenAIServer(latency=0.05) as server:
        recipe = _translate_recipe(tmp_path, server.url, "killed")
        cmd = [sys.executable, "-m", "polyvlm.cli", "run", recipe, "-o", str(killed), "--quiet",
               "--engine", "ray", "--ray-address", ray_head]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done_dir = killed / "_state" / "done"
        deadline = time.time() + 300
        while time.time() < deadline and len(list(done_dir.glob("p1-*.json"))) < 3:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        finished = {p: p.stat().st_mtime_ns for p in done_dir.glob("*.json")}
        assert 8 + 3 <= len(finished) < 16, "the kill must land in the middle of the run"
        assert not (killed / "stats.json").exists()
        res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        resumed = server.stats()
    assert parquet_records(str(killed), "samples") == parquet_records(str(whole), "samples")
    assert side_files(str(killed), "rejects") == side_files(str(whole), "rejects")
    assert side_files(str(killed), "rejects"), "the dedup must have rejected something (a real second phase)"
    assert funnel(str(killed)) == funnel(str(whole))
    ids = [s["id"] for s in parquet_records(str(killed), "samples")]
    assert len(ids) == len(set(ids)), "no duplicates after resume"
    assert {p: p.stat().st_mtime_ns for p in finished} == finished, "finished units are not computed again"
    assert not list(killed.rglob("*.tmp"))
    # asked twice at most: the requests in flight when the driver died (its job's workers die with it: two
    # CPUs x batch_size 4). What an unfinished unit had been answered is in the cache; finished units are
    # not even looked up again.
    assert resumed["repeated"] <= 8 and resumed["answered"] <= uninterrupted["answered"] + 8
    assert len(server.answered) == uninterrupted["answered"], "every prompt was answered"


def test_two_node_cluster_gives_the_same_output_as_local(root, tmp_path):
    """A head with no CPUs (the driver's node) and two 1-CPU worker nodes: every block crosses nodes."""
    from ray.cluster_utils import Cluster

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        local, ray_out = tmp_path / "local", tmp_path / "ray"
        cmd = [sys.executable, "-m", "polyvlm.cli", "run", "recipes/demo.yaml", "--quiet"]
        res = subprocess.run([*cmd, "-o", str(local)], cwd=root, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        # this test cluster runs without token auth: say so, or a token left by `ray start` would be used
        env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
        res = subprocess.run([*cmd, "-o", str(ray_out), "--engine", "ray", "--ray-address", cluster.address],
                             cwd=root, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
    finally:
        cluster.shutdown()
    assert parquet_records(str(ray_out)) and parquet_records(str(ray_out)) == parquet_records(str(local))
    assert side_files(str(ray_out), "rejects") == side_files(str(local), "rejects")
    assert side_files(str(ray_out), "_errors") == side_files(str(local), "_errors")
    assert funnel(str(ray_out)) == funnel(str(local))


def _remote_env(gcs: str, staging) -> dict:
    return {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "STORAGE_EMULATOR_HOST": gcs,
            "POLYVLM_STAGING": str(staging)}  # fmt: skip


def _fetch_run(url: str, local) -> None:
    from polyvlm.core.remote_fs import download, join_url, list_files

    for rel in list_files(url):
        download(join_url(url, rel), str(local / rel))


def test_inputs_and_outputs_behind_a_url_on_ray_equal_local(
    root, tmp_path, ray_head, gcs_server, monkeypatch
):
    """The demo read from gs://runs/in and written to gs://runs/out on Ray equals a local run of the same inputs."""
    from polyvlm.core.remote_fs import join_url, upload

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    for sub in ("warc", "html"):
        for f in sorted((root / "examples/data" / sub).iterdir()):
            upload(str(f), join_url("gs://runs/in", sub, f.name))
    recipe = tmp_path / "demo.yaml"
    recipe.write_text((root / "recipes/demo.yaml").read_text().replace("examples/data/", "gs://runs/in/"))
    env = _remote_env(gcs_server, tmp_path / "staging")
    cmd = [sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "--quiet"]
    local = tmp_path / "local"
    res = subprocess.run([*cmd, "-o", str(local)], cwd=root, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    res = subprocess.run([*cmd, "-o", "gs://runs/out", "--engine", "ray", "--ray-address", ray_head],
                         cwd=root, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    fetched = tmp_path / "fetched"
    _fetch_run("gs://runs/out", fetched)
    docs = parquet_records(str(fetched))
    assert docs and docs == parquet_records(str(local))
    assert {d["provenance"]["source"].split("/in/")[0] for d in docs} == {"gs://runs"}
    assert side_files(str(fetched), "rejects") == side_files(str(local), "rejects")
    assert funnel(str(fetched)) == funnel(str(local))
    assert (fetched / "report.html").exists() and (fetched / "manifest.json").exists()
    assert not list((tmp_path / "staging").rglob("*.parquet")), "published outputs leave the staging copy"


def test_killed_run_with_a_url_output_resumes_on_another_machine(
    root, tmp_path, ray_head, gcs_server, monkeypatch
):
    """Kill the driver; resume with an empty staging directory (another machine): the URL holds the checkpoint."""
    import signal
    import time

    from fake_openai_server import FakeOpenAIServer

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    with FakeOpenAIServer(latency=0.05) as server:
        recipe = _translate_recipe(tmp_path, server.url, "remote")
        whole = tmp_path / "whole"
        cmd = [sys.executable, "-m", "polyvlm.cli", "run", recipe, "--quiet", "--engine", "ray",
               "--ray-address", ray_head]  # fmt: skip
        env = _remote_env(gcs_server, tmp_path / "staging-a")
        assert (
            subprocess.run([*cmd, "-o", str(whole)], cwd=root, env=env, capture_output=True).returncode == 0
        )
        proc = subprocess.Popen([*cmd, "-o", "gs://runs/killed"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        done_dir = tmp_path / "staging-a"
        deadline = time.time() + 300
        while time.time() < deadline and len(list(done_dir.rglob("_state/done/p1-*.json"))) < 3:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        env = _remote_env(gcs_server, tmp_path / "staging-b")
        res = subprocess.run([*cmd, "-o", "gs://runs/killed"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=600)  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
    fetched = tmp_path / "fetched"
    _fetch_run("gs://runs/killed", fetched)
    assert parquet_records(str(fetched), "samples") == parquet_records(str(whole), "samples")
    assert side_files(str(fetched), "rejects") == side_files(str(whole), "rejects")
    assert funnel(str(fetched)) == funnel(str(whole))
    assert len(list((tmp_path / "staging-b").rglob("_state/done/*.json"))) == 16


@pytest.mark.parametrize("block_bytes", [None, 9000], ids=["default-blocks", "chunks-split-between-blocks"])
def test_shards_of_many_chunks_keep_their_order_on_ray(root, tmp_path, ray_head, block_bytes):
    """Shards several times the chunk size: chunks finish in any order and may be merged into one block,
    or (with blocks smaller than a chunk) split between blocks; the records, rejects and funnel still
    equal the local engine's, and no rows are lost or doubled."""
    from polyvlm.core.records import Message, Sample, record_to_json
    from polyvlm.engine.ray import CHUNK

    data = tmp_path / "in"
    data.mkdir()
    for s in range(3):
        lines = [record_to_json(Sample(id=f"s{s}-{i:05d}", language="en", messages=[
            Message("user", f"question {(s * 7 + i) % 1500}"), Message("assistant", "answer")])) + "\n"
            for i in range(CHUNK * 3 + 17)]  # fmt: skip
        (data / f"part{s}.jsonl").write_text("".join(lines))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"inputs: ['{data}/*.jsonl']\nsteps:\n  - exact_dedup: {{}}\n"
                      "outputs:\n  - write_parquet: {path: samples}\nshard_size: 100\n")  # fmt: skip
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    if block_bytes:  # a chunk of 256 samples is ~40 kB: every one arrives in pieces
        env["POLYVLM_RAY_BLOCK_BYTES"] = str(block_bytes)
    cmd = [sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "--quiet"]
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    assert subprocess.run([*cmd, "-o", str(local)], cwd=root, env=env, capture_output=True).returncode == 0
    res = subprocess.run([*cmd, "-o", str(ray_out), "--engine", "ray", "--ray-address", ray_head],
                         cwd=root, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    samples = parquet_records(str(ray_out), "samples")
    assert samples == parquet_records(str(local), "samples")
    rejects = side_files(str(ray_out), "rejects")
    assert rejects == side_files(str(local), "rejects")
    assert len(samples) + sum(map(len, rejects.values())) == 3 * (CHUNK * 3 + 17)
    assert [s["id"] for s in samples] == sorted(s["id"] for s in samples), "input order kept"
    assert funnel(str(ray_out)) == funnel(str(local))


def test_publishing_a_unit_looks_only_at_its_own_files_in_the_per_unit_directories(
    tmp_path, gcs_server, monkeypatch
):
    """After a unit, RemoteRun sends that unit's checkpoint files and every new output, without walking the
    directories that gain a file per unit; a full publish (phase end, run end) sends anything left."""
    from polyvlm.core.remote_fs import list_files
    from polyvlm.engine.remote_run import MARKER, RemoteRun

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("POLYVLM_STAGING", str(tmp_path / "staging"))
    run = RemoteRun("gs://runs/pub", fresh=True)

    def write(rel: str) -> None:
        path = os.path.join(run.local, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(rel)

    write(MARKER)
    for rel in ("_state/done/p0-s00000.json", "_state/work/p0-s00000.jsonl", "_state/work/p0-s00000.state",
                "_errors/p0-s00000.jsonl", "rejects/p0-s00000.jsonl", "samples/s00000-0000.parquet",
                "_state/work/p0-s00001.jsonl.tmp"):  # fmt: skip
        write(rel)
    write("_state/done/p0-s00007.json")  # another unit's marker: not this unit's to send
    run.publish("p0-s00000")
    sent = set(list_files("gs://runs/pub"))
    assert {MARKER, "_state/done/p0-s00000.json", "_state/work/p0-s00000.jsonl", "_state/work/p0-s00000.state",
            "_errors/p0-s00000.jsonl", "rejects/p0-s00000.jsonl", "samples/s00000-0000.parquet"} <= sent  # fmt: skip
    assert "_state/done/p0-s00007.json" not in sent and not any(r.endswith(".tmp") for r in sent)
    assert not os.path.exists(
        os.path.join(run.local, "samples/s00000-0000.parquet")
    )  # outputs leave the disk
    assert os.path.exists(os.path.join(run.local, "_state/done/p0-s00000.json"))  # the checkpoint stays
    run.publish()
    assert "_state/done/p0-s00007.json" in set(list_files("gs://runs/pub"))
