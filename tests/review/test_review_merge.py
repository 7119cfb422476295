"""The export keeps every agreed edit, sends differing edits to adjudication, and says which rule decided each
item; a form made from an older version is refused; progress counts items, not versions."""

import json

import pytest
from review_projects import assignment, form, make_project, samples

from polyvlm.review.annotator_queue import progress
from polyvlm.review.config import ReviewConfig
from polyvlm.review.disagreements import disagreeing_items
from polyvlm.review.export import export_project
from polyvlm.review.store import connect
from polyvlm.review.submissions import Conflict, adjudicate, submit

QUESTION = "<image>\nQue voit-on ?"


def _reviewed(out) -> dict[str, dict]:
    lines = (out / "reviewed.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["metadata"]["review"]["project_item"]: r for r in map(json.loads, lines)}


def test_an_edit_then_an_unedited_accept_is_a_dispute_and_agreed_edits_are_exported(tmp_path):
    project, _ = make_project(tmp_path, samples(5), ["a", "b"], overlap=2, share=1.0)
    conn, config = connect(project), ReviewConfig()

    def both(item, a_form, b_form):
        submit(conn, config, assignment(project, "a", item), a_form)
        submit(conn, config, assignment(project, "b", item), b_form)

    both(1, form(5, 5, "accept", turn_1="Un chat roux."), form(5, 5, "accept"))  # edit, then plain accept
    both(2, form(5, 5, "accept", turn_1="Un chat."), form(5, 5, "accept", turn_1="Un chat."))  # same edit
    both(3, form(5, 5, "accept", turn_1="Un chat."), form(5, 5, "accept", turn_1="Deux chats."))  # differ
    both(4, form(4, 4, "accept"), form(4, 5, "accept"))  # nobody edits
    both(5, form(4, 4, "reject", turn_1="Faux."), form(4, 4, "reject"))  # rejected: text not disputed
    assert {i: f for i, f in disagreeing_items(conn, config).items()} == {1: ["text"], 3: ["text"]}

    stats = export_project(conn, str(tmp_path / "out"))
    assert stats["decided_by"] == {"adjudicated": 0, "edits_agree": 1, "unedited": 1, "rejected": 1,
                                   "unreviewed": 0, "disputed_decision": 0, "disputed_edits": 2}  # fmt: skip
    assert (stats["accepted"], stats["rejected"], stats["edited_records"]) == (2, 1, 1)
    assert sum(stats["decided_by"].values()) == stats["items"]
    got = _reviewed(tmp_path / "out")
    assert set(got) == {"s1", "s3"}  # s0 (item 1) and s2 (item 3) wait for the admin
    assert got["s1"]["messages"][1]["content"] == "Un chat."
    assert got["s1"]["metadata"]["review"]["decided_by"] == "edits_agree"
    assert got["s3"]["metadata"]["review"]["decided_by"] == "unedited"

    adjudicate(conn, config, 1, form(5, 5, "accept", turn_0=QUESTION, turn_1="Un chat roux."), 2)
    stats = export_project(conn, str(tmp_path / "out2"))
    assert stats["decided_by"]["adjudicated"] == 1 and stats["decided_by"]["disputed_edits"] == 1
    assert _reviewed(tmp_path / "out2")["s0"]["messages"][1]["content"] == "Un chat roux."


def test_a_later_resubmission_is_the_annotators_word(tmp_path):
    project, _ = make_project(tmp_path, samples(1), ["a", "b"], overlap=2, share=1.0)
    conn, config = connect(project), ReviewConfig()
    submit(conn, config, assignment(project, "a", 1), form(5, 5, "accept", turn_1="Brouillon."))
    submit(conn, config, assignment(project, "b", 1), form(5, 5, "accept", turn_1="Un chat."))
    submit(
        conn, config, assignment(project, "a", 1), form(5, 5, "accept", turn_1="Un chat.", base_version="1")
    )
    stats = export_project(conn, str(tmp_path / "out"))
    assert stats["decided_by"]["edits_agree"] == 1 and disagreeing_items(conn, config) == {}


def test_a_form_made_from_an_older_version_is_refused_with_both_texts(tmp_path):
    project, _ = make_project(tmp_path, samples(1), ["a"], overlap=1, share=0.0)
    conn, config = connect(project), ReviewConfig()
    a = assignment(project, "a", 1)
    submit(conn, config, a, form(5, 5, "accept", turn_1="Onglet B."))  # another tab, from version 0
    with pytest.raises(Conflict) as refused:  # this tab's page was also made from version 0
        submit(conn, config, a, form(5, 5, "accept", turn_1="Onglet A."))
    assert refused.value.current == 1
    assert refused.value.saved[1] == "Onglet B." and refused.value.sent[1] == "Onglet A."
    rows = conn.execute("SELECT messages FROM submissions").fetchall()
    assert [json.loads(r["messages"])[1] for r in rows] == ["Onglet B."]
    submit(conn, config, a, form(5, 5, "accept", turn_1="Onglet A.", base_version="1"))  # chosen knowingly
    with pytest.raises(ValueError, match="which version"):
        submit(conn, config, a, {**form(5, 5, "accept"), "base_version": ""})
    adjudicate(conn, config, 1, form(5, 5, "accept", turn_0=QUESTION, turn_1="Admin 1."), 2)
    with pytest.raises(Conflict):  # a second admin page made before that adjudication
        adjudicate(conn, config, 1, form(5, 5, "accept", turn_0=QUESTION, turn_1="Admin 2."), 2)
    assert conn.execute("SELECT COUNT(*) FROM adjudications").fetchone()[0] == 1


def test_progress_counts_items_not_versions(tmp_path):
    project, _ = make_project(tmp_path, samples(3), ["a"], overlap=1, share=0.0)
    conn, config = connect(project), ReviewConfig()
    a = assignment(project, "a", 1)
    for version in range(3):
        submit(conn, config, a, form(4, 4, "accept", base_version=str(version)))
    assert progress(conn, "a") == {"total": 3, "done": 1}
