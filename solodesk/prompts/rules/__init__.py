"""One module per rule (or a pair of sibling rules); importing this package registers them
all, families first. Adding a rule = adding one module here."""

from __future__ import annotations

import importlib
import pkgutil

from solodesk.prompts.rules import families  # noqa: F401  (the shared query families)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
