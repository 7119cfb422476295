"""JIC-VQA (mean of domain means) and MECHA-ja (breakdown by rotation) as llm-jp-eval-mm aggregates them."""

import pytest
from scorer_cases import item, run

from polyvlm.eval.scorers.jic_vqa import JICVQAMatch
from polyvlm.eval.scorers.mecha_ja import MECHAJaMatch, rotation_of


def test_jic_vqa_averages_domains_not_items():
    cases = [(item("1", "桜", category="jaflower30"), "これは桜です"),
             (item("2", "梅", category="jaflower30"), "桜"),
             (item("3", "寿司", category="jafood101"), "お寿司"),
             (item("4", "ラーメン", category="jafood101"), "らーめん"),  # as is: no kana folding
             (item("5", "東京駅", category="jafacility20"), "東京駅です")]  # fmt: skip
    scores, result = run(JICVQAMatch(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert result.by_category == pytest.approx({"jafacility20": 100.0, "jaflower30": 50.0, "jafood101": 50.0})
    assert result.overall == pytest.approx(200 / 3, abs=1e-9)  # not the item mean, 60
    assert result.ci_low is None  # a domain with one item: no stratified interval


def test_jic_vqa_anchor_example():
    _, result = run(JICVQAMatch(), [(item("q1", "私は猫です。", category="test"), "私は猫です。")])
    assert result.overall == pytest.approx(100.0) and result.by_category == {"test": 100.0}


def test_mecha_ja_breakdown_by_rotation_type_and_background():
    def it(qid, ref, kind, bg):
        return item(qid, ref, meta={"answer_type": kind, "background_text": bg})

    cases = [(it("0_rot0", "A", 0, ""), "A"), (it("0_rot1", "D", 0, ""), "B"),
             (it("1_rot0", "B", 1, "背景"), "答えはB"), (it("1_rot1", "A", 1, "背景"), "A")]  # fmt: skip
    scores, result = run(MECHAJaMatch(), cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, 1.0]
    d = result.details
    assert result.overall == pytest.approx(75.0)
    assert d["Factoid"] == pytest.approx(50.0) and d["Non-Factoid"] == pytest.approx(100.0)
    assert d["with_background"] == pytest.approx(100.0) and d["without_background"] == pytest.approx(50.0)
    assert d["rot_0"]["overall"] == pytest.approx(100.0) and d["rot_1"]["overall"] == pytest.approx(50.0)
    assert d["rot_1"]["Factoid"] == pytest.approx(0.0)
    assert rotation_of("12_rot3") == "3" and rotation_of("q1") == "no_rot"


def test_mecha_ja_anchor_example():
    cases = [(item("q1", "私は猫です。", meta={"answer_type": 0, "background_text": ""}), "私は猫です。")]
    _, result = run(MECHAJaMatch(), cases)
    assert result.overall == pytest.approx(100.0)
    assert result.details["rot_no_rot"] == pytest.approx({"overall": 100.0, "Factoid": 100.0,
                                                          "without_background": 100.0})  # fmt: skip
