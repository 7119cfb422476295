"""Inputs that break things: each gets a counted, reasoned drop or error, and the run goes on."""

import json
import os
import shutil

from polyvlm.core.recipe import load_recipe
from polyvlm.engine.run import run_recipe
from warc_builder import page, response_record, write_warc

JA = "これは日本語のテスト文章です。文字コードが正しく判定されることを確かめます。" * 4


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def test_bad_inputs_are_counted_and_the_run_goes_on(tmp_path, root, write_recipe):
    data = tmp_path / "in"
    data.mkdir()
    write_warc(str(data / "a_good.warc.gz"), [
        response_record("http://jp.example/sjis", page("猫", JA).encode("cp932"), "text/html; charset=EUC-JP"),
        response_record("http://jp.example/iso", page("犬", JA).encode("iso2022_jp"), "text/html"),
        response_record("http://jp.example/pic.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
        response_record("http://jp.example/gone", page("無", JA).encode(), "text/html", status=404),
        response_record("http://jp.example/broken", (f"<html><body><div><p>{JA}<b><i>閉じない<table><td>"
                                                      "</span></p></html></body>").encode(), "text/html"),
        response_record("http://jp.example/empty", b"", "text/html"),
    ])  # fmt: skip
    shutil.copy(root / "examples/data/warc/resiliparse__clipped.warc.gz", data / "b_truncated.warc.gz")
    good = (data / "a_good.warc.gz").read_bytes()
    (data / "c_corrupt.warc.gz").write_bytes(good[:300] + os.urandom(500) + good[800:])
    (data / "d_empty.warc.gz").write_bytes(b"")
    (data / "e_empty.html").write_bytes(b"")
    (data / "f_binary.html").write_bytes(b"\x00" + os.urandom(3000))
    recipe = load_recipe(
        write_recipe(f"""
        inputs:
          - {data}/*.warc.gz
          - {data}/*.html
        steps:
          - extract_html: {{}}
          - language_id: {{}}
          - text_length: {{min_chars: 20}}
        outputs: [write_jsonl]
        """)
    )
    out = str(tmp_path / "out")
    stats = run_recipe(recipe, out, workers=2, progress=False)

    assert stats["balanced"], stats["totals"]
    t = stats["totals"]
    assert t["records_in"] == t["kept"] + t["rejected"] + t["errors"]
    errors = _lines(os.path.join(out, "errors.jsonl"))
    reasons = {e["reason"] for e in errors}
    assert {"truncated_record", "empty_file"} <= reasons
    assert "corrupt_archive" in reasons or "bad_http_block" in reasons
    rejects = [r for f in sorted(os.listdir(os.path.join(out, "rejects")))
               for r in _lines(os.path.join(out, "rejects", f))]  # fmt: skip
    reject_reasons = {(r["step"], r["reason"]) for r in rejects}
    assert ("extract_html", "not_html:image/png") in reject_reasons
    assert ("extract_html", "http_status:404") in reject_reasons
    assert ("extract_html", "empty_body") in reject_reasons
    assert ("extract_html", "binary_body") in reject_reasons  # random bytes saved as .html
    assert sum(e["reason"] == "empty_file" for e in errors) == 2  # the empty WARC and the empty page
    kept = [json.loads(x) for f in sorted(os.listdir(os.path.join(out, "jsonl")))
            for x in open(os.path.join(out, "jsonl", f), encoding="utf-8")]  # fmt: skip
    by_url = {d["url"]: d for d in kept}
    assert JA[:20] in " ".join(by_url["http://jp.example/sjis"]["texts"])  # header said EUC-JP: it was not
    assert by_url["http://jp.example/sjis"]["language"] == "ja"
    assert JA[:20] in " ".join(by_url["http://jp.example/iso"]["texts"])
    assert JA[:20] in " ".join(
        by_url["http://jp.example/broken"]["texts"]
    )  # malformed HTML still yields text
    assert len(rejects) == t["rejected"] and len(errors) == t["errors"]


def test_missing_input_stops_before_work(tmp_path, write_recipe):
    from click.testing import CliRunner

    from polyvlm.cli import cli

    path = write_recipe(f"inputs: [{tmp_path}/nothing/*.warc.gz]\noutputs: [write_parquet]\n")
    result = CliRunner().invoke(cli, ["run", path, "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "matches no file" in result.output and "r.yaml:1" in result.output
    assert not (tmp_path / "out").exists()
