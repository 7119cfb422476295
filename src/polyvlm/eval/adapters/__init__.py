"""The model under test: an OpenAI-compatible endpoint, a transformers image-text-to-text model, or a polyvlm
model — behind one small interface (adapters/base.py), chosen by a spec string (adapters/spec.py)."""
