"""DeepSpeed, imported on the accelerator this machine has: the one place polyvlm imports it.

Both joining the process group (train/distributed.py) and the engine (train/deepspeed_engine.py) need
it; living apart from both keeps their imports one way (deepspeed_engine -> distributed -> here).
"""

from __future__ import annotations

import os

import torch

from polyvlm.core.errors import RecipeError


def import_deepspeed():
    """``deepspeed``, on the CPU accelerator when there is no GPU (DeepSpeed reads DS_ACCELERATOR at import)."""
    if not torch.cuda.is_available():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    try:
        import deepspeed
    except ImportError as e:
        raise RecipeError(
            "distributed.strategy 'deepspeed' needs DeepSpeed: "
            "DS_BUILD_OPS=0 pip install --no-build-isolation deepspeed (make setup does this)"
        ) from e
    return deepspeed
