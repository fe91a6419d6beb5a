"""Hypothesis settings for the fuzz tests: a quick pass in `make test`, a long one in `make fuzz`.

Two profiles are registered: ``ftiscan-fuzz-quick`` (the default, a few dozen examples a
test, so that the whole folder stays under a minute) and ``ftiscan-fuzz`` (selected by
``FTISCAN_FUZZ=1``, or ``FTISCAN_FUZZ=<examples>`` for a count; `make fuzz` sets it).
The fuzz tests take their settings from `FUZZ` (scaled per test by `fuzz_settings`)
instead of loading a profile, so the rest of the suite keeps Hypothesis' defaults.

The long profile keeps a Hypothesis example database under ``.hypothesis/`` (ignored by
git) so that a failure found once is replayed first on the next run; the quick one keeps
none and is derandomized, so `make test` is the same on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

__all__ = ["FUZZ", "LONG", "fuzz_settings"]

_RAW = os.environ.get("FTISCAN_FUZZ", "").strip()
LONG = _RAW not in ("", "0")
"""True in `make fuzz` (``FTISCAN_FUZZ`` set to anything but 0)."""

_LONG_EXAMPLES = int(_RAW) if _RAW.isdigit() and int(_RAW) > 1 else 2000
_QUICK_EXAMPLES = 25

_COMMON = {
    "deadline": None,  # parsers of large seeds take a while; hangs are caught by the alarm
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

settings.register_profile(
    "ftiscan-fuzz",
    max_examples=_LONG_EXAMPLES,
    database=DirectoryBasedExampleDatabase(".hypothesis/ftiscan-fuzz"),
    **_COMMON,  # type: ignore[arg-type]  # a dict of settings keyword arguments
)
settings.register_profile(
    "ftiscan-fuzz-quick",
    max_examples=_QUICK_EXAMPLES,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    derandomize=True,  # `make test` sees the same examples on every run
    **_COMMON,  # type: ignore[arg-type]  # a dict of settings keyword arguments
)

FUZZ = settings.get_profile("ftiscan-fuzz" if LONG else "ftiscan-fuzz-quick")
"""The settings of the selected profile."""


def fuzz_settings(weight: float = 1.0) -> settings:
    """`FUZZ` with ``weight`` times its example count (at least 1): a slow target (a
    served request, a 7z archive) asks for fewer examples, a cheap one for more."""
    return settings(FUZZ, max_examples=max(1, round(FUZZ.max_examples * weight)))
