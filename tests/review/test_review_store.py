"""The store, submissions, assignment, tokens, readers and the image store, without a server."""

import json
import sqlite3
from collections import Counter

import pytest
from review_projects import assignment, form, make_project, samples

from polyvlm.review.assignment import assign
from polyvlm.review.config import ReviewConfig
from polyvlm.review.dataset_readers import Unreadable, read_dataset
from polyvlm.review.image_store import stored_image_path
from polyvlm.review.store import connect
from polyvlm.review.submissions import submit
from polyvlm.review.tokens import hash_token, new_token, token_matches


def test_assignment_overlaps_a_share_and_balances_the_load():
    plan = assign(100, ["a", "b", "c", "d"], overlap=3, overlap_share=0.2, seed=1)
    sizes = Counter(len(who) for _, who in plan)
    assert sizes == {3: 20, 1: 80} and sorted(i for i, _ in plan) == list(range(100))
    load = Counter(a for _, who in plan for a in who)
    assert sum(load.values()) == 20 * 3 + 80 and max(load.values()) - min(load.values()) <= 1
    pairs = Counter(frozenset(p) for _, who in plan if len(who) > 1 for p in [(who[0], who[1])])
    assert len(pairs) > 1  # overlapping items are spread over several pairs, not one
    with pytest.raises(ValueError, match="between 1 and"):
        assign(10, ["a", "b"], overlap=3, overlap_share=0.5)


def test_tokens_are_stored_as_salted_scrypt_and_checked():
    token = new_token()
    stored, again = hash_token(token), hash_token(token)
    assert token not in stored and stored != again  # salted
    assert token_matches(token, stored) and token_matches(token, again)
    assert not token_matches(token + "x", stored) and not token_matches(token, "garbage")


def test_submit_versions_and_records_each_edit_with_who_when_before_after(tmp_path):
    project, _ = make_project(tmp_path, samples(2), ["ann"], overlap=1, share=0.0)
    conn, config = connect(project), ReviewConfig()
    a = assignment(project, "ann", 1)
    original = "Réponse numéro 0 : un chat dort sur le canapé."
    first = submit(conn, config, a, form(4, 5, "accept", turn_1="Un chat dort sur le canapé."))
    assert (first.version, first.edited) == (1, 1)
    second = submit(
        conn, config, a, form(5, 5, "accept", turn_1="Un chat dort sur le canapé rouge.", base_version="1")
    )
    assert (second.version, second.edited) == (2, 1)
    edits = conn.execute("SELECT * FROM edits ORDER BY id").fetchall()
    assert [(e["annotator"], e["turn"], e["before"], e["after"]) for e in edits] == [
        ("ann", 1, original, "Un chat dort sur le canapé."),
        ("ann", 1, "Un chat dort sur le canapé.", "Un chat dort sur le canapé rouge."),
    ]
    assert all(e["at"].endswith("+00:00") for e in edits)


def test_a_resent_form_is_acknowledged_once_and_bad_ratings_are_refused(tmp_path):
    project, _ = make_project(tmp_path, samples(2), ["ann"], overlap=1, share=0.0)
    conn, config = connect(project), ReviewConfig()
    a = assignment(project, "ann", 1)
    f = form(3, 3, "reject")
    assert not submit(conn, config, a, f).duplicate
    assert submit(conn, config, a, dict(f)).duplicate
    assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    for bad in (form(6, 3, "accept"), form(3, 3, "maybe"), {**form(3, 3, "accept"), "nonce": "x"}):
        with pytest.raises(ValueError):
            submit(conn, config, a, bad)
    assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_readers_take_llava_json_messages_jsonl_and_count_bad_entries(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([
        {"id": "x", "image": "p.jpg", "conversations": [{"from": "human", "value": "<image>\nQ"}, {"from": "gpt", "value": "A"}]},
        {"id": "broken"},
    ]))  # fmt: skip
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "q.jpg"}}, {"type": "text", "text": "Q"}]}]}) + "\n{not json\n"
    )  # fmt: skip
    got = list(read_dataset(str(tmp_path)))
    recs = [r for r in got if not isinstance(r, Unreadable)]
    bad = [r for r in got if isinstance(r, Unreadable)]
    assert [r.id for r in recs] == ["x", "m"]
    assert recs[0].messages[1].role == "assistant" and recs[0].images[0].path == str(
        tmp_path / "p.jpg"
    )  # from the file's folder
    assert recs[1].messages[0].content == "<image>Q" and recs[1].images[0].path == str(tmp_path / "q.jpg")
    assert sorted(b.reason.split(":")[0] for b in bad) == ["bad_entry", "bad_line"]


def test_init_stores_images_decoded_and_refuses_names_outside_the_store(tmp_path):
    project, result = make_project(tmp_path, samples(2, photo="llava__waterview.jpg"), ["a"], 1, 0.0)
    rows = connect(project).execute("SELECT images FROM items").fetchall()
    names = [json.loads(r["images"])[0]["name"] for r in rows]
    assert names[0] == names[1] and stored_image_path(project, names[0])  # one stored copy by content
    for attack in (
        "../review.sqlite",
        "..%2Freview.sqlite",
        "/etc/passwd",
        names[0][:-4] + ".sqlite",
        "review.sqlite",
    ):
        assert stored_image_path(project, attack) is None
    assert result.problems == {}


def test_init_refuses_an_existing_project_and_a_bad_overlap(tmp_path):
    project, _ = make_project(tmp_path, samples(1), ["a"], 1, 0.0)
    from polyvlm.review.project_init import init_project

    with pytest.raises(FileExistsError):
        init_project(str(tmp_path / "x.jsonl"), project, ["a"], 1, 0.0, ReviewConfig())
    with pytest.raises(ValueError):
        make_project(tmp_path, samples(1), ["a"], 2, 0.5)
    with pytest.raises(sqlite3.IntegrityError):  # the schema refuses a submission without its nonce
        connect(project).execute("INSERT INTO submissions (assignment_id) VALUES (1)")


def test_bad_settings_leave_no_half_made_project(tmp_path):
    from polyvlm.review.project_init import init_project

    with pytest.raises(ValueError):
        init_project(str(tmp_path / "x.jsonl"), str(tmp_path / "never"), ["a"], 2, 0.5, ReviewConfig())
    assert not (tmp_path / "never").exists()


def test_disputed_items_wait_for_adjudication_and_export_the_adjudicated_version(tmp_path):
    from polyvlm.review.disagreements import disagreeing_items
    from polyvlm.review.export import export_project
    from polyvlm.review.submissions import adjudicate

    project, _ = make_project(tmp_path, samples(3), ["a", "b"], overlap=2, share=1.0)
    conn, config = connect(project), ReviewConfig()
    submit(conn, config, assignment(project, "a", 1), form(5, 5, "accept"))
    submit(conn, config, assignment(project, "b", 1), form(2, 5, "reject"))  # disputed
    submit(conn, config, assignment(project, "a", 2), form(4, 4, "accept"))
    submit(conn, config, assignment(project, "b", 2), form(4, 3, "accept"))  # agree (fluency 1 apart)
    assert disagreeing_items(conn, config) == {1: ["adequacy", "decision"]}
    stats = export_project(conn, str(tmp_path / "out1"))
    assert (stats["accepted"], stats["disputed_decision"], stats["unreviewed"]) == (1, 1, 1)
    turns = {"turn_0": "<image>\nQue voit-on ?", "turn_1": "Version tranchée."}
    adjudicate(conn, config, 1, form(4, 4, "accept", note="b a mal lu", **turns), 2)
    stats = export_project(conn, str(tmp_path / "out2"))
    assert (stats["accepted"], stats["adjudicated"], stats["disputed_decision"]) == (2, 1, 0)
    lines = (tmp_path / "out2" / "reviewed.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["messages"][1]["content"] == "Version tranchée."
    review = first["metadata"]["review"]
    assert review["adjudicated"] and review["adjudication_note"] == "b a mal lu"
    assert sorted(r["annotator"] for r in review["reviews"]) == ["a", "b"]


def test_a_line_in_another_encoding_is_counted_and_an_empty_dataset_refused(tmp_path):
    from polyvlm.core.records import record_to_json
    from polyvlm.review.project_init import init_project

    good = record_to_json(samples(1)[0]).encode()
    (tmp_path / "mixed.jsonl").write_bytes(good + b"\n" + '{"id": "caf\u00e9"}'.encode("latin-1") + b"\n")
    result = init_project(str(tmp_path / "mixed.jsonl"), str(tmp_path / "p"), ["a"], 1, 0.0, ReviewConfig())
    assert result.items == 1 and result.problems == {"bad_line": 1}
    (tmp_path / "empty.jsonl").write_bytes(b"\n")
    with pytest.raises(ValueError, match="no record to review"):
        init_project(str(tmp_path / "empty.jsonl"), str(tmp_path / "q"), ["a"], 1, 0.0, ReviewConfig())
    assert not (tmp_path / "q").exists()
