"""Per-file findings: distinct records by keyed fingerprint, severity, masked forms.

Records are keyed by HMAC-SHA-256 under the fleet (or per-install) key, never by
the value: the accumulator holds no plaintext after `add` returns. A record counts
once per file, under the strongest rule it reached (a TIN seen alone on line 3 and
with a name and home address on line 40 is one taxpayer record).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import methodcaller
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: str
    rank: int


RULES = {
    rule.id: rule
    for rule in (
        Rule(
            "fti.edm-record",
            "Records of the disclosed list (exact data match)",
            "critical",
            5,
        ),
        Rule("fti.taxpayer-record", "Taxpayer records: TIN + name + home address", "critical", 5),
        Rule(
            "fti.marked-name-address",
            "Name + address records under an FTI marking or IRS record fields",
            "critical",
            5,
        ),
        Rule("fti.tin-name", "Taxpayer identity: TIN + name", "high", 4),
        Rule("fti.tin-address", "Taxpayer identity: TIN + street address", "high", 4),
        Rule(
            "fti.tin", "Valid taxpayer identification numbers without name or address", "medium", 2
        ),
        Rule("fti.provenance", "FTI marking or IRS record fields without records", "low", 1),
        Rule("fti.reference", "Reference to IRC 6103 or return information", "info", 0),
    )
}
MAX_LOCATIONS = 100


def position_of(where: dict[str, Any]) -> tuple[Any, ...]:
    """Where a location stands in its file, for keeping the first `MAX_LOCATIONS` in
    file order whatever order the extractor yields them in."""
    return (
        where.get("page", 0),
        where.get("sheet", ""),
        where.get("line") or where.get("row") or 0,
        where.get("column", 0),
    )


def fingerprint(key: bytes, kind: str, value: str) -> str:
    """Keyed fingerprint of one normalised value (hex HMAC-SHA-256)."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


_SHA256_BLOCK = 64


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA-256 (RFC 2104) for ``key``."""
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return key.translate(_XOR_36), key.translate(_XOR_5C)


_XOR_36 = bytes(byte ^ 0x36 for byte in range(256))
_XOR_5C = bytes(byte ^ 0x5C for byte in range(256))
_DIGEST, _HEXDIGEST = methodcaller("digest"), methodcaller("hexdigest")


def fingerprints(pads: tuple[bytes, bytes], kind: str, values: Iterable[str]) -> list[str]:
    """`fingerprint` of each value, under the key whose `hmac_pads` are ``pads``: the
    HMAC written out as two SHA-256 passes by C-level maps (``hmac.digest`` looks the
    algorithm up again for every value: twice the time for a table's 47,000 TINs).

    >>> pads = hmac_pads(b"k" * 32)
    >>> fingerprints(pads, "tin", ["1", "2"]) == [fingerprint(b"k" * 32, "tin", v) for v in "12"]
    True
    """
    inner, outer = pads
    messages = map(str.encode, map(f"{kind}:".__add__, values))
    digests = map(_DIGEST, map(hashlib.sha256, map(inner.__add__, messages)))
    return list(map(_HEXDIGEST, map(hashlib.sha256, map(outer.__add__, digests))))


def _first_two(item: tuple[tuple[Any, ...], int, dict[str, Any]]) -> tuple[tuple[Any, ...], int]:
    return item[0], item[1]


@dataclass(slots=True)
class _RuleState:
    locations: list[tuple[tuple[Any, ...], int, dict[str, Any]]] = field(default_factory=list)
    cutoff: tuple[Any, ...] | None = None  # once full: the last position kept
    hits: int = 0
    masks: set[str] = field(default_factory=set)
    signatures: set[str] = field(default_factory=set)


class FileFindings:
    """Collects record evidence for one file (or member) and renders its findings."""

    def __init__(self, key: bytes) -> None:
        self._pads = hmac_pads(key)  # keyed once (`fingerprints`)
        self._best: dict[str, str] = {}  # fingerprint -> rule id
        self._rules: dict[str, _RuleState] = {}

    def add(
        self,
        rule_id: str,
        kind: str,
        value: str,
        where: dict[str, Any] | Callable[[], dict[str, Any]],
        masked: str,
        signature: str = "",
        floor: tuple[Any, ...] | None = None,
    ) -> None:
        """Record one occurrence; ``value`` is hashed at once and not kept. ``where``
        may be a function that makes the location, called only when the location is
        kept (the first `MAX_LOCATIONS` of a rule in file order); ``floor``, a
        `position_of` no later than the location's, tells without making it that a
        rule's first locations are all before it."""
        if value:
            self._keep_best(fingerprints(self._pads, kind, (value,)), rule_id)
        state = self._rules.setdefault(rule_id, _RuleState())
        state.hits += 1
        if state.cutoff is None or floor is None or floor < state.cutoff:
            self._locate(state, where() if callable(where) else where, state.hits)
        if masked:
            state.masks.add(masked)
        if signature:
            state.signatures.add(signature)

    def add_many(
        self,
        rule_id: str,
        kind: str,
        values: list[str],
        masks: Iterable[str],
        signatures: Iterable[str],
        where: Callable[[int], dict[str, Any]],
        floor: tuple[Any, ...],
    ) -> None:
        """`add` of several occurrences of one rule (a table's TIN column): ``values``
        (none empty) in file order, ``where(i)`` the location of the i-th, made only
        while it may be kept, ``floor`` no later than the first's. The values are
        hashed by C-level maps, without a Python step each."""
        if not values:
            return
        self._keep_best(fingerprints(self._pads, kind, values), rule_id)
        state = self._rules.setdefault(rule_id, _RuleState())
        first = state.hits
        state.hits += len(values)
        if state.cutoff is None or floor < state.cutoff:
            for index in range(len(values)):
                if not self._locate(state, where(index), first + index + 1):
                    break  # in file order: the later ones are not kept either
        state.masks.update(masks)
        state.masks.discard("")
        state.signatures.update(signatures)
        state.signatures.discard("")

    def _keep_best(self, prints: Iterable[str], rule_id: str) -> None:
        """Each fingerprint counts under the strongest rule it reached (the first of
        equal ones)."""
        rank = RULES[rule_id].rank
        best = self._best
        fresh = dict.fromkeys(prints, rule_id)
        for fp in fresh.keys() & best.keys():
            if RULES[best[fp]].rank >= rank:
                del fresh[fp]
        best.update(fresh)

    @staticmethod
    def _locate(state: _RuleState, where: dict[str, Any], hit: int) -> bool:
        """Keep ``where`` (the ``hit``-th occurrence) among the rule's first locations
        if it is one of them; False when it is not."""
        position = position_of(where)
        if state.cutoff is not None and position >= state.cutoff:
            return False
        state.locations.append((position, hit, where))
        if len(state.locations) >= 2 * MAX_LOCATIONS:
            state.locations.sort(key=_first_two)
            del state.locations[MAX_LOCATIONS:]
            state.cutoff = state.locations[-1][0]
        return True

    def has(self, rule_id: str) -> bool:
        return rule_id in self._rules

    def findings(self, path: str, member: str | None, approved: bool) -> list[dict[str, Any]]:
        """One finding per rule that still holds records after the strongest-rule merge."""
        by_rule: dict[str, list[str]] = {}
        for fp, rule_id in self._best.items():
            by_rule.setdefault(rule_id, []).append(fp)
        out = []
        for rule_id, state in self._rules.items():
            prints = sorted(by_rule.get(rule_id, []))
            rule = RULES[rule_id]
            keyed = rule_id not in ("fti.provenance", "fti.reference")
            if keyed and not prints:
                continue  # every record here reached a stronger rule
            finding: dict[str, Any] = {
                "path": path,
                "rule": rule_id,
                "title": rule.title,
                "severity": "info" if approved else rule.severity,
                "records": len(prints),
                "hits": state.hits,
                "locations": [where for _, _, where in sorted(state.locations, key=_first_two)][
                    :MAX_LOCATIONS
                ],
                "fingerprints": prints,
                "masked": sorted(state.masks),
                "signatures": sorted(state.signatures),
            }
            if member is not None:
                finding["member"] = member
            if approved:
                finding["approved_location"] = True
            out.append(finding)
        out.sort(key=lambda f: (-SEVERITY_RANK[f["severity"]], f["rule"]))
        return out
