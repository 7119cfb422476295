"""PolyVLM joins transformers' Auto classes when transformers loads them, so ``import polyvlm`` is enough.

``import polyvlm`` must stay cheap (the CLI imports neither torch nor transformers until a model command
runs), so it cannot import the model classes. Instead it installs this import hook: when transformers
finishes loading one of its Auto modules, the PolyVLM module that registers itself there is imported
(the config for AutoConfig, the model for AutoModelForImageTextToText, ...). If transformers loaded
them before polyvlm, they are registered at once. ``import polyvlm.model.auto`` registers everything
explicitly, as before. It lives at the package root, not in ``polyvlm.model``: every layer imports
``polyvlm`` (for its version), and it names the model modules only as strings, imported at run time.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

# transformers' Auto module -> the PolyVLM module whose import registers PolyVLM with it
REGISTRARS = {
    "transformers.models.auto.configuration_auto": "polyvlm.model.configuration",
    "transformers.models.auto.modeling_auto": "polyvlm.model.modeling",
    "transformers.models.auto.image_processing_auto": "polyvlm.model.image_processing",
    "transformers.models.auto.processing_auto": "polyvlm.model.processing",
}


class _RegisterAfter:  # a loader by duck typing: importlib.abc alone costs ~0.1 s to import
    """Runs the real loader, then imports the PolyVLM module that registers with the loaded one."""

    def __init__(self, loader, registrar: str):
        self.loader, self.registrar = loader, registrar

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        importlib.import_module(self.registrar)


class _AutoFinder:  # a meta path finder by duck typing
    """Finds transformers' Auto modules with the other finders and wraps their loaders."""

    def find_spec(self, name, path, target=None):
        if name not in REGISTRARS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _RegisterAfter(spec.loader, REGISTRARS[name])
                return spec
        return None


def install() -> None:
    """Register now with the Auto modules already loaded; hook the rest (once per process)."""
    for auto, registrar in REGISTRARS.items():
        if auto in sys.modules:
            importlib.import_module(registrar)
    if not any(isinstance(f, _AutoFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AutoFinder())
