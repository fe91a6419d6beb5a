"""Run each signature's own examples through the detector.

Examples never hold a literal SSN: placeholders (``{ssn}``, ``{itin_group89}`` ...)
are filled with values generated here, deterministically per signature and example,
so a pack file never carries a number that could be someone's.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from ftiscan.scanner.detect import Detector
from ftiscan.scanner.packs import Signature
from ftiscan.scanner.validators import dln, ein, itin, ssn


def _draw(rng: random.Random, check: Callable[[str], bool], make: Callable[[], str]) -> str:
    for _ in range(100_000):
        value = make()
        if check(value):
            return value
    raise RuntimeError("could not generate a valid example value")  # pragma: no cover


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def valid_ssn(rng: random.Random) -> str:
    """Nine digits that every SSN rule accepts."""
    return _draw(rng, ssn.is_valid_digits, lambda: _digits(rng, 9))


def _dash(d: str) -> str:
    return f"{d[:3]}-{d[3:5]}-{d[5:]}"


def placeholders(rng: random.Random) -> dict[str, str]:
    """Values for every placeholder an example may use."""
    good = valid_ssn(rng)
    itin_digits = _draw(rng, itin.is_valid_digits, lambda: "9" + _digits(rng, 8))
    ein_digits = _draw(rng, ein.is_valid_digits, lambda: _digits(rng, 9))
    dln_digits = _draw(rng, dln.is_valid, lambda: _digits(rng, 14))
    return {
        "ssn": _dash(good),
        "ssn_spaced": f"{good[:3]} {good[3:5]} {good[5:]}",
        "ssn_bare": good,
        "ssn_advert": _dash("0780" + "51120"),
        "ssn_area000": _dash("000" + good[3:]),
        "ssn_area666": _dash("666" + good[3:]),
        "ssn_group00": _dash(good[:3] + "00" + good[5:]),
        "ssn_serial0000": _dash(good[:5] + "0000"),
        "itin": _dash(itin_digits),
        "itin_group89": _dash(itin_digits[:3] + "89" + itin_digits[5:]),
        "ein": f"{ein_digits[:2]}-{ein_digits[2:]}",
        "ein_prefix07": f"07-{ein_digits[2:]}",
        "dln": dln_digits,
    }


def fill(template: str, seed: str) -> str:
    """The example text with its placeholders replaced (deterministic per seed)."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic example values, not secrets
    return template.format_map(placeholders(rng))


@dataclass(frozen=True, slots=True)
class ExampleResult:
    signature: str
    expected: bool
    index: int
    passed: bool

    @property
    def label(self) -> str:
        side = "match" if self.expected else "no_match"
        return f"{self.signature} {side}[{self.index}]"


def fires(detector: Detector, sig: Signature, text: str) -> bool:
    """Whether ``sig`` itself yields a hit at or above the threshold in ``text``."""
    if sig.kind == "tin":
        return any(h.score >= detector.threshold for h in detector.tins(text, only=sig))
    return any(h.sig.id == sig.id for h in detector.provenance(text))


def run_examples(detector: Detector) -> list[ExampleResult]:
    """Every example of every signature; a failing one says which, never the text."""
    results = []
    for sig in detector.packs.signatures:
        for expected, examples in ((True, sig.examples_match), (False, sig.examples_no_match)):
            for index, template in enumerate(examples):
                text = fill(template, f"{sig.id}/{expected}/{index}")
                ok = fires(detector, sig, text) is expected
                results.append(ExampleResult(sig.id, expected, index, ok))
    return results
