"""The whole loop on the bundled data, and the count at every joint: recipes -> training -> evaluation -> leaderboard.

`make loop` runs it (docs/loop.md). Each part is the real `polyvlm` command a user would type; after each
one the script reads what that part wrote and checks it against what the next part read:

- recipe -> training: every record a recipe's writer wrote is a record training read from that path
  (data.json of the training run), and every record read is a sample or a counted drop;
- training: every planned sample trained or failed with a reason (samples-rank*.jsonl, errors*.jsonl);
- evaluation: every item answered or excluded with a reason; every answer scored or a counted judge failure.

A joint that does not add up exits 1 naming it; so does any part that fails (its own exit code and message).
`--endpoint URL` sends the instruct recipe's model calls to an OpenAI-compatible server instead of the
embedded SmolLM2 (as `polyvlm run --endpoint` does); `--judge SPEC` adds the judged metric.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import yaml

RECIPES = ("ja-pairs", "ja-interleaved", "ja-text", "ja-instruct", "ja-render")
TRAIN_CONFIG = "configs/train/loop.yaml"
EVAL_DATA = "examples/data/loop/eval-ja.jsonl"


def run(args: list[str], what: str) -> None:
    """Run one polyvlm command; stop the loop with its exit code when it fails."""
    print(f"\n== {what}: polyvlm {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "polyvlm.cli", *args])
    if done.returncode:
        sys.exit(f"loop: {what} failed (exit {done.returncode}); see its message above")
    print(f"   {what}: {time.perf_counter() - t0:.0f} s", flush=True)


def recipe_outputs(name: str) -> tuple[str, dict[str, str]]:
    """A recipe's output_dir and {output folder: writer step} from its YAML."""
    with open(f"recipes/{name}.yaml", encoding="utf-8") as f:
        recipe = yaml.safe_load(f)
    folders = {}
    for output in recipe["outputs"]:
        ((writer, params),) = output.items()
        folders[(params or {}).get("path", writer)] = writer
    return recipe["output_dir"], folders


def jsonl(pattern: str) -> list[dict]:
    """Every JSON line of the files matching pattern."""
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


class Joints:
    """The loop's counts, and the joints that do not add up."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.broken: list[str] = []

    def count(self, line: str) -> None:
        """Record one count line."""
        self.lines.append(line)
        print(f"   {line}", flush=True)

    def expect(self, ok: bool, joint: str) -> None:
        """A joint that must add up."""
        if not ok:
            self.broken.append(joint)
            print(f"   JOINT LOST DATA: {joint}", flush=True)


def check_recipes(joints: Joints, written: dict[str, int]) -> None:
    """Per recipe: records in = kept + rejected + errors, and what each writer wrote."""
    for name in RECIPES:
        out, folders = recipe_outputs(name)
        with open(os.path.join(out, "stats.json"), encoding="utf-8") as f:
            stats = json.load(f)
        t = stats["totals"]
        joints.count(
            f"recipe {name}: {t['records_in']} records in, {t['created']} created, {t['kept']} kept, "
            f"{t['rejected']} rejected, {t['errors']} errors; written {stats['written']}"
        )
        joints.expect(stats.get("balanced", False), f"recipe {name}: stats.json does not balance")
        for folder, writer in folders.items():
            written[os.path.normpath(os.path.join(out, folder))] = stats["written"].get(writer, 0)


def check_training(joints: Joints, written: dict[str, int], out: str) -> None:
    """Recipe outputs -> sources read -> samples planned -> trained or failed, per stage."""
    with open(os.path.join(out, "data.json"), encoding="utf-8") as f:
        data = json.load(f)
    trained: Counter = Counter()
    for row in jsonl(os.path.join(out, "samples-rank*.jsonl")):
        trained[row["stage"]] += sum(1 for i in row["ids"] if i != "dummy-image")
    failed: Counter = Counter()
    reasons: Counter = Counter()
    for row in jsonl(os.path.join(out, "errors*.jsonl")):
        failed[row["stage"]] += 1
        reasons[row["reason"].split(": ", 1)[0]] += 1
    for si, (stage, report) in enumerate(data.items()):
        for name, src in report["sources"].items():
            folder = os.path.relpath(os.path.dirname(src["path"]))
            wrote = written.get(folder)
            joints.count(
                f"train {stage}/{name}: {src['read']} records read from {folder} (recipe wrote {wrote}), "
                f"{src['samples']} samples, dropped {src['dropped'] or 0}"
            )
            joints.expect(
                wrote == src["read"], f"{folder}: recipe wrote {wrote}, training read {src['read']}"
            )
            joints.expect(
                src["read"] == src["samples"] + sum(src["dropped"].values()),
                f"train {stage}/{name}: read != samples + dropped",
            )
        joints.count(
            f"train {stage}: {report['samples_planned']} samples planned in {report['steps']} steps, "
            f"{trained[si]} trained, {failed[si]} failed"
        )
        joints.expect(
            trained[si] + failed[si] == report["samples_planned"],
            f"train {stage}: trained + failed != planned",
        )
    joints.count(f"train failures by reason: {dict(reasons) or 'none'}")


def check_eval(joints: Joints, out: str) -> None:
    """Items -> answered or not -> per metric scored or excluded with a reason (a judge failure among them)."""
    for manifest_path in sorted(glob.glob(os.path.join(out, "*", "*", "manifest.json"))):
        run_dir = os.path.dirname(manifest_path)
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        task, items = manifest["task"], manifest["items"]
        answered = len(jsonl(os.path.join(run_dir, "prediction.jsonl")))
        not_answered = sum(manifest["prediction_errors"].values())
        joints.count(f"eval {task}: {items} items, {answered} answered, {not_answered} not answered")
        joints.expect(answered + not_answered == items, f"eval {task}: answered + not answered != items")
        (scores,) = jsonl(os.path.join(run_dir, "evaluation.jsonl"))[-1:]
        for metric, result in scores.items():
            d = result["details"]
            excluded = sum(d["excluded"].values())
            joints.count(
                f"eval {task}/{metric}: {d['n']} scored, {excluded} excluded {d['excluded'] or ''}"
                f"(judge failures {d.get('judge_failures', 0)}); score {result['overall_score']}"
            )
            # an item not answered is excluded too (no_prediction / prediction_failed): every item is one or the other
            joints.expect(d["n"] + excluded == items, f"eval {task}/{metric}: scored + excluded != items")


def main() -> None:
    """Run the loop and print its joint counts; exit 1 when a joint loses data."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoint", help="OpenAI-compatible URL for the instruct recipe's model calls")
    parser.add_argument("--endpoint-model", help="the model name to ask the endpoint for")
    parser.add_argument("--judge", help="add the judged metric with this judge (openai:MODEL@URL, local:DIR)")
    args = parser.parse_args()
    quiet = ["--quiet"] if not sys.stderr.isatty() else []
    for name in RECIPES:
        extra = []
        if name == "ja-instruct" and args.endpoint:
            extra = ["--endpoint", args.endpoint] + (
                ["--endpoint-model", args.endpoint_model] if args.endpoint_model else []
            )
        run(["run", f"recipes/{name}.yaml", "--fresh", *quiet, *extra], f"recipe {name}")
    run(["train", TRAIN_CONFIG, "--fresh", *quiet], "training")
    eval_out = "runs/eval-loop"
    shutil.rmtree(eval_out, ignore_errors=True)  # a fresh evaluation of the model just trained
    metrics = (
        ["--metrics", "rougel,llm_judge_vila", "--judge", args.judge]
        if args.judge
        else ["--metrics", "rougel"]
    )
    run(["eval", "run", "--model", "polyvlm:runs/train-loop/final", "--tasks", "custom",
         "--data", f"custom={EVAL_DATA}", *metrics, "--max-new-tokens", "32", *quiet, "-o", eval_out],
        "evaluation")  # fmt: skip
    run(["eval", "report", eval_out, "-o", "runs/loop/leaderboard.html", "--markdown", "runs/loop/leaderboard.md"],
        "leaderboard")  # fmt: skip

    print("\n== joint counts", flush=True)
    joints = Joints()
    written: dict[str, int] = {}
    check_recipes(joints, written)
    check_training(joints, written, "runs/train-loop")
    check_eval(joints, eval_out)
    os.makedirs("runs/loop", exist_ok=True)
    with open("runs/loop/joints.json", "w", encoding="utf-8") as f:
        json.dump({"counts": joints.lines, "broken": joints.broken}, f, ensure_ascii=False, indent=1)
    if joints.broken:
        sys.exit(f"loop: {len(joints.broken)} joint(s) lost data: {'; '.join(joints.broken)}")
    print("\nloop: every joint adds up; leaderboard in runs/loop/leaderboard.html (runs/loop/joints.json)")


if __name__ == "__main__":
    main()
