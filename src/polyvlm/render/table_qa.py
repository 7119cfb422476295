"""Questions about a table with exact answers from its data: a cell, the row with a column's largest value, sums, differences.

A column is named as its merged header reads (group・name); numbers are answered as the cells print
them, with the column's unit; 'which row is largest' is asked only where the largest value is unique.
Templates: prompts/<lang>/chart_tasks.yaml (cell, row_max, column_sum, row_difference).
"""

from __future__ import annotations

import random

from polyvlm.render.chart_data import format_number
from polyvlm.render.chart_qa import QA
from polyvlm.render.table_data import TableData
from polyvlm.synth.prompt_data import PromptData


def table_questions(table: TableData, prompt: PromptData, rng: random.Random, n: int) -> list[QA]:
    """Up to n questions with exact answers (the cell lookup first, the rest in a seeded order)."""
    ask = lambda key, **f: rng.choice(prompt.get(key, list)).format(**f)  # noqa: E731
    rows = len(table.rows)
    i, j = rng.randrange(rows), rng.randrange(len(table.columns))
    col = table.columns[j]
    name = table.full_name(j)
    label = table.rows[i][0]
    out = [
        {
            "type": "cell",
            "question": ask("cell", row=label, column=name),
            "answer": format_number(table.exact(i, j), col.decimals, col.unit),
        }
    ]
    rest: list[QA] = []
    k = rng.randrange(len(table.columns))
    column = [table.exact(r, k) for r in range(rows)]
    top = max(column)
    if column.count(top) == 1:
        rest.append(
            {
                "type": "row_max",
                "question": ask("row_max", column=table.full_name(k)),
                "answer": table.rows[column.index(top)][0],
            }
        )
    c = table.columns[k]
    rest.append(
        {
            "type": "column_sum",
            "question": ask("column_sum", column=table.full_name(k)),
            "answer": format_number(sum(column), c.decimals, c.unit),
        }
    )
    if rows >= 2:
        a, b = rng.sample(range(rows), 2)
        rest.append(
            {
                "type": "row_difference",
                "question": ask(
                    "row_difference", column=table.full_name(k), a=table.rows[a][0], b=table.rows[b][0]
                ),
                "answer": format_number(abs(column[a] - column[b]), c.decimals, c.unit),
            }
        )
    rng.shuffle(rest)
    return (out + rest)[:n]
