"""Recipes: a YAML file of inputs, ordered steps and outputs, validated with file and line in every error."""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from polyvlm.core.errors import RecipeError
from polyvlm.core.remote_fs import glob_remote, is_remote
from polyvlm.core.step import REGISTRY, Aggregate, ReadStep, Step, WriteStep, param_type

TOP_KEYS = {
    "name": "a label for the run",
    "inputs": "list of globs, or {path, reader, params}",
    "steps": "ordered list of {step_name: {params}}",
    "outputs": "list of {writer_name: {params}}",
    "output_dir": "where the run writes (default runs/<name>)",
    "seed": "integer seed handed to steps that sample",
    "shard_size": "records per output file part",
    "workers": "worker processes of the local engine (default: CPU count)",
}


@dataclass
class InputSpec:
    """One input glob, the reader for it and the files it matched (sorted)."""

    pattern: str
    reader: ReadStep
    files: list[str]


@dataclass
class Recipe:
    """A validated recipe, ready for an engine."""

    path: str
    text: str
    name: str
    inputs: list[InputSpec]
    steps: list[Step]
    outputs: list[WriteStep]
    output_dir: str
    seed: int = 0
    shard_size: int = 10_000
    workers: int | None = None

    @property
    def hash(self) -> str:
        """sha256 of the recipe text (what a manifest records, and what resume checks)."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def shards(self) -> list[tuple[str, ReadStep]]:
        """Every input file with its reader; a file is one shard of work."""
        return [(f, spec.reader) for spec in self.inputs for f in spec.files]


def _to_python(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    """Build Python data from a YAML node, recording the line (1-based) of every value by its path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            out[key] = _to_python(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1  # errors point at the key, not its value
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, path + (i,), lines) for i, v in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_yaml_with_lines(text: str, where: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML; returns the data and a map from key paths to line numbers."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise RecipeError(f"{where}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    lines: dict[tuple, int] = {}
    return (_to_python(node, (), lines) if node is not None else None), lines


def _suggest(name: str, choices: list[str]) -> str:
    """The closest valid names (a typo's likely fix), or all of them when the list is short."""
    if len(choices) <= 8:
        return f"valid choices: {', '.join(choices)}"
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"{hint}`polyvlm steps` lists all {len(choices)} ({', '.join(choices[:6])}, ...)"


class _Checker:
    def __init__(self, where: str, lines: dict[tuple, int]) -> None:
        self.where = where
        self.lines = lines
        self.seed = 0  # the recipe's seed: a step that samples takes it unless it sets its own

    def fail(self, path: tuple, message: str) -> RecipeError:
        line = None
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                break
        return RecipeError(f"{self.where}:{line or 1}: {message}")

    def build(self, path: tuple, entry: Any, kinds: tuple[str, ...], what: str) -> Step:
        registry = REGISTRY
        choices = sorted(n for n, c in registry.items() if c.kind in kinds)
        if isinstance(entry, str):
            entry = {entry: {}}
        if not isinstance(entry, dict) or len(entry) != 1:
            raise self.fail(
                path,
                f"each {what} is a mapping of one name to its parameters, e.g. `- text_length: {{min_chars: 100}}`",
            )
        ((name, params),) = entry.items()
        if not registry:
            raise self.fail(
                path + (name,),
                "no steps are registered: call polyvlm.engine.catalog.load_builtin_steps() before reading a recipe",
            )
        if name not in registry or registry[name].kind not in kinds:
            raise self.fail(path + (name,), f"unknown {what} {name!r}; {_suggest(name, choices)}")
        return self.make(path + (name,), registry[name], params, what)

    def with_recipe_seed(self, fields: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """The step's parameters, with the recipe seed wherever the step samples and sets no seed itself:
        its own `seed`, and the sampling seed of the model client it calls."""
        if "seed" in fields and "seed" not in params:
            params = {**params, "seed": self.seed}
        client = params.get("client", {})
        if "client" in fields and isinstance(client, dict) and "seed" not in client:
            params = {**params, "client": {**client, "seed": self.seed}}
        return params

    def make(self, path: tuple, cls: type[Step], params: Any, what: str) -> Step:
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise self.fail(path, f"{what} {cls.name!r}: parameters must be a mapping, got {params!r}")
        fields = cls.Params.model_fields
        params = self.with_recipe_seed(fields, params)
        try:
            return cls(cls.Params(**params))
        except ValidationError as e:
            err = e.errors()[0]
            key = err["loc"][0] if err["loc"] else None
            valid = ", ".join(f"{k} ({param_type(f)})" for k, f in fields.items()) or "none"
            if err["type"] == "extra_forbidden":
                msg = f"{what} {cls.name!r}: unknown parameter {key!r}; valid parameters: {valid}"
            else:
                msg = f"{what} {cls.name!r}: parameter {key!r}: {err['msg']} (got {err.get('input')!r}); valid parameters: {valid}"
            raise self.fail(path + ((key,) if key is not None else ()), msg) from None


def reader_for(path: str) -> str | None:
    """The registered reader whose extensions match a file name."""
    for name, cls in REGISTRY.items():
        if cls.kind == "read" and any(path.endswith(ext) for ext in cls.extensions):  # type: ignore[attr-defined]
            return name
    return None


def parse_recipe(text: str, where: str, check_inputs: bool = True) -> Recipe:
    """Validate recipe text; raises RecipeError naming the file and line of the first problem."""
    data, lines = load_yaml_with_lines(text, where)
    ck = _Checker(where, lines)
    if not isinstance(data, dict):
        raise RecipeError(f"{where}:1: a recipe is a mapping with keys: {', '.join(TOP_KEYS)}")
    for key in data:
        if key not in TOP_KEYS:
            raise ck.fail((key,), f"unknown key {key!r}; valid keys: {', '.join(TOP_KEYS)}")
    for key in ("inputs", "steps", "outputs"):
        if not isinstance(data.get(key, []), list):
            raise ck.fail((key,), f"{key!r} must be a list")
    if not data.get("inputs"):
        raise ck.fail(("inputs",), "the recipe has no inputs")
    name = str(data.get("name") or os.path.splitext(os.path.basename(where))[0])
    for key in ("seed", "shard_size", "workers"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ck.fail((key,), f"{key!r} must be a non-negative integer, got {value!r}")
    ck.seed = int(data.get("seed") or 0)
    registry = REGISTRY
    inputs = []
    for i, entry in enumerate(data["inputs"]):
        path = ("inputs", i)
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or "path" not in entry:
            raise ck.fail(
                path, "an input is a glob string or a mapping with 'path' (and optional 'reader', 'params')"
            )
        extra = set(entry) - {"path", "reader", "params"}
        if extra:
            raise ck.fail(
                path + (sorted(extra)[0],),
                f"unknown input key {sorted(extra)[0]!r}; valid keys: path, reader, params",
            )
        pattern = str(entry["path"])
        if is_remote(pattern):
            files = glob_remote(pattern)
        else:
            files = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        if check_inputs and not files:
            raise ck.fail(
                path, f"input {pattern!r} matches no file (relative paths are taken from {os.getcwd()})"
            )
        reader_name = entry.get("reader") or (reader_for(files[0]) if files else reader_for(pattern))
        if reader_name is None:
            readers = sorted(n for n, c in registry.items() if c.kind == "read")
            raise ck.fail(
                path,
                f"no reader for {pattern!r} by its extension; set 'reader' to one of: {', '.join(readers)}",
            )
        reader = ck.build(path, {reader_name: entry.get("params") or {}}, ("read",), "reader")
        inputs.append(InputSpec(pattern, reader, files))  # type: ignore[arg-type]
    steps = [
        ck.build(("steps", i), e, ("map", "expand", "batch", "aggregate"), "step")
        for i, e in enumerate(data.get("steps") or [])
    ]
    outputs = [
        ck.build(("outputs", i), e, ("write",), "output") for i, e in enumerate(data.get("outputs") or [])
    ]
    seen: dict[str, int] = {}
    for step in steps:
        seen[step.name] = seen.get(step.name, 0) + 1
        if seen[step.name] > 1:
            step.label = f"{step.name}#{seen[step.name]}"
    if not outputs:
        raise ck.fail(
            ("outputs",), "the recipe has no outputs; add e.g. `- write_parquet: {path: documents}`"
        )
    return Recipe(
        path=where,
        text=text,
        name=name,
        inputs=inputs,
        steps=steps,
        outputs=outputs,  # type: ignore[arg-type]
        output_dir=str(data.get("output_dir") or os.path.join("runs", name)),
        seed=int(data.get("seed") or 0),
        shard_size=int(data.get("shard_size") or 10_000),
        workers=data.get("workers"),
    )


def load_recipe(path: str, check_inputs: bool = True) -> Recipe:
    """Read and validate a recipe file."""
    if not os.path.isfile(path):
        raise RecipeError(f"{path}: no such recipe file")
    with open(path, encoding="utf-8") as f:
        return parse_recipe(f.read(), path, check_inputs)


def segments(steps: list[Step]) -> list[tuple[Aggregate | None, list[Step]]]:
    """Split steps at aggregates: [(None, steps before the first), (agg1, steps after it), ...]."""
    out: list[tuple[Aggregate | None, list[Step]]] = [(None, [])]
    for step in steps:
        if isinstance(step, Aggregate):
            out.append((step, []))
        else:
            out[-1][1].append(step)
    return out
