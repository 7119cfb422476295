"""The local engine on the bundled demo: funnel accounting, outputs, resume after SIGKILL."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import webdataset as wds

from engine_outputs import funnel, parquet_records, side_files


def _run(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "polyvlm.cli", *args], cwd=root, capture_output=True, text=True
    )


def test_demo_run_accounts_for_every_record(root, tmp_path):
    out = tmp_path / "demo"
    res = _run(root, "run", "recipes/demo.yaml", "-o", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "kept" in res.stdout and "extract_html" in res.stdout
    stats = json.loads((out / "stats.json").read_text())
    t = stats["totals"]
    assert stats["balanced"] and t["records_in"] == t["kept"] + t["rejected"] + t["errors"]
    # per step: in = out + dropped + errors, and each step's out feeds the next
    prev_out = stats["read"]["records"]
    for s in stats["steps"]:
        assert s["in"] == prev_out
        assert s["in"] == s["out"] + sum(s["dropped"].values()) + s["errors"]
        prev_out = s["out"]
    assert prev_out == t["kept"] == stats["written"]["write_parquet"]
    rejects = [r for rs in side_files(str(out), "rejects").values() for r in rs]
    assert len(rejects) == t["rejected"] and all(r["step"] and r["reason"] for r in rejects)
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == t["errors"] and {e["reason"] for e in errors} == {"truncated_record"}
    docs = parquet_records(str(out))
    assert len(docs) == t["kept"]
    langs = {d["language"] for d in docs}
    assert {"ja", "de", "zh", "ru", "nl"} <= langs
    ja = [d for d in docs if d["language"] == "ja"]
    assert any(
        im["alt"] and im["url"].startswith("http") and im["dom_index"] is not None
        for d in ja
        for im in d["images"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recipe_sha256"] and manifest["versions"]["fastwarc"] and len(manifest["inputs"]) == 10
    report = (out / "report.html").read_text()
    assert "<svg" in report and "too_short" in report
    # the WebDataset shards are readable by the webdataset library, one sample per kept record
    tars = sorted(glob.glob(str(out / "webdataset" / "*.tar")))
    samples = list(wds.WebDataset(tars, shardshuffle=False))
    assert len(samples) == t["kept"]
    assert all("json" in s and "txt" in s for s in samples)


def _slow_recipe(root, tmp_path, copies: int) -> str:
    data = tmp_path / "data"
    data.mkdir()
    srcs = sorted(glob.glob(str(root / "examples/data/warc/*.warc.gz"))) + sorted(
        glob.glob(str(root / "examples/data/html/*.html"))
    )
    for i in range(copies):
        for src in srcs:
            name = os.path.basename(src)
            shutil.copy(src, data / f"{i:02d}_{name}")
    recipe = tmp_path / "slow.yaml"
    recipe.write_text(f"""
inputs:
  - {data}/*.warc.gz
  - {data}/*.html
steps:
  - extract_html: {{}}
  - language_id: {{}}
  - text_length: {{min_chars: 200}}
  - exact_dedup: {{}}
outputs:
  - write_parquet: {{path: documents}}
  - write_webdataset: {{path: webdataset}}
shard_size: 7
workers: 1
""")
    return str(recipe)


def test_killed_run_resumes_to_the_same_output(root, tmp_path):
    recipe = _slow_recipe(root, tmp_path, copies=6)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run(root, "run", recipe, "-o", str(whole), "--quiet").returncode == 0

    proc = subprocess.Popen([sys.executable, "-m", "polyvlm.cli", "run", recipe, "-o", str(killed), "--quiet"],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    done_dir = killed / "_state" / "done"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(done_dir.glob("p0-*.json"))) < 5:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = len(list(done_dir.glob("*.json")))
    assert 0 < finished_before < 2 * 60, "the kill must land in the middle of the run"
    assert not (killed / "stats.json").exists()

    res = _run(root, "run", recipe, "-o", str(killed), "--quiet")
    assert res.returncode == 0, res.stderr
    assert parquet_records(str(killed)) == parquet_records(str(whole))
    assert side_files(str(killed), "rejects") == side_files(str(whole), "rejects")
    assert funnel(str(killed)) == funnel(str(whole))
    assert not glob.glob(str(killed / "**" / "*.tmp"), recursive=True)
    ids = [d["id"] for d in parquet_records(str(killed))]
    assert len(ids) == len(set(ids)), "no duplicates after resume"


def test_resume_refuses_a_different_recipe(root, tmp_path):
    out = tmp_path / "o"
    assert _run(root, "run", "recipes/demo.yaml", "-o", str(out), "--quiet").returncode == 0
    other = tmp_path / "other.yaml"
    other.write_text((root / "recipes/demo.yaml").read_text().replace("min_chars: 200", "min_chars: 300"))
    res = _run(root, "run", str(other), "-o", str(out), "--quiet")
    assert res.returncode != 0 and "different recipe" in res.stderr


def test_outputs_can_be_inputs_parquet_then_jsonl(root, tmp_path):
    first = tmp_path / "first"
    assert _run(root, "run", "recipes/demo.yaml", "-o", str(first), "--quiet").returncode == 0
    recipe = tmp_path / "again.yaml"
    recipe.write_text(f"inputs: ['{first}/documents/*.parquet']\noutputs: [write_jsonl]\n")
    second = tmp_path / "second"
    res = _run(root, "run", str(recipe), "-o", str(second), "--quiet")
    assert res.returncode == 0, res.stderr
    third_recipe = tmp_path / "third.yaml"
    third_recipe.write_text(
        f"inputs: ['{second}/jsonl/*.jsonl']\noutputs: [write_parquet: {{path: documents}}]\n"
    )
    third = tmp_path / "third"
    res = _run(root, "run", str(third_recipe), "-o", str(third), "--quiet")
    assert res.returncode == 0, res.stderr
    assert parquet_records(str(third)) == parquet_records(str(first))


def test_a_directory_that_is_not_a_run_is_never_deleted(root, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    for extra in ([], ["--fresh"], ["--engine", "ray"]):
        res = _run(root, "run", "recipes/demo.yaml", "-o", str(precious), "--quiet", *extra)
        assert res.returncode != 0 and "not a polyvlm run" in res.stderr
    assert (precious / "thesis.txt").read_text() == "do not delete"
