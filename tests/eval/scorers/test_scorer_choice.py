"""Multiple-choice extraction in Japanese and English: every form, last match wins, unparsable counted."""

import re

import pytest
from scorer_cases import item, pred, run

from polyvlm.eval.scorers import choice as choice_module
from polyvlm.eval.scorers.choice import LETTER_FORMS, ChoiceAccuracy, extract_choice

OPTIONS = {"A": "赤", "B": "青", "C": "緑", "D": "黄色"}
EN_OPTIONS = {"A": "a red car", "B": "a blue bus", "C": "a green tram", "D": "a yellow taxi"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(A)", "A"),
        ("A.", "A"),
        ("A", "A"),
        ("「A」", "A"),
        ("答え：A", "A"),
        ("答えはC", "C"),
        ("正解はB", "B"),
        ("正解：D です", "D"),
        ("（Ｂ）です", "B"),  # full width
        ("選択肢Cが正しいです。", "C"),
        ("緑だと思います。", "C"),  # no letter: the option's text
        ("(A)は誤りで、正解はC", "C"),  # last match wins
        ("わかりません", None),
    ],
)
def test_japanese_forms(text, expected):
    assert extract_choice(text, OPTIONS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is B.", "B"),
        ("Answer: D", "D"),
        ("(c)", "C"),
        ("B) a blue bus", "B"),
        ("A cat sits in a red car.", "A"),  # the article "A" is no answer; the option text is
        ("A) looks plausible, but on reflection the answer is (D).", "D"),
        ("It is a green tram.", "C"),
        ("I think a blue bus, no wait, a yellow taxi", "D"),  # last option text wins
        ("B is correct.", "B"),
        ("I think C is right", "C"),  # "I" is the pronoun, C the answer
        ("None of them.", None),
    ],
)
def test_english_forms(text, expected):
    assert extract_choice(text, EN_OPTIONS) == expected


def test_each_indicator_form_is_its_own_entry():
    # the anchors' missing comma fused two indicators into one string that matches neither;
    # here every form must match its own example and the list holds no accidental concatenation
    examples = [
        "(A)",
        "[A]",
        "「A」",
        "『A』",
        "答え:A",
        "正解はA",
        "回答:A",
        "選択肢A",
        "Answer: A",
        "option A",
        "A.",
        "A",
    ]
    assert len(LETTER_FORMS) == len(examples)
    for form, example in zip(LETTER_FORMS, examples, strict=True):
        assert re.search(form.replace("{L}", "A|B"), example), (form, example)
    assert not any("答え" in f and "正解" in f for f in LETTER_FORMS)


def test_absent_options_are_skipped():
    assert extract_choice("a red car", {"A": "a red car", "B": None, "C": ""}) == "A"


def test_unparsable_is_wrong_and_counted_never_a_pick():
    cases = [
        (item("1", "A", choices=OPTIONS), "答え：A"),
        (item("2", "B", choices=OPTIONS), "わかりません"),
        (item("3", "青", choices=OPTIONS), "(B)"),  # a reference given as the option text
    ]
    scores, result = run(ChoiceAccuracy(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0]
    assert result.details["unparsable"] == 1 and result.details["random_picks"] == 0
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)


def test_a_seeded_random_pick_only_when_asked_and_independent_of_order():
    items = [item(str(i), "A", choices=OPTIONS) for i in range(20)]
    preds = [pred(str(i), "?") for i in range(20)]
    scorer = ChoiceAccuracy(random_seed=5)
    forward = scorer.score(items, preds)
    backward = scorer.score(items[::-1], preds[::-1])[::-1]
    assert [s.detail["random_pick"] for s in forward] == [s.detail["random_pick"] for s in backward]
    assert len({s.detail["random_pick"] for s in forward}) > 1
    assert scorer.aggregate(items, forward).details["random_picks"] == 20


def test_no_module_level_mutable_state():
    mutable = (list, dict, set)
    assert not [
        n for n, v in vars(choice_module).items() if not n.startswith("__") and isinstance(v, mutable)
    ]
    first = ChoiceAccuracy().score([item("1", "A", choices=OPTIONS)], [pred("1", "A")])
    for _ in range(3):  # scoring other items in between changes nothing
        ChoiceAccuracy().score([item("x", "D", choices=EN_OPTIONS)], [pred("x", "a yellow taxi")])
    assert ChoiceAccuracy().score([item("1", "A", choices=OPTIONS)], [pred("1", "A")]) == first
