"""Open every source of every stage before a model loads: files exist, the format reads, first records parse.

`polyvlm train --validate` runs it, and so does every training run before its first step, so a later
stage's wrong path stops the run at once, not after the earlier stages trained. Errors name the config's
``file:line`` of the source and, for records, the data file's place.
"""

from __future__ import annotations

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import TrainConfig
from polyvlm.train.data.sources import describe_drops, load_source, source_files

FIRST_RECORDS = 20
"""records of each source parsed up front"""


def check_sources(config: TrainConfig, records: int = FIRST_RECORDS, first_stage: int = 0) -> list[str]:
    """Check every source of the stages from ``first_stage`` on; one line per source, RecipeError with file:line.

    A resumed run starts at its checkpoint's stage: the stages before it are done and their data is not
    read again (it may be gone)."""
    report = []
    for si, stage in enumerate(config.stages):
        if si < first_stage:
            report.append(f"stage {stage.name}: finished before the checkpoint; its sources are not opened")
            continue
        for k, src in enumerate(stage.data.sources):
            where = config.line_of("stages", si, "data", "sources", k, "path")
            try:
                files = source_files(src)
                loaded = load_source(src, limit=records)
            except RecipeError as e:
                raise RecipeError(f"{where}: stage {stage.name!r}: {e}") from None
            except (OSError, ValueError) as e:
                raise RecipeError(f"{where}: stage {stage.name!r}: source {src.name!r}: {e}") from None
            line = (
                f"stage {stage.name}: source {src.name} ({src.format}): {len(files)} file(s); "
                f"first {loaded.read} records: {len(loaded.samples)} usable"
            )
            if loaded.dropped:
                line += f"; dropped {describe_drops(loaded)}"
            report.append(line)
    return report
