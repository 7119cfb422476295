"""`polyvlm review init/export/agreement` on what the two shipped recipes write, in all three formats."""

import json

import pytest
from click.testing import CliRunner
from review_projects import form
from review_recipe_runs import run_shipped_recipes

from polyvlm.cli import cli
from polyvlm.core.records import Sample
from polyvlm.io.jsonl import ReadJsonl
from polyvlm.io.parquet import ReadParquet
from polyvlm.review.annotator_queue import item_view
from polyvlm.review.config import ReviewConfig
from polyvlm.review.store import connect
from polyvlm.review.submissions import submit


@pytest.fixture(scope="module")
def runs(tmp_path_factory, pytestconfig):
    with pytest.MonkeyPatch.context() as mp:
        yield run_shipped_recipes(pytestconfig.rootpath, tmp_path_factory.mktemp("runs"), mp)


def _review_everything(project: str) -> None:
    """Each annotator rates each of their items; the second annotator of a shared item disagrees on fluency
    and rejects odd items; item 1 gets an edit."""
    conn, config = connect(project), ReviewConfig()
    for a in conn.execute("SELECT * FROM assignments ORDER BY id").fetchall():
        decision = "reject" if a["item_id"] % 3 == 0 else "accept"
        edit = {"turn_1": "Texte revu à la main."} if a["item_id"] == 1 else {}
        submit(conn, config, a, form(4, 5 if a["annotator"] == "ann1" else 3, decision, **edit))


@pytest.mark.parametrize("recipe", ["translate-fr-de-it-es", "ja-instruct"])
@pytest.mark.parametrize("fmt", ["llava", "messages", "samples"])
def test_init_export_agreement_on_the_recipes_output(runs, recipe, fmt, tmp_path, pytestconfig):
    root = pytestconfig.rootpath
    (tmp_path / "annotators.txt").write_text("ann1\nann2\nann3\n")
    project, out = str(tmp_path / "project"), tmp_path / "export"
    res = CliRunner().invoke(cli, [
        "review", "init", str(runs[recipe] / fmt), project, "--annotators", str(tmp_path / "annotators.txt"),
        "--overlap", "2", "--overlap-share", "0.5", "--images-dir", str(root), "--tokens-out", str(tmp_path / "t.json"),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "12 items, 18 assignments for 3 annotators" in res.output
    tokens = json.loads((tmp_path / "t.json").read_text())
    assert set(tokens) == {"ann1", "ann2", "ann3", "admin"} and tokens["ann1"] not in res.output
    conn = connect(project)
    images = [json.loads(r["images"]) for r in conn.execute("SELECT images FROM items")]
    # ja-instruct: every image it names is in the repository (read_coco_captions refuses the others)
    if recipe == "ja-instruct":
        assert sum(1 for im in images if "name" in im[0]) == 12 and "image_missing" not in res.output
    else:  # the COCO photos the English corpus names are not bundled: counted, shown as unavailable
        assert "12 × image:image_missing" in res.output
    view = item_view(conn, 1, None)
    if recipe == "translate-fr-de-it-es" and fmt == "samples":  # Parquet keeps the English original
        assert any(s["title"].startswith("Original (en)") for s in view["sources"])
    _review_everything(project)

    res = CliRunner().invoke(cli, ["review", "export", project, "-o", str(out)])
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "export_stats.json").read_text())
    assert stats["accepted"] + stats["rejected"] + stats.get("unreviewed", 0) == stats["items"] == 12
    assert stats["rejected"] == 4 and stats["edited_records"] == 1
    from_jsonl = [r for r in ReadJsonl().read(str(out / "reviewed.jsonl")) if isinstance(r, Sample)]
    from_parquet = list(ReadParquet().read(str(out / "reviewed.parquet")))
    assert len(from_jsonl) == len(from_parquet) == 8
    edited = next(r for r in from_jsonl if r.metadata["review"]["edits"])
    assert edited.messages[1].content == "Texte revu à la main."
    assert edited.metadata["review"]["edits"][0]["after"] == "Texte revu à la main."
    assert all(r.metadata["review"]["decision"] == "accept" for r in from_parquet)

    res = CliRunner().invoke(cli, ["review", "agreement", project])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "project" / "agreement.json").read_text())
    groups = {(g["by"], g["value"]) for g in report["groups"]}
    if fmt == "samples":  # the Parquet samples keep language and generator
        langs = {"fr", "de", "it", "es"} if recipe.startswith("translate") else {"ja"}
        assert {("language", x) for x in langs} <= groups
    fluency = report["groups"][0]["fields"]["fluency"]
    assert fluency["overlap_items"] == 6 and fluency["krippendorff"]["value"] is not None
    assert "<svg" in (tmp_path / "project" / "agreement.html").read_text()


@pytest.mark.parametrize("recipe", ["translate-fr-de-it-es", "ja-instruct"])
def test_serve_a_project_of_the_recipes_parquet_output(runs, recipe, tmp_path, pytestconfig):
    """`polyvlm review serve` on a project made from each recipe's output: log in, see the item, submit."""
    import re

    import requests
    from review_server import ReviewServer

    from polyvlm.review.project_init import init_project

    project = str(tmp_path / "project")
    init = init_project(str(runs[recipe] / "samples"), project, ["ann1"], 1, 0.0, ReviewConfig(),
                        [str(pytestconfig.rootpath)])  # fmt: skip
    with ReviewServer(project) as server:
        s = requests.Session()
        csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(server.url + "/login").text).group(1)
        page = s.post(
            server.url + "/login", data={"name": "ann1", "token": init.tokens["ann1"], "csrf": csrf}
        )
        assert page.status_code == 200 and "item 1 of 12" in page.text
        if recipe == "ja-instruct":
            assert "が写っています" in page.text or "画像には" in page.text or "理由を" in page.text
        else:
            assert "before translation" in page.text
        images = re.findall(r'src="/image/([0-9a-f]{64}\.jpg)"', page.text)
        for name in images:
            assert s.get(f"{server.url}/image/{name}").headers["content-type"] == "image/jpeg"
        form = {"csrf": re.search(r'name="csrf" value="([^"]+)"', page.text).group(1),
                "nonce": re.search(r'name="nonce" value="([^"]+)"', page.text).group(1),
                "base_version": re.search(r'name="base_version" value="(\d+)"', page.text).group(1),
                "adequacy": "4", "fluency": "4", "decision": "accept"}  # fmt: skip
        after = s.post(server.url + "/item/1", data=form)
        assert after.status_code == 200 and "item 2 of 12 · 1 submitted" in after.text
    assert connect(project).execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
