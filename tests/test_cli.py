"""The command line: steps, validate, and clear errors for user mistakes."""

from click.testing import CliRunner

from polyvlm.cli import cli


def test_steps_lists_every_shipped_step_with_parameters():
    res = CliRunner().invoke(cli, ["steps"])
    assert res.exit_code == 0
    for name in ("read_warc", "read_html", "extract_html", "language_id", "text_length", "exact_dedup",
                 "write_parquet", "write_webdataset"):  # fmt: skip
        assert name in res.output
    assert "min_chars: int = 0" in res.output


def test_validate_reports_ok_and_errors(root, monkeypatch, write_recipe):
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, ["validate", "recipes/demo.yaml"])
    assert res.exit_code == 0 and "ok" in res.output and "10 input files" in res.output
    bad = write_recipe("inputs: [examples/data/html/*.html]\nsteps: [{nope: {}}]\noutputs: [write_parquet]\n")
    res = CliRunner().invoke(cli, ["validate", bad])
    assert res.exit_code != 0 and "r.yaml:2" in res.output and "unknown step 'nope'" in res.output
    assert "Traceback" not in res.output
