"""Agreement figures on small hand-computed cases equal the libraries' and the hand calculation."""

import numpy as np
import pytest
from review_projects import assignment, form, make_project, samples

from polyvlm.review.agreement import agreement_report, cohen_pairs, fleiss, krippendorff_alpha
from polyvlm.review.config import ReviewConfig
from polyvlm.review.store import connect
from polyvlm.review.submissions import submit

CONFIG = ReviewConfig()
DECISION, ADEQUACY = CONFIG.field("decision"), CONFIG.field("adequacy")

# Cohen, 2 raters x 6 items: agree on items 0, 1, 3, 5 -> p_o = 4/6; both accept 4 of 6 ->
# p_e = (4/6)^2 + (2/6)^2 = 20/36; kappa = (24/36 - 20/36) / (1 - 20/36) = 4/16
A = ["accept", "accept", "accept", "reject", "reject", "accept"]
B = ["accept", "accept", "reject", "reject", "accept", "accept"]
COHEN_BY_HAND = 0.25
# Fleiss, 3 raters x 4 items, accept counts 3, 2, 1, 0: P_i = 1, 1/3, 1/3, 1 -> P = 2/3; p_accept = 1/2 ->
# P_e = 1/2; kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
FLEISS_ROWS = [["accept"] * 3, ["accept", "accept", "reject"], ["accept", "reject", "reject"], ["reject"] * 3]
FLEISS_BY_HAND = 1 / 3
# Krippendorff ordinal, 2 raters x 3 items: (1, 1), (1, 2), (2, 3). Values n_1=3, n_2=2, n_3=1 (n=6).
# delta(c, k) = sum_{g=c..k} n_g - (n_c + n_k)/2: d(1,2) = 2.5, d(2,3) = 1.5, d(1,3) = 4.
# Coincidences o_12 = o_21 = o_23 = o_32 = 1 (o_11 = 2, zero distance): sum o d^2 = 2*6.25 + 2*2.25 = 17.
# Expected sum n_c n_k d^2 = 2*(3*2*6.25 + 2*1*2.25 + 3*1*16) = 180. alpha = 1 - (n-1)*17/180 = 95/180
ORDINAL = [(1, 1), (1, 2), (2, 3)]
KRIPPENDORFF_BY_HAND = 95 / 180


def _ratings(columns):
    return [
        (item, rater, v) for item, row in enumerate(columns) for rater, v in zip("abc", row, strict=False)
    ]


def test_cohen_kappa_equals_sklearn_and_the_hand_calculation():
    from sklearn.metrics import cohen_kappa_score

    (pair,) = cohen_pairs(_ratings(list(zip(A, B, strict=True))), DECISION)
    assert pair["pair"] == ["a", "b"] and pair["items"] == 6
    assert pair["kappa"]["value"] == pytest.approx(COHEN_BY_HAND, abs=1e-9)
    assert pair["kappa"]["value"] == pytest.approx(cohen_kappa_score(A, B), abs=1e-9)
    # a negative control: one changed rating moves the figure
    (other,) = cohen_pairs(
        _ratings(list(zip(A, ["accept"] + B[1:4] + ["reject", "accept"], strict=True))), DECISION
    )
    assert abs(other["kappa"]["value"] - COHEN_BY_HAND) > 0.1


def test_fleiss_kappa_equals_statsmodels_and_the_hand_calculation():
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    got = fleiss(_ratings(FLEISS_ROWS), DECISION)
    codes = np.array([[0 if v == "accept" else 1 for v in row] for row in FLEISS_ROWS])
    assert got["items"] == 4 and got["raters"] == 3
    assert got["value"] == pytest.approx(FLEISS_BY_HAND, abs=1e-9)
    assert got["value"] == pytest.approx(fleiss_kappa(aggregate_raters(codes)[0]), abs=1e-9)


def test_krippendorff_ordinal_alpha_equals_the_library_and_the_hand_calculation():
    import krippendorff

    got = krippendorff_alpha(_ratings(ORDINAL), ADEQUACY)
    lib = krippendorff.alpha(reliability_data=np.array(ORDINAL, float).T, level_of_measurement="ordinal")
    assert got["level"] == "ordinal" and got["items"] == 3
    assert got["value"] == pytest.approx(KRIPPENDORFF_BY_HAND, abs=1e-9)
    assert got["value"] == pytest.approx(lib, abs=1e-9)
    nominal = krippendorff.alpha(reliability_data=np.array(ORDINAL, float).T, level_of_measurement="nominal")
    assert abs(nominal - KRIPPENDORFF_BY_HAND) > 0.05  # the level matters: ordinal is not nominal here


def test_undefined_figures_say_why_instead_of_a_number():
    same = fleiss(_ratings([["accept"] * 2] * 3), DECISION)
    assert same["value"] is None and same["reason"]
    alone = krippendorff_alpha([(0, "a", 3), (1, "a", 4)], ADEQUACY)
    assert alone["value"] is None and alone["items"] == 0


def test_report_from_the_store_per_language_and_generator(tmp_path):
    """The full path: submissions in a project -> agreement_report, same figures as by hand."""
    project, _ = make_project(tmp_path, samples(6), ["a", "b"], overlap=2, share=1.0)
    for item in range(1, 7):
        for rater, column in (("a", A), ("b", B)):
            adequacy = 3 if item > 3 else ORDINAL[item - 1][0 if rater == "a" else 1]
            submit(
                connect(project),
                CONFIG,
                assignment(project, rater, item),
                form(adequacy, 4, column[item - 1]),
            )
    report = agreement_report(connect(project), CONFIG)
    overall = report["groups"][0]
    assert overall["by"] == "all" and overall["submissions"] == 12
    decision = overall["fields"]["decision"]
    assert decision["cohen"][0]["kappa"]["value"] == pytest.approx(COHEN_BY_HAND, abs=1e-9)
    assert decision["distribution"] == {"accept": 8, "reject": 4}
    groups = {(g["by"], g["value"]) for g in report["groups"]}
    assert {("language", "fr"), ("generator", "gen-a"), ("generator", "gen-b")} <= groups
