"""read_tables: CSV, TSV and Parquet files of tabular data as Documents that render_tables draws.

A file is one table: its first row is the header (the first column holds the row labels; a header
`group/name` joins a merged group, a unit in brackets, `売上（億円）`, is the column's unit), the rest
are rows. A longer table is cut into parts of `max_rows` rows, each its own Document titled
`<title> (k/n)`. Japanese CSV files come in UTF-8 or Shift_JIS (cp932): both are read.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator

from pydantic import Field

from polyvlm.core.records import Document, Provenance, Record
from polyvlm.core.step import Params, ReadIssue, ReadStep, register


class ReadTablesParams(Params):
    """Parameters of read_tables."""

    max_rows: int = Field(10, ge=1, le=200)
    """rows per rendered table; a longer file becomes several tables"""
    title: str = ""
    """the tables' title (default: the file name without its extension)"""
    license: str = ""
    """licence of the files, recorded in every record's provenance"""


def _text_rows(path: str) -> list[list[str]]:
    """Header and rows of a CSV/TSV (UTF-8 with or without BOM, else cp932) or Parquet file, as strings."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        columns = [[("" if v is None else str(v)) for v in col.to_pylist()] for col in table.columns]
        return [list(table.column_names)] + [list(r) for r in zip(*columns, strict=True)]
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp932")  # Excel's Japanese CSV; a file in neither raises here
    delimiter = "\t" if path.endswith(".tsv") else ","
    return [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]


@register
class ReadTables(ReadStep):
    """Read CSV/TSV/Parquet tables (header row, row labels first) as Documents for render_tables."""

    name = "read_tables"
    extensions = (".csv", ".tsv")
    Params = ReadTablesParams

    def read(self, path: str) -> Iterator[Record | ReadIssue]:
        p = self.params
        try:
            rows = _text_rows(path)
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as e:
            yield ReadIssue("error", "bad_table_file", f"{path}: {e}")
            return
        if len(rows) < 2:
            yield ReadIssue("error", "empty_table", f"{path}: no rows under the header")
            return
        header, body = rows[0], rows[1:]
        title = p.title or os.path.splitext(os.path.basename(path))[0]
        parts = [body[i : i + p.max_rows] for i in range(0, len(body), p.max_rows)]
        for k, part in enumerate(parts):
            name = title if len(parts) == 1 else f"{title} ({k + 1}/{len(parts)})"
            yield Document(
                id=f"{os.path.basename(path)}#{k}",
                texts=[],
                metadata={"table": {"title": name, "header": header, "rows": part}},
                provenance=Provenance(source=path, license=p.license, offset=k),
            )
