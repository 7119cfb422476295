"""Recipe validation: every mistake names the file, the line and the valid choices."""

import pytest

from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import load_recipe

GOOD_INPUT = "examples/data/html/*.html"


def _error(write_recipe, body: str) -> str:
    path = write_recipe(body)
    with pytest.raises(RecipeError) as e:
        load_recipe(path)
    return str(e.value)


@pytest.fixture(autouse=True)
def _cwd(root, monkeypatch):
    monkeypatch.chdir(root)


def test_valid_recipe_loads(write_recipe):
    r = load_recipe(
        write_recipe(f"""
        inputs: [{GOOD_INPUT}]
        steps:
          - extract_html: {{}}
          - text_length: {{min_chars: 10}}
          - text_length: {{max_chars: 100000}}
        outputs:
          - write_parquet: {{path: docs}}
        """)
    )
    assert [s.label for s in r.steps] == ["extract_html", "text_length", "text_length#2"]
    assert r.steps[1].params.min_chars == 10
    assert len(r.shards) == 6


def test_unknown_step_names_line_and_choices(write_recipe):
    msg = _error(
        write_recipe,
        f"""
        inputs: [{GOOD_INPUT}]
        steps:
          - extract_html: {{}}
          - extrct_text: {{}}
        outputs: [write_parquet]
        """,
    )
    assert "r.yaml:5:" in msg and "unknown step 'extrct_text'" in msg and "extract_html" in msg


def test_unknown_parameter_names_line_and_valid_parameters(write_recipe):
    msg = _error(
        write_recipe,
        f"""
        inputs: [{GOOD_INPUT}]
        steps:
          - text_length:
              min_chars: 3
              min_char: 5
        outputs: [write_parquet]
        """,
    )
    assert "r.yaml:6:" in msg and "unknown parameter 'min_char'" in msg and "min_chars" in msg


def test_wrongly_typed_parameter(write_recipe):
    msg = _error(
        write_recipe,
        f"""
        inputs: [{GOOD_INPUT}]
        steps:
          - text_length: {{min_chars: lots}}
        outputs: [write_parquet]
        """,
    )
    assert "r.yaml:4:" in msg and "'min_chars'" in msg and "lots" in msg


def test_missing_input_is_an_error_before_work(write_recipe):
    msg = _error(
        write_recipe,
        """
        inputs: [no/such/dir/*.warc.gz]
        outputs: [write_parquet]
        """,
    )
    assert "r.yaml:2:" in msg and "matches no file" in msg


def test_unknown_top_key_and_bad_yaml(write_recipe):
    assert "unknown key 'stepz'" in _error(
        write_recipe, f"inputs: [{GOOD_INPUT}]\nstepz: []\noutputs: [write_parquet]\n"
    )
    assert "not valid YAML" in _error(write_recipe, "inputs: [a\nsteps: {")


def test_writer_is_not_a_step(write_recipe):
    msg = _error(
        write_recipe,
        f"""
        inputs: [{GOOD_INPUT}]
        steps: [write_parquet]
        outputs: [write_parquet]
        """,
    )
    assert "unknown step 'write_parquet'" in msg
