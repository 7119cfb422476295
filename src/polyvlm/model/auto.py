"""Import this module to register every PolyVLM class with transformers' Auto classes in-process.

After ``import polyvlm.model.auto`` a saved PolyVLM directory loads with ``AutoConfig``,
``AutoModelForImageTextToText``, ``AutoImageProcessor`` and ``AutoProcessor``, no ``trust_remote_code``.
Each class registers itself where it is defined; this module only makes sure all of them are imported.
"""

from __future__ import annotations

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.image_processing import PolyVLMImageProcessor
from polyvlm.model.modeling import PolyVLMForConditionalGeneration
from polyvlm.model.processing import PolyVLMProcessor

__all__ = ["PolyVLMConfig", "PolyVLMForConditionalGeneration", "PolyVLMImageProcessor", "PolyVLMProcessor"]
