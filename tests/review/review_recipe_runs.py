"""Run the two shipped recipes (translate-fr-de-it-es, ja-instruct) against the real OpenAI-compatible test
server, so the review tests read what polyvlm really writes (LLaVA JSON, messages JSONL, Parquet).

The server's answers are scripted by prompt: a rewrite for `regenerate`, hand-written translations into
fr/de/it/es (and back into English, for the back-translation check), and Japanese in the formats the
ja-instruct generators ask for.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import fake_openai_server
from fake_openai_server import FakeOpenAIServer
from polyvlm.core.recipe import load_recipe
from polyvlm.engine.endpoint_override import point_at_endpoint
from polyvlm.engine.run import run_recipe

REWRITE = {
    "A donut shop is full of different flavors of donuts.": "A doughnut shop displays many different flavours of doughnuts.",
    "A newspaper that has sunglasses on top of it sitting in front of books.": "Sunglasses rest on a newspaper placed in front of a row of books.",
    "The old man literally has a toothbrush mustache.": "The elderly man wears a small moustache shaped like a toothbrush.",
}  # fmt: skip
PROMPT = "Describe this image briefly."
TRANSLATIONS = {
    "French": [
        "Décrivez brièvement cette image.",
        "Une boutique de beignets présente de nombreux parfums différents de beignets.",
        "Des lunettes de soleil reposent sur un journal posé devant une rangée de livres.",
        "Le vieil homme porte une petite moustache en forme de brosse à dents.",
    ],
    "German": [
        "Beschreiben Sie dieses Bild kurz.",
        "Ein Donutladen bietet viele verschiedene Sorten von Donuts an.",
        "Eine Sonnenbrille liegt auf einer Zeitung vor einer Reihe von Büchern.",
        "Der ältere Mann trägt einen kleinen Schnurrbart in Form einer Zahnbürste.",
    ],
    "Italian": [
        "Descrivi brevemente questa immagine.",
        "Un negozio di ciambelle espone molti gusti diversi di ciambelle.",
        "Degli occhiali da sole sono appoggiati su un giornale davanti a una fila di libri.",
        "L'uomo anziano porta dei piccoli baffi a forma di spazzolino da denti.",
    ],
    "Spanish": [
        "Describe brevemente esta imagen.",
        "Una tienda de rosquillas exhibe muchos sabores diferentes de rosquillas.",
        "Unas gafas de sol descansan sobre un periódico colocado delante de una fila de libros.",
        "El anciano lleva un pequeño bigote con forma de cepillo de dientes.",
    ],
}
ENGLISH = [PROMPT, *REWRITE.values()]
FORWARD = {(lang, en): tr for lang, trs in TRANSLATIONS.items() for en, tr in zip(ENGLISH, trs, strict=True)}
BACK = {tr: en for (_, en), tr in FORWARD.items()}
_TRANSLATE = re.compile(r"Translate into (\w+):\n\n(.*)", re.S)
_EXISTING = re.compile(r"Existing answer:\n(.*?)\n\nNew answer:", re.S)


def scripted_answer(prompt: str, body: dict) -> str:
    """The server's answer to a prompt of either recipe."""
    if m := _TRANSLATE.search(prompt):
        lang, text = m.group(1), m.group(2).strip()
        return (
            BACK.get(text, text)
            if lang == "English"
            else FORWARD.get((lang, text), f"[no {lang} for {text}]")
        )
    if m := _EXISTING.search(prompt):
        return REWRITE.get(m.group(1).strip(), m.group(1).strip())
    h = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    if "質問を一つ作り" in system:
        return f"Q: この場面で何が起きていると考えられますか？（{h}）\nA: 理由を順に説明します。{h}"
    if "詳しく説明" in system:
        return f"画像には二つの物が写っています。{h}"
    return f"Q: 何が写っていますか？\nA: {h} が写っています。\n===\nQ: いくつありますか？\nA: 2つです。"


def run_shipped_recipes(root: Path, out: Path, monkeypatch) -> dict[str, Path]:
    """Run both recipes into out/<name> against a scripted server; their output folders by name."""
    monkeypatch.setattr(fake_openai_server, "answer_text", scripted_answer)
    monkeypatch.chdir(root)  # the recipes name their inputs relative to the repository
    runs = {}
    with FakeOpenAIServer() as server:
        for name in ("translate-fr-de-it-es", "ja-instruct"):
            text = (root / f"recipes/{name}.yaml").read_text(encoding="utf-8")
            recipe_path = out / f"{name}.yaml"  # the shipped recipe with a response cache of its own
            recipe_path.write_text(
                text.replace(
                    "license: Apache-2.0,", f"license: Apache-2.0, cache_path: {out}/{name}.sqlite,"
                ),
                encoding="utf-8",
            )
            recipe = load_recipe(str(recipe_path))
            assert point_at_endpoint(recipe, server.url, "test-model", None)
            run_recipe(recipe, output=str(out / name), progress=False, workers=1)
            runs[name] = out / name
    return runs
