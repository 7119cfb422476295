"""What the test server writes for polyvlm's generators and judges: the format each one asks for, from the prompt."""

from __future__ import annotations

import hashlib


def scripted_answer(prompt: str, body: dict) -> str:
    """A generator's expected shape (QA blocks, a description, a conversation), derived from the prompt."""
    h = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    if "質問を一つ作り" in system:
        return f"Q: この場面で何が起きていると考えられますか？（{h}）\nA: 理由を順に説明します。{h}"
    if "詳しく説明" in system:
        return f"画像には二つの物が写っています。{h}"
    if "会話" in system or "<image>" in prompt:
        return f"Q: 何が写っていますか？\nA: {h} が写っています。\n===\nQ: いくつありますか？\nA: 2つです。"
    return f"answer {h}"


def scripted_answer_or_verdict(prompt: str, body: dict) -> str:
    """scripted_answer, and a judge's verdict ("Score: N", derived from the prompt) when a judge asks."""
    if "Score:" in prompt or any("Score:" in str(m.get("content")) for m in body["messages"]):
        return f"Score: {1 + int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 5}"
    return scripted_answer(prompt, body)
