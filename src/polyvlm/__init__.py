"""polyvlm: build vision-language models for languages other than English.

Importing it installs a cheap import hook (``polyvlm.auto_hook``): a saved PolyVLM then loads
with transformers' Auto classes (``AutoModelForImageTextToText.from_pretrained(path)``), with no
``trust_remote_code``, whichever of polyvlm and transformers is imported first.
"""

from polyvlm.auto_hook import install as _install_auto_hook

__version__ = "0.1.0"

_install_auto_hook()
