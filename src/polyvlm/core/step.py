"""Steps (map, filter, batched map, read, write) and the two-phase Aggregate, registered by name."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from polyvlm.core.records import Record
from polyvlm.core.registry import Registry


class Params(BaseModel):
    """Base of every step's parameters: unknown keys are an error, types are checked."""

    # a string right under a field documents it: `polyvlm steps` prints it
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


@dataclass(frozen=True, slots=True)
class Drop:
    """A step's verdict that a record leaves the run, with a short machine-readable reason."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReadIssue:
    """Something a reader met that is not a record: an error in the input, or a skipped item."""

    # "error" (errors.jsonl), "skipped" (counted only: e.g. WARC request records, not records of the run) or
    # "rejected" (a record the reader read and refuses, e.g. a PDF page without text: rejects/ with its place)
    kind: str
    reason: str
    detail: str = ""
    offset: int | None = None


class Step:
    """A unit of work on a stream of records; subclasses set `name`, `Params` and one apply method."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""  # map | expand | batch | read | write | aggregate
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: Params | None = None, **kwargs: Any) -> None:
        self.params = params if params is not None else self.Params(**kwargs)
        self.label = self.name  # unique within a recipe; the engine numbers repeated steps
        self._ready = False

    def ensure_setup(self) -> None:
        """Run setup() once per process (heavy loads happen in workers, not at recipe load)."""
        if not self._ready:
            self.setup()
            self._ready = True

    def setup(self) -> None:
        """Load models or other heavy state; called once per worker process."""

    def check(self) -> None:
        """Fail before work starts when this step cannot run here (missing model, bad path)."""

    def metrics(self) -> dict[str, float]:
        """Counters of this process since setup (model calls, tokens, cost ...); the engine sums their growth."""
        return {}

    def __getstate__(self) -> dict[str, Any]:
        # workers get the parameters only; each sets itself up again
        return {"params": self.params, "label": self.label}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.params = state["params"]
        self.label = state["label"]
        self._ready = False


class MapStep(Step):
    """One record in, the same (possibly changed) record out or a Drop. Filters are MapSteps."""

    kind = "map"

    def apply(self, record: Record) -> Record | Drop:
        """Transform or judge one record."""
        raise NotImplementedError


class FilterStep(MapStep):
    """A map that only judges: `reject` returns a reason string to drop the record, or None to keep."""

    def reject(self, record: Record) -> str | None:
        """Why the record must go, or None."""
        raise NotImplementedError

    def apply(self, record: Record) -> Record | Drop:
        reason = self.reject(record)
        return record if reason is None else Drop(reason)


class ExpandStep(Step):
    """One record in, several out (a page → its image-text pairs), or a Drop when it yields none."""

    kind = "expand"

    def expand(self, record: Record) -> list[Record] | Drop:
        """The records made from one record, in a stable order."""
        raise NotImplementedError


class BatchParams(Params):
    """Parameters every batch step has (subclass it; override the default where another size fits)."""

    batch_size: int = Field(64, ge=1)
    """records per apply_batch call (one model call, one detector batch ...)"""


class BatchStep(Step):
    """A map over batches (a model call); returns one result per input, in order."""

    kind = "batch"
    Params: ClassVar[type[BatchParams]] = BatchParams

    @property
    def batch_size(self) -> int:
        """Records per apply_batch call, from the parameters."""
        return self.params.batch_size  # type: ignore[attr-defined]  (BatchParams by the class contract)

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        """Transform or judge a batch of records."""
        raise NotImplementedError


class ReadStep(Step):
    """Turns one input file into records (and ReadIssues for what is not a record)."""

    kind = "read"
    extensions: ClassVar[tuple[str, ...]] = ()

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        """Stream the records of one input file."""
        raise NotImplementedError


class ShardWriter:
    """An open output for one shard; commit() makes its files visible atomically."""

    def write(self, record: Record) -> None:
        """Add a record."""
        raise NotImplementedError

    def commit(self) -> list[str]:
        """Finish and atomically publish; returns the published file names."""
        raise NotImplementedError

    def abort(self) -> None:
        """Remove temporary files."""


class WriteStep(Step):
    """An output format; `path` is a directory relative to the run's output directory."""

    kind = "write"

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> ShardWriter:
        """Open the writer of one shard."""
        raise NotImplementedError


class Aggregate(Step):
    """A corpus-wide rule in two phases: observe every record (per shard), merge, then apply."""

    kind = "aggregate"

    def init_state(self) -> Any:
        """An empty partial state (picklable)."""
        raise NotImplementedError

    def observe(self, state: Any, record: Record, position: tuple[int, ...]) -> None:
        """Add one record, at its position (shard, index, sub: input order), to a partial state."""
        raise NotImplementedError

    def merge(self, a: Any, b: Any) -> Any:
        """Combine two partial states (associative, so any merge order gives the same result)."""
        raise NotImplementedError

    def apply(self, state: Any, record: Record, position: tuple[int, ...]) -> Record | Drop:
        """Judge one record against the merged state."""
        raise NotImplementedError


REGISTRY = Registry("step")  # name -> Step subclass
register = REGISTRY.add  # class decorator: make a step available to recipes under its `name`


def param_type(field: FieldInfo) -> str:
    """A parameter's type as a reader would write it: int, list[str], int | None."""
    ann = field.annotation
    if hasattr(ann, "__args__"):
        return str(ann).replace("typing.", "")
    return getattr(ann, "__name__", str(ann))


def step_doc(cls: type[Step]) -> str:
    """The first line of a step's docstring."""
    return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def step_source(cls: type[Step]) -> str:
    """Where a step is implemented, as a path a reader can open (src/polyvlm/text/ja.py for shipped steps)."""
    module = sys.modules.get(cls.__module__)
    path = os.path.abspath(getattr(module, "__file__", "") or cls.__module__)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../src/polyvlm
    if path.startswith(package + os.sep):
        return os.path.join("src", "polyvlm", os.path.relpath(path, package))
    return path
