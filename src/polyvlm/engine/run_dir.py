"""Names of the files in a run's output directory: outputs per shard, checkpoint files per unit."""

from __future__ import annotations

import os


def shard_name(shard: int) -> str:
    """File-name stem of a shard's outputs."""
    return f"s{shard:05d}"


def unit_stem(phase: int, shard: int) -> str:
    """The file-name stem of a unit's checkpoint and side files (p<phase>-s<shard>)."""
    return f"p{phase}-{shard_name(shard)}"


class RunDir:
    """Paths inside a run's output directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def done(self, phase: int, shard: int) -> str:
        """Marker (with stats) of a finished unit."""
        return os.path.join(self.root, "_state", "done", f"{unit_stem(phase, shard)}.json")

    def spill(self, phase: int, shard: int) -> str:
        """Kept rows of a unit, input of the next phase."""
        return os.path.join(self.root, "_state", "work", f"{unit_stem(phase, shard)}.jsonl")

    def partial(self, phase: int, shard: int) -> str:
        """A unit's partial aggregate state."""
        return os.path.join(self.root, "_state", "work", f"{unit_stem(phase, shard)}.state")

    def merged(self, phase: int) -> str:
        """The merged aggregate state applied in `phase`."""
        return os.path.join(self.root, "_state", "work", f"merged-p{phase}.state")
