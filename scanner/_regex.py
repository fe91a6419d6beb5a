"""The standard library's regex parser and compiler, for pattern analysis only.

`ftiscan.scanner.detect` reads the parsed form of signature patterns to learn where
their matches can start. These modules are private to CPython (``re._parser`` since
3.11); the detector falls back to plain matching when they change shape.
"""

from __future__ import annotations

import importlib
from types import ModuleType

parser: ModuleType = importlib.import_module("re._parser")
compiler: ModuleType = importlib.import_module("re._compiler")
