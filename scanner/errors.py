"""Errors raised by the scan engine.

One base class; subclasses are named for what went wrong. Messages say expected versus
seen and never carry scanned content (non-negotiable 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class FtiscanError(Exception):
    """Base class of every error ftiscan raises on purpose."""

    exit_code: ClassVar[int] = 2


class InvalidFormat(FtiscanError, ValueError):
    """A value does not have the shape of the identifier (length, characters)."""


class InvalidComponent(FtiscanError, ValueError):
    """A value has the right shape but a part the issuer never assigns."""


class PackError(FtiscanError):
    """A signature pack is malformed: names file, line, column and reason."""

    def __init__(self, path: Path | str, line: int, column: int, reason: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {reason}")
        self.path, self.line, self.column, self.reason = Path(path), line, column, reason


class ConfigError(FtiscanError):
    """A policy or configuration file is malformed: file, line (and column) and reason."""

    def __init__(self, path: Path | str, line: int, reason: str, column: int | None = None) -> None:
        where = f"{path}:{line}:{column}" if column is not None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.column, self.reason = Path(path), line, column, reason


class ExtractError(FtiscanError):
    """A file could not be read; `reason` is the coverage reason (e.g. ``corrupt``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


class LimitExceeded(ExtractError):
    """A configured limit was hit; reason is ``limit:<name>``."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(f"limit:{name}", detail)


class SelfTestError(FtiscanError):
    """The engine failed to see its own examples or canaries: the scan must not run."""
