"""What a record keeps about each model that wrote it: model, licence, prompt hash, seed (for licence checks).

`metadata["generators"]` lists every model in the order they worked on the record (regenerate, then
translate); `metadata["generator_license"]` is the AND of their licences (SPDX), what license_filter reads;
`provenance.generator` names the models.
"""

from __future__ import annotations

from polyvlm.clients.chat import ChatSpec
from polyvlm.core.records import Record
from polyvlm.synth.license_expr import combine


def add_generator(record: Record, step: str, spec: ChatSpec, prompt_sha256: str) -> None:
    """Record that `spec`'s model rewrote part of `record` in step `step`."""
    entries = record.metadata.setdefault("generators", [])
    entries.append(
        {
            "step": step,
            "backend": spec.backend,
            "model": spec.model,
            "license": spec.license,
            "prompt_sha256": prompt_sha256,
            "seed": spec.seed,
        }
    )
    # an earlier generator (any step) may have set a licence without an entry here: keep it in the AND
    previous = record.metadata.get("generator_license") or ""
    terms = previous.split(" AND ") if previous and "(" not in previous and " OR " not in previous else []
    record.metadata["generator_license"] = combine(
        (terms or ([previous] if previous else [])) + [spec.license]
    )
    models = [m for m in record.provenance.generator.split(" + ") if m]
    if spec.model not in models:
        models.append(spec.model)
    record.provenance.generator = " + ".join(models)
