"""A table's data (row labels, grouped columns with units, exact values) and its HTML with merged headers.

A TableData comes from the topic vocabulary (`generate_table`: the topic's series are the columns, under
one merged header that names the quantity and its unit, and a computed 合計 column at times) or from a
file's columns (`table_from_columns`: a header `group/name` joins a merged group; a unit in brackets,
`売上（億円）`, is the column's unit). The HTML gives every cell `data-block`, `data-role="cell"`,
`data-row` (0-based over data rows; header rows are negative) and `data-col`, so the page measures each.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from polyvlm.render.chart_data import _distinct, exact, format_number

_UNIT = re.compile(r"^(.*?)\s*[（(]([^（）()]+)[）)]\s*$")


@dataclass(slots=True)
class Column:
    """A value column: its name, the merged group it sits under ('' for none), its unit and decimals."""

    name: str
    group: str
    unit: str
    decimals: int


@dataclass(slots=True)
class TableData:
    """A table: title, the row-label header, the value columns and each row's label and values."""

    title: str
    row_header: str
    columns: list[Column]
    rows: list[tuple[str, list[float]]]
    note: str = (
        ""  # printed above the table: the unit no header shows, as Japanese tables write it (単位：百万円)
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ground truth kept in a sample's metadata)."""
        return asdict(self)

    def full_name(self, j: int) -> str:
        """A column's name as a question names it: group and name (2023年の上期) or the name alone."""
        c = self.columns[j]
        return f"{c.group}・{c.name}" if c.group else c.name

    def cell_text(self, i: int, j: int) -> str:
        """The value as the cell prints it (no unit: the header carries it)."""
        return format_number(self.rows[i][1][j], self.columns[j].decimals)

    def exact(self, i: int, j: int) -> Decimal:
        """A cell's exact value."""
        return exact(self.rows[i][1][j], self.columns[j].decimals)


def generate_table(topics: dict[str, Any], rng: random.Random) -> TableData:
    """A table from a topic: rows are categories, columns the series under one merged header, maybe a total."""
    t = rng.choice(topics["topics"])
    n_rows = rng.randint(4, min(8, len(t["categories"])))
    cats = t["categories"][:n_rows] if t["axis"] == "time" else rng.sample(t["categories"], n_rows)
    names = t["series"][: rng.randint(2, len(t["series"]))]
    group = f"{t['value_label']}（{t['unit']}）"
    cols = [Column(n, group, t["unit"], t["decimals"]) for n in names]
    values = [_distinct(rng, n_rows, t["low"], t["high"], t["decimals"]) for _ in names]
    if t.get("additive", True) and rng.random() < 0.5:  # a computed total column
        cols.append(Column("合計", group, t["unit"], t["decimals"]))
        values.append([float(sum(exact(v[i], t["decimals"]) for v in values)) for i in range(n_rows)])
    rows = [(c, [v[i] for v in values]) for i, c in enumerate(cats)]
    return TableData(t["title"], t["category_label"], cols, rows)


def _number(text: str) -> tuple[float, int] | None:
    """A cell's text as (value, decimals), or None when it is not a plain number (1,234.5 → (1234.5, 1))."""
    s = text.strip().replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return float(d), max(0, -d.as_tuple().exponent)  # type: ignore[operator]


def table_from_columns(title: str, header: list[str], rows: list[list[str]]) -> TableData | str:
    """A TableData from a file's header and rows (first column: row labels), or why it cannot be one."""
    if len(header) < 2 or not rows:
        return "too few columns or rows"
    cols: list[Column] = []
    for j, name in enumerate(header[1:], start=1):
        parsed = [_number(r[j]) if j < len(r) else None for r in rows]
        if any(p is None for p in parsed):
            return f"column {name!r} is not numeric"
        group, _, leaf = name.rpartition("/")
        unit = ""
        if m := _UNIT.match(leaf):  # the unit named on the column itself: 上期（億円）
            leaf, unit = m.group(1), m.group(2)
        elif m := _UNIT.match(group):  # or on its group, which keeps showing it: 売上（億円）/上期
            unit = m.group(2)
        cols.append(Column(leaf.strip(), group.strip(), unit, max(p[1] for p in parsed)))  # type: ignore[index]
    body = [(str(r[0]), [_number(r[j])[0] for j in range(1, len(header))]) for r in rows]  # type: ignore[index]
    hidden = {c.unit for c in cols if c.unit and c.unit not in c.group}
    note = ""
    if len(hidden) == 1:
        note = f"（単位：{hidden.pop()}）"
    else:  # several units: each column says its own
        for c in cols:
            if c.unit and c.unit not in c.group:
                c.name = f"{c.name}（{c.unit}）"
    return TableData(title, header[0], cols, body, note)


def _th(n: list[int], text: str, row: int, col: int, span: str = "") -> str:
    n[0] += 1
    return f'<th data-block="{n[0]}" data-role="cell" data-row="{row}" data-col="{col}"{span}>{html.escape(text)}</th>'


def table_html(table: TableData, font: str, font_size: int, width: int) -> str:
    """The table as a page: a title, two header rows where columns are grouped (merged cells), numbers right-aligned."""
    n = [0]
    grouped = any(c.group for c in table.columns)
    head = "<tr>" + _th(n, table.row_header, -2 if grouped else -1, 0, ' rowspan="2"' if grouped else "")
    if grouped:
        j = 0
        while j < len(table.columns):
            k = j
            while k + 1 < len(table.columns) and table.columns[k + 1].group == table.columns[j].group:
                k += 1
            g = table.columns[j].group
            head += (
                _th(n, g, -2, j + 1, f' colspan="{k - j + 1}"')
                if g
                else _th(n, table.columns[j].name, -2, j + 1, ' rowspan="2"')
            )
            j = k + 1
        head += "</tr><tr>" + "".join(
            _th(n, c.name, -1, j + 1) for j, c in enumerate(table.columns) if c.group
        )
    else:
        head += "".join(_th(n, c.name, -1, j + 1) for j, c in enumerate(table.columns))
    head += "</tr>"
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    body = ""
    for i, (label, _) in enumerate(table.rows):
        body += "<tr>" + _th(n, label, i, 0)
        for j in range(len(table.columns)):
            n[0] += 1
            body += f'<td data-block="{n[0]}" data-role="cell" data-row="{i}" data-col="{j + 1}">{table.cell_text(i, j)}</td>'
        body += "</tr>"
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>'
        f"body{{margin:24px;font-family:'{font}';font-size:{font_size}px;background:#fff;color:#111;width:{width - 48}px}}"
        "h1{font-size:1.3em;margin:0 0 12px}table{border-collapse:collapse}.note{margin:0 0 6px;font-size:.9em}"
        "th,td{border:1px solid #555;padding:4px 10px}thead th{background:#dde6f0}"
        "tbody th{text-align:left;background:#f4f4f4;font-weight:normal}td{text-align:right}"
        f"</style></head><body><h1>{html.escape(table.title)}</h1>{note}<table><thead>{head}</thead>"
        f"<tbody>{body}</tbody></table></body></html>"
    )


# the box of every cell (th and td), measured after layout: what the screenshot shows
CELL_BOXES_JS = """Array.from(document.querySelectorAll('th[data-row], td[data-row]')).map(c => {
  const r = c.getBoundingClientRect();
  return {row: Number(c.dataset.row), col: Number(c.dataset.col), text: c.textContent,
          header: c.tagName === 'TH' && Number(c.dataset.row) < 0, rowspan: c.rowSpan, colspan: c.colSpan,
          box: [r.left, r.top, r.right, r.bottom].map(v => Math.round(v * 10) / 10)};
})"""
