"""A registry of named classes (steps, scorers, tasks): filled by decorators where the classes live,
read by whoever looks a name up, so the reader never imports the modules that define them."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class Registry(dict[str, Any]):
    """Classes by their `name` attribute; a second class under a taken name is an error."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def add(self, cls: type[T]) -> type[T]:
        """Class decorator: make `cls` available under its `name`."""
        name = getattr(cls, "name", "")
        if not name:
            raise ValueError(f"{cls.__name__} has no name")
        if name in self and self[name] is not cls:
            raise ValueError(f"{self.what} name {name!r} registered twice")
        self[name] = cls
        return cls
