"""Quality filters for generated text: output language, refusals, answer length, repetition, near-duplicate questions."""

from __future__ import annotations

import itertools

import pytest

from polyvlm.core.records import ImageRef, Message, Pair, Sample
from polyvlm.core.step import Drop
from polyvlm.synth.answer_length import AnswerLength
from polyvlm.synth.char_ngrams import char_ngrams, jaccard, normalize
from polyvlm.synth.near_dup_questions import NearDuplicateQuestions, image_key
from polyvlm.synth.output_language import OutputLanguage
from polyvlm.synth.refusal_filter import RefusalFilter
from polyvlm.synth.repeated_ngrams import RepeatedNgrams, repeated_share


def _qa(answer: str, question: str = "<image>\nWhat is in the picture?", language: str = "") -> Sample:
    return Sample(
        id="s", messages=[Message("user", question), Message("assistant", answer)], language=language
    )


# ---- output_language ---------------------------------------------------------------------------------

LANG_TEXTS = {
    "en": "The photo shows two children playing football in a park on a sunny afternoon.",
    "fr": "La photo montre deux enfants qui jouent au football dans un parc par un après-midi ensoleillé.",
    "de": "Das Foto zeigt zwei Kinder, die an einem sonnigen Nachmittag in einem Park Fußball spielen.",
    "it": "La foto mostra due bambini che giocano a calcio in un parco in un pomeriggio di sole.",
    "es": "La foto muestra a dos niños jugando al fútbol en un parque en una tarde soleada.",
    "ja": "写真には、晴れた午後の公園でサッカーをしている二人の子どもが写っています。",
}


@pytest.fixture(scope="module")
def output_language():
    step = OutputLanguage()
    step.ensure_setup()
    return step


@pytest.mark.parametrize("lang", sorted(LANG_TEXTS))
def test_output_language_keeps_the_expected_language_and_names_the_wrong_one(output_language, lang):
    assert output_language.reject(_qa(LANG_TEXTS[lang], language=lang)) is None
    other = "ja" if lang != "ja" else "fr"
    assert output_language.reject(_qa(LANG_TEXTS[other], language=lang)) == f"language:{other}"


def test_output_language_parameter_wins_and_code_does_not_count(output_language):
    step = OutputLanguage(language="fr")
    step.ensure_setup()
    assert step.reject(_qa(LANG_TEXTS["en"], language="fr")) == "language:en"
    code_answer = LANG_TEXTS["fr"] + "\n```python\nfor item in items: print(item.name, item.price)\n```"
    assert step.reject(_qa(code_answer)) is None
    assert output_language.reject(_qa(LANG_TEXTS["en"])) == "no_expected_language"


def test_output_language_judges_short_turns_only_together(output_language):
    short = Sample(
        id="s",
        messages=[
            Message("user", "?"),
            Message("assistant", "Oui."),
            Message("user", "?"),
            Message("assistant", "Non."),
        ],
        language="fr",
    )
    assert output_language.reject(short) is None  # 9 characters: too short to judge
    pair = Pair(id="p", text=LANG_TEXTS["de"], language="de")
    assert output_language.reject(pair) is None


# ---- refusal_filter ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refusal():
    step = RefusalFilter()
    step.ensure_setup()
    return step


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with identifying people in images.",
        "As an AI language model, I do not have personal opinions about this painting.",
        "The image is blurry. I am unable to determine what the sign says.",
        "申し訳ありませんが、この画像の人物を特定することはできません。",
        "私はAIとして、個人の意見を持つことはできません。",
        "ＡＩとして言えば、これは猫です。",  # full-width letters: NFKC
        "Je suis désolé, mais je ne peux pas identifier cette personne.",
        "En tant qu’IA, je n’ai pas d’opinion.",  # typographic apostrophes
        "Es tut mir leid, aber ich kann das nicht beantworten.",
        "Als KI habe ich keine persönliche Meinung zu diesem Bild.",
        "Mi dispiace, ma non posso identificare questa persona.",
        "Come IA, non ho opinioni personali.",
        "Lo siento, pero no puedo identificar a esta persona.",
        "Como modelo de lenguaje, no tengo opiniones.",
    ],
)
def test_refusals_and_apologies_are_dropped_in_every_language(refusal, answer):
    assert refusal.reject(_qa(answer)) == "refusal"


@pytest.mark.parametrize(
    "answer",
    [
        "There are three cats on the sofa.",
        "The sign on the shop door says: we are closed today, and the owner wrote that she is very sorry.",
        "Als Kind spielte er oft in diesem Park.",  # "als ki" must not match inside "als Kind"
        "Come iarda di tessuto, la tovaglia è rossa.",  # nor "come ia" inside "come iarda"
        "看板には「本日休業、申し訳ありません」と書かれています。" * 3,  # an apology quoted late in the turn
        "Il y a deux chiens. Le propriétaire semble désolé.",
        'A note on the door: "Sorry, we are closed." It hangs under the clock.',  # quoted speech is content
    ],
)
def test_ordinary_answers_are_kept(refusal, answer):
    assert refusal.reject(_qa(answer)) is None


def test_refusal_filter_languages_and_extra_phrases():
    ja_only = RefusalFilter(languages=["ja"], extra_phrases=["as an assistant"])
    ja_only.ensure_setup()
    assert ja_only.reject(_qa("I'm sorry, I cannot see it.")) is None
    assert ja_only.reject(_qa("Speaking as an Assistant, no.")) == "refusal"
    assert ja_only.reject(Pair(id="p", text="すみません、画像が見えません。")) == "refusal"
    with pytest.raises(ValueError, match="no refusal phrase list"):
        RefusalFilter(languages=["xx"])


# ---- answer_length -----------------------------------------------------------------------------------


def test_answer_length_measures_each_assistant_turn():
    step = AnswerLength(min_chars=2, max_chars=40)
    assert step.reject(_qa("Zwei Katzen.")) is None
    assert step.reject(_qa("猫")) == "answer_too_short"
    assert step.reject(_qa("<image> ")) == "answer_too_short"
    assert step.reject(_qa("x" * 41)) == "answer_too_long"
    assert step.reject(_qa("写真には猫が二匹写っています。")) is None
    long_question = _qa("Oui.", question="?" * 500)  # user turns are not measured
    assert step.reject(long_question) is None
    assert AnswerLength().reject(_qa("")) == "answer_too_short"


# ---- repeated_ngrams ---------------------------------------------------------------------------------

LOOPS = {
    "en": "The image shows a cat. The cat is sitting on the table. " * 4,
    "fr": "Le chat est assis sur la table. " * 5,
    "de": "Die Katze sitzt auf dem Tisch und die Katze sitzt auf dem Tisch. " * 3,
    "ja": "この画像には猫が写っています。猫はテーブルの上に座っています。" * 4,
}


@pytest.mark.parametrize("lang", sorted(LANG_TEXTS))
def test_repeated_ngrams_keeps_ordinary_prose(lang):
    assert (
        RepeatedNgrams().reject(_qa(LANG_TEXTS[lang] + " " + LANG_TEXTS[lang][::-1], language=lang)) is None
    )


@pytest.mark.parametrize("lang", sorted(LOOPS))
def test_repeated_ngrams_drops_loops(lang):
    assert RepeatedNgrams().reject(_qa(LOOPS[lang], language=lang)) == "repetition"


def test_japanese_is_measured_in_characters_even_without_a_language_label():
    assert repeated_share("猫が座っています".split(), 3) == 0.0  # one "word": word n-grams see nothing
    assert RepeatedNgrams().reject(_qa(LOOPS["ja"])) == "repetition"
    assert RepeatedNgrams().reject(Pair(id="p", text=LOOPS["ja"])) == "repetition"


def test_short_answers_are_not_judged_for_repetition():
    assert RepeatedNgrams().reject(_qa("Yes yes yes yes.")) is None
    assert RepeatedNgrams(min_ngrams=2).reject(_qa("yes yes yes yes yes yes")) == "repetition"


# ---- near_duplicate_questions ------------------------------------------------------------------------


def test_char_ngram_similarity_basics():
    assert normalize("<image>\n  What IS this？") == "what is this"
    assert (
        jaccard(
            char_ngrams("How many people are in the image?"), char_ngrams("how many people are in this image")
        )
        > 0.8
    )
    assert jaccard(char_ngrams("What is the man holding?"), char_ngrams("What is the woman holding?")) < 0.8


def _vq(i: int, question: str, image: ImageRef) -> Sample:
    return Sample(
        id=str(i),
        images=[image],
        messages=[Message("user", "<image>\n" + question), Message("assistant", "…")],
    )


CAT = ImageRef(sha256="aa" * 32, path="cat.jpg")
DOG = ImageRef(phash="0f0f0f0f0f0f0f0f")
PARK = ImageRef(path="images/park.jpg")

CORPUS = {  # position -> sample
    (0, 0): _vq(0, "How many people are in the image?", CAT),
    (0, 1): _vq(1, "What is the man holding?", CAT),
    (1, 0): _vq(2, "How many people are in this image?", CAT),  # near (0, 0)
    (1, 1): _vq(3, "How many people are in the image?", DOG),  # same question, another image
    (2, 0): _vq(4, "What is the woman holding?", CAT),  # different question, though close in letters
    (2, 1): _vq(5, "この写真には何人いますか？", PARK),
    (3, 0): _vq(6, "この写真には 何人 いますか", PARK),  # near (2, 1) after normalisation
    (3, 1): _vq(7, "この写真には何匹の犬がいますか？", PARK),
}


def _run(agg: NearDuplicateQuestions, shard_order, merge_order) -> set[tuple[int, int]]:
    states = {}
    for shard in shard_order:
        st = agg.init_state()
        for pos, rec in CORPUS.items():
            if pos[0] == shard:
                agg.observe(st, rec, pos)
        states[shard] = st
    merged = agg.init_state()
    for shard in merge_order:
        merged = agg.merge(merged, states[shard])
    return {pos for pos, rec in CORPUS.items() if isinstance(agg.apply(merged, rec, pos), Drop)}


def test_near_duplicate_questions_per_image_whatever_the_merge_order():
    agg = NearDuplicateQuestions()
    results = {
        frozenset(_run(agg, shards, merges))
        for shards in [(0, 1, 2, 3), (3, 2, 1, 0)]
        for merges in itertools.permutations(range(4))
    }
    assert results == {frozenset({(1, 0), (3, 0)})}
    drop = agg.apply(_merged(agg), CORPUS[(1, 0)], (1, 0))
    assert drop == Drop("duplicate_question", "like a question at [0, 0]")


def _merged(agg):
    st = agg.init_state()
    for pos, rec in CORPUS.items():
        agg.observe(st, rec, pos)
    return st


def test_image_keys_and_records_without_questions_or_images():
    assert image_key(CORPUS[(0, 0)]).startswith("sha256:") and image_key(CORPUS[(1, 1)]).startswith("phash:")
    assert image_key(Sample(id="x")) == "" and image_key(Sample(id="x", images=[ImageRef()])) == ""
    agg = NearDuplicateQuestions(threshold=0.5)
    st = _merged(agg)
    no_image = Sample(id="n", messages=[Message("user", "How many people are in the image?")])
    assert agg.apply(st, no_image, (9, 0)) is no_image
    pair = Pair(id="p", text="How many people are in the image?", image=CAT)
    assert agg.apply(st, pair, (9, 1)) is pair
