"""Progress on a terminal: files, bytes, rate, ETA and the current folder.

Shown only when standard error is a TTY and --quiet is not given. It never shows
file contents; folder names come from the walk, never from what was read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Never

from tqdm import tqdm

from ftiscan.scanner.engine import WalkTotals
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import Skipped


class Progress:
    """Callable passed to `run_scan`; a context manager that closes the bar."""

    def __init__(self, totals: WalkTotals, enabled: bool) -> None:
        self.totals = totals
        self.files = 0
        self.folder = ""
        self.bar: tqdm[Never] | None = None
        if enabled:
            # A pseudo-terminal without a window size reports 0 x 0, and tqdm then
            # draws nothing: fall back to COLUMNS (else 100) and 24 rows.
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            fixed = None if width else int(os.environ.get("COLUMNS", "100"))
            self.bar = tqdm(
                total=0,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                dynamic_ncols=fixed is None,
                ncols=fixed,
                nrows=None if width else 24,
                leave=False,
                mininterval=0.25,
            )

    @staticmethod
    def wanted(quiet: bool) -> bool:
        return not quiet and sys.stderr.isatty()

    def __call__(self, result: FileOutcome | Skipped | None, _folder: Path | None) -> None:
        if self.bar is None or result is None:
            return
        self.files += 1
        total = self.totals.bytes
        if total != self.bar.total:
            self.bar.total = total
        folder = str(result.path.parent)
        self.folder = folder if len(folder) <= 40 else "..." + folder[-37:]
        self._postfix()
        self.bar.update(result.size)

    def _postfix(self) -> None:
        assert self.bar is not None
        more = "" if self.totals.done else "+"
        found = f"{self.files}/{self.totals.files}{more} files"
        self.bar.set_postfix_str(f"{found} {self.folder}", refresh=False)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.totals.done = True
            self._postfix()
            self.bar.refresh()  # the final count, even for a scan shorter than one tick
            self.bar.close()
