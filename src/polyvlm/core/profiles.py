"""Dataset profiles by record kind: what a run's card shows about its records, found through a registry.

A profile collects, per (phase, shard) unit, what a dataset card needs about the records that ended in
it (histograms, a few kept and dropped examples); partial profiles merge into stats.json under the
profile's key. Report modules register a profile for the record class they describe, so the engine
and the stats never import them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Profile(Protocol):
    """Per-unit collector of one record kind."""

    def add(self, record: Any, kept: bool, step: str = "", reason: str = "") -> None:
        """Count one record that was kept, or dropped by `step` for `reason`."""

    def to_dict(self) -> dict[str, Any]:
        """The partial profile as plain JSON (merged across units later)."""


@dataclass(frozen=True)
class ProfileKind:
    """How one record class is profiled: the stats.json key, a new collector, and the merge of partials."""

    key: str
    new: Callable[[], Profile]
    merge: Callable[[list[dict[str, Any]]], dict[str, Any]]


PROFILES: dict[type, ProfileKind] = {}


def register_profile(record_type: type, kind: ProfileKind) -> None:
    """Profile every record of `record_type` that ends in a run with `kind`."""
    if record_type in PROFILES and PROFILES[record_type] != kind:
        raise ValueError(f"a profile for {record_type.__name__} is registered twice")
    PROFILES[record_type] = kind


def profile_kind(record: Any) -> ProfileKind | None:
    """The registered profile of a record's class, if any."""
    return PROFILES.get(type(record))


def merge_profile_partials(units: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the partial profiles found in units' stats, by each registered kind's key."""
    merged: dict[str, Any] = {}
    for kind in PROFILES.values():
        partials = [u[kind.key] for u in units if kind.key in u]
        if partials:
            merged[kind.key] = kind.merge(partials)
    return merged
