"""The chain of one agent's reports, and what can be wrong with a set of them.

Every report an agent signs carries ``chain``: the agent's key id, a sequence number
(1, 2, 3, ... with no gaps) and ``previous``, the ``sha256:`` digest of the agent's
previous envelope file (null for sequence 1). Given several verified reports,
`check_chain` names each break exactly:

* ``gap``: sequences missing between two reports (a report was dropped);
* ``duplicate``: the same envelope twice (harmless, but said);
* ``fork``: two different reports with one sequence number, or a report whose
  ``previous`` is not the digest of the report before it;
* ``reorder``: the files, in the order given (a folder: by name), are not in sequence
  order;
* ``other-key``: a report from another key in the set (``expect_key``, or the key
  of the first report); with ``fleet`` every key is its own chain instead;
* ``bad-start``: sequence 1 names a previous report, or a later one names none.

A set that starts after sequence 1 is not a break (counsel may hold a part of the
chain); ``Chain.first`` says where it starts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["Chain", "Link", "Problem", "check_chain", "link_of"]


@dataclass(frozen=True, slots=True)
class Link:
    """One verified report's place in its chain."""

    name: str  # the file (for messages)
    key_id: str
    sequence: int
    previous: str | None
    digest: str  # sha256 of this envelope file


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    sequences: tuple[int, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sequences": list(self.sequences), "message": self.message}


@dataclass(slots=True)
class Chain:
    key_id: str
    first: int = 0
    last: int = 0
    reports: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "first": self.first,
            "last": self.last,
            "reports": self.reports,
            "problems": [p.as_dict() for p in self.problems],
        }


def link_of(name: str, signer: str, digest: str, payload: dict[str, Any]) -> Link:
    """The link of a schema-valid payload signed by ``signer``."""
    chain = payload["chain"]
    return Link(name, str(chain["key_id"]), int(chain["sequence"]), chain["previous"], digest)


def _short(digest: str | None) -> str:
    return "none" if digest is None else digest.removeprefix("sha256:")[:12]


def _one_chain(key: str, links: Sequence[Link]) -> Chain:
    chain = Chain(key, reports=len(links))
    problems = chain.problems
    for earlier, later in pairwise(links):
        if later.sequence < earlier.sequence:
            problems.append(
                Problem(
                    "reorder",
                    (earlier.sequence, later.sequence),
                    f"reorder: {later.name} (sequence {later.sequence}) comes after "
                    f"{earlier.name} (sequence {earlier.sequence})",
                )
            )
    by_seq: dict[int, list[Link]] = defaultdict(list)
    for item in links:
        by_seq[item.sequence].append(item)
    order = sorted(by_seq)
    chain.first, chain.last = order[0], order[-1]
    for seq in order:
        group = by_seq[seq]
        digests = {item.digest for item in group}
        if len(group) > len(digests):
            names = ", ".join(item.name for item in group)
            problems.append(Problem("duplicate", (seq,), f"duplicate: sequence {seq} in {names}"))
        if len(digests) > 1:
            names = " and ".join(sorted({item.name for item in group}))
            problems.append(
                Problem("fork", (seq,), f"fork: sequence {seq} differs between {names}")
            )
        for item in group:
            if (seq == 1) != (item.previous is None):
                what = "names a previous report" if seq == 1 else "names no previous report"
                problems.append(
                    Problem("bad-start", (seq,), f"bad-start: {item.name} (sequence {seq}) {what}")
                )
    for before, after in pairwise(order):
        if after > before + 1:
            missing = f"{before + 1}" if after == before + 2 else f"{before + 1}-{after - 1}"
            problems.append(
                Problem(
                    "gap",
                    (before, after),
                    f"gap: sequence {missing} missing between {before} and {after}",
                )
            )
            continue
        known = {item.digest for item in by_seq[before]}
        for item in by_seq[after]:
            if item.previous not in known:
                problems.append(
                    Problem(
                        "fork",
                        (before, after),
                        f"fork: {item.name} (sequence {after}) follows report "
                        f"{_short(item.previous)}, not sequence {before} "
                        f"({', '.join(sorted(_short(d) for d in known))})",
                    )
                )
    return chain


def check_chain(
    links: Sequence[Link], expect_key: str | None = None, fleet: bool = False
) -> list[Chain]:
    """The chains in ``links`` (in the order given) with their problems."""
    if not links:
        return []
    by_key: dict[str, list[Link]] = defaultdict(list)
    for item in links:
        by_key[item.key_id].append(item)
    if fleet:
        return [_one_chain(key, group) for key, group in by_key.items()]
    key = expect_key or links[0].key_id
    chain = _one_chain(key, by_key[key]) if key in by_key else Chain(key)
    for other, group in by_key.items():
        if other == key:
            continue
        for item in group:
            chain.problems.append(
                Problem(
                    "other-key",
                    (item.sequence,),
                    f"other-key: {item.name} (sequence {item.sequence}) is in the chain of "
                    f"key {other[:16]}, not {key[:16]}",
                )
            )
    return [chain]
