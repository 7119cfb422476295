"""What a run writes as it goes: log.jsonl (one line per step), errors.jsonl (samples that could not
train, with id and reason; errors-rank{R}.jsonl from other ranks), samples-rank{R}.jsonl (which samples each rank saw), and TensorBoard
events when the `tensorboard` package is installed."""

from __future__ import annotations

import json
import os


class RunLog:
    """Append-only JSONL logs of one rank; on resume, lines past the checkpoint are cut first."""

    def __init__(self, out_dir: str, rank: int, is_main: bool):
        self.out_dir = out_dir
        self.is_main = is_main
        self.paths = {"samples": os.path.join(out_dir, f"samples-rank{rank}.jsonl")}
        if is_main:
            self.paths |= {
                "log": os.path.join(out_dir, "log.jsonl"),
                "errors": os.path.join(out_dir, "errors.jsonl"),
            }
        self._tb = None
        if is_main:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(os.path.join(out_dir, "tensorboard"))
            except ImportError:  # tensorboard not installed: JSONL only
                self._tb = None

    def truncate_after(self, stage: int, step: int) -> None:
        """Drop lines of steps after (stage, step): they are about to be run again."""
        for path in self.paths.values():
            if not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as f:
                lines = [line for line in f if _position(line) <= (stage, step)]
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(lines)
            os.replace(tmp, path)

    def write(self, kind: str, record: dict) -> None:
        """Append one record to the log of ``kind`` (log, errors, samples)."""
        if kind not in self.paths:
            return
        with open(self.paths[kind], "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        if kind == "log" and self._tb is not None:
            for key in ("loss", "tokens_per_s", "grad_norm"):
                self._tb.add_scalar(key, record[key], record["global_step"])
            for group, lr in record["lr"].items():
                self._tb.add_scalar(f"lr/{group}", lr, record["global_step"])

    def close(self) -> None:
        """Flush TensorBoard."""
        if self._tb is not None:
            self._tb.close()


def _position(line: str) -> tuple[int, int]:
    record = json.loads(line)
    return record["stage"], record["step"]


def read_log(path: str) -> list[dict]:
    """The records of a JSONL log."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
