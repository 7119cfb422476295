"""read_tables: CSV (UTF-8 or cp932), TSV and Parquet tables become Documents that render_tables reads."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from polyvlm.core.records import Document
from polyvlm.core.step import ReadIssue
from polyvlm.io.table_files import ReadTables
from polyvlm.render.table_data import table_from_columns

ROWS = '支店,売上（億円）,店舗数\n札幌,12.5,3\n東京,"1,230.0",12\n福岡,45.25,4\n'


def test_a_shift_jis_csv_is_read_with_its_header_and_rows(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(ROWS.encode("cp932"))
    (doc,) = ReadTables(license="CC0-1.0").read(str(path))
    assert isinstance(doc, Document) and doc.provenance.license == "CC0-1.0"
    table = doc.metadata["table"]
    assert table["title"] == "sales" and table["header"] == ["支店", "売上（億円）", "店舗数"]
    assert table["rows"][1] == ["東京", "1,230.0", "12"]
    t = table_from_columns(table["title"], table["header"], table["rows"])
    assert [(c.name, c.unit, c.decimals) for c in t.columns] == [("売上", "億円", 2), ("店舗数", "", 0)]
    assert t.rows[1] == ("東京", [1230.0, 12.0])


def test_a_long_parquet_table_is_cut_into_parts(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table({"月": [f"{m}月" for m in range(1, 13)], "気温（℃）": [float(m) for m in range(12)]}), path
    )
    docs = list(ReadTables(max_rows=5, title="月別の気温").read(str(path)))
    assert [d.metadata["table"]["title"] for d in docs] == [
        "月別の気温 (1/3)",
        "月別の気温 (2/3)",
        "月別の気温 (3/3)",
    ]
    assert [len(d.metadata["table"]["rows"]) for d in docs] == [5, 5, 2]
    assert docs[2].metadata["table"]["rows"][-1] == ["12月", "11.0"]


def test_an_empty_or_unreadable_file_is_a_counted_error(tmp_path):
    empty = tmp_path / "e.tsv"
    empty.write_text("a\tb\n", encoding="utf-8")
    (issue,) = ReadTables().read(str(empty))
    assert isinstance(issue, ReadIssue) and issue.reason == "empty_table"
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"\xff\xfe\x00\x81\x00")
    (issue,) = ReadTables().read(str(bad))
    assert isinstance(issue, ReadIssue) and issue.reason == "bad_table_file"
