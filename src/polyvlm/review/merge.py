"""Which rule decides an item's final state, and its final turns. The rules, in order:

- `adjudicated`: the admin's latest adjudication (ratings and turns) wins;
- `unreviewed`: nobody has submitted it (left out of the export);
- `disputed_decision`: the annotators' latest submissions differ on the decision (left out);
- `disputed_edits`: they agree to accept it but their turns differ — two different edits, or one edited and
  another accepted the original — so the admin must choose (left out, listed for adjudication);
- `edits_agree`: accepted, and every annotator's turns are the same edited text;
- `unedited`: accepted, and no annotator changed a turn;
- `rejected`: they agree to reject it; its turns are theirs when they agree, else the original ones.

An annotator's turns are those of their latest submission: a re-submission is their current word.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from polyvlm.review.config import ReviewConfig

EXPORTED = ("adjudicated", "edits_agree", "unedited", "rejected")
LEFT_OUT = ("unreviewed", "disputed_decision", "disputed_edits")


@dataclass(slots=True)
class Outcome:
    """An item's rule, and (for exported items) its decision, ratings and turns."""

    rule: str
    decision: Any = None
    ratings: dict[str, Any] | None = None
    turns: list[str] | None = None

    @property
    def exported(self) -> bool:
        """Whether the item goes to the export (reviewed or rejected)."""
        return self.rule in EXPORTED


def turns_differ(reviews: list[sqlite3.Row]) -> bool:
    """Whether the annotators' latest turns are not all the same text."""
    return len({tuple(json.loads(r["messages"])) for r in reviews}) > 1


def decide(
    config: ReviewConfig, original: list[str], reviews: list[sqlite3.Row], adjudication: sqlite3.Row | None
) -> Outcome:
    """The outcome of one item from its original turns, its latest submissions (oldest first) and adjudication."""
    if adjudication is not None:
        ratings = json.loads(adjudication["ratings"])
        return Outcome(
            "adjudicated", ratings[config.decision_field], ratings, json.loads(adjudication["messages"])
        )
    if not reviews:
        return Outcome("unreviewed")
    decisions = {json.loads(r["ratings"])[config.decision_field] for r in reviews}
    if len(decisions) > 1:
        return Outcome("disputed_decision")
    latest = reviews[-1]
    ratings, decision = json.loads(latest["ratings"]), decisions.pop()
    agreed = None if turns_differ(reviews) else json.loads(latest["messages"])
    if decision != config.field(config.decision_field).choices[0]:
        return Outcome("rejected", decision, ratings, agreed if agreed is not None else list(original))
    if agreed is None:
        return Outcome("disputed_edits")
    return Outcome("unedited" if agreed == original else "edits_agree", decision, ratings, agreed)
