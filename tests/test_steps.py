"""The shipped steps, and how the engine treats steps that drop, fail or batch."""

from polyvlm.core.records import Document
from polyvlm.core.step import BatchParams, BatchStep, Drop, MapStep
from polyvlm.engine.rows import ERROR, OK, REJECTED, Row, apply_steps
from polyvlm.text.exact_dedup import ExactDedup
from polyvlm.text.langid import LanguageId
from polyvlm.text.length import TextLength


def _doc(i, text):
    return Document(id=str(i), texts=[text])


def test_text_length_keeps_and_drops():
    step = TextLength(min_chars=5, max_chars=10)
    assert step.apply(_doc(0, "12345")).id == "0"
    assert step.apply(_doc(0, "1234")) == Drop("too_short")
    assert step.apply(_doc(0, "12345678901")) == Drop("too_long")


def test_language_id_labels_and_filters():
    step = LanguageId(languages=["ja", "fr"], min_score=0.5)
    step.ensure_setup()
    cases = {
        "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。": "ja",
        "Le petit prince est un conte poétique et philosophique sous l'apparence d'un conte pour enfants.": "fr",
        "Die Geschichte beginnt am 26. Oktober, als die Polizei in der Stadt eintraf.": "de",
    }
    for text, lang in cases.items():
        out = step.apply(_doc(0, text))
        if lang in ("ja", "fr"):
            assert out.language == lang and out.metadata["language_score"] > 0.5
        else:
            assert out == Drop("language:de")
    assert step.apply(_doc(0, "   ")) == Drop("no_text_for_language_id")


def test_exact_dedup_keeps_the_first_by_position_whatever_the_merge_order():
    agg = ExactDedup()
    texts = {(0, 0): "a  b", (0, 1): "c", (1, 0): "a b", (1, 1): "ｃ", (2, 0): "d"}  # NFKC: ｃ == c
    states = []
    for shard in (2, 1, 0):  # observe shards out of order, as parallel workers finish
        st = agg.init_state()
        for (s, i), t in texts.items():
            if s == shard:
                agg.observe(st, _doc(f"{s}-{i}", t), (s, i))
        states.append(st)
    merged = agg.init_state()
    for st in states:
        merged = agg.merge(merged, st)
    kept = {pos for pos, t in texts.items() if not isinstance(agg.apply(merged, _doc(0, t), pos), Drop)}
    assert kept == {(0, 0), (0, 1), (2, 0)}


class _UpperParams(BatchParams):
    batch_size: int = 2


class _Upper(BatchStep):
    name = "test_upper"
    Params = _UpperParams
    calls = 0

    def apply_batch(self, records):
        _Upper.calls += 1
        return [
            Drop("has_x") if "x" in r.text else Document(id=r.id, texts=[r.text.upper()]) for r in records
        ]


class _Boom(MapStep):
    name = "test_boom"

    def apply(self, record):
        if record.text == "boom":
            raise ValueError("kaboom")
        return record


def test_batch_and_failing_steps_keep_order_and_account_for_every_row():
    rows = [Row(0, i, _doc(i, t)) for i, t in enumerate(["a", "boom", "x", "b", "c"])]
    out = list(apply_steps(iter(rows), [_Boom(), _Upper()]))
    assert [r.idx for r in out] == [0, 1, 2, 3, 4]
    assert [r.status for r in out] == [OK, ERROR, REJECTED, OK, OK]
    assert out[1].step == "test_boom" and "kaboom" in out[1].detail
    assert out[2].reason == "has_x"
    assert [r.record.text for r in out if r.status == OK] == ["A", "B", "C"]
    assert _Upper.calls == 2  # batches of two live rows: (a, x), (b, c)
