"""polyvlm: build vision-language models for languages other than English."""

__version__ = "0.1.0"
