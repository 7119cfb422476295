"""Yes/no answers in several languages; an answer with neither is wrong and counted."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.yes_no import YesNo, parse_yes_no


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("No, there is no dog.", "no"),
        ("yes.", "yes"),
        ("はい、写っています。", "yes"),
        ("いいえ、写っていません。", "no"),
        ("Oui", "yes"),
        ("Nein.", "no"),
        ("Sì, c'è.", "yes"),
        ("The answer: no; yes would be wrong", "no"),  # the first marker decides
        ("犬が部屋にはいります", None),  # はい inside はいります is not "yes"
        ("I cannot tell.", None),
        ("Nobody knows", None),  # no word "no"
    ],
)
def test_parse(text, expected):
    assert parse_yes_no(text) == expected


def test_unparsable_is_wrong_and_counted():
    cases = [(item("1", "yes"), "Yes"), (item("2", "no"), "maybe"), (item("3", "はい"), "はい")]
    scores, result = run(YesNo(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0]
    assert result.details["unparsable"] == 1 and result.excluded == {}
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)
