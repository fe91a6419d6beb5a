"""Chain checks: every way a set of one agent's reports can be broken has its name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.chain import Link, check_chain

KEY, OTHER = "a" * 64, "b" * 64


def _links(n: int, key: str = KEY, tag: str = "") -> list[Link]:
    out: list[Link] = []
    previous = None
    for seq in range(1, n + 1):
        digest = f"sha256:{key[:8]}{tag}{seq:056d}"
        out.append(Link(f"{seq:03d}{tag}.json", key, seq, previous, digest))
        previous = digest
    return out


def _kinds(links: list[Link], **kw: object) -> list[tuple[str, tuple[int, ...]]]:
    chains = check_chain(links, **kw)  # type: ignore[arg-type]  # keyword pass-through
    return [(p.kind, p.sequences) for c in chains for p in c.problems]


def test_chain_intact_has_no_problem() -> None:
    """Five linked reports in order: one chain, 1-5, no problem."""
    [chain] = check_chain(_links(5))
    assert (chain.first, chain.last, chain.reports, chain.problems) == (1, 5, 5, [])


def test_chain_deleted_report_is_a_gap() -> None:
    """Dropping sequence 3 is a gap between 2 and 4, and nothing else."""
    links = _links(5)
    del links[2]
    [chain] = check_chain(links)
    assert [(p.kind, p.sequences) for p in chain.problems] == [("gap", (2, 4))]
    assert chain.problems[0].message == "gap: sequence 3 missing between 2 and 4"


def test_chain_two_deleted_reports_name_the_range() -> None:
    """Dropping 2 and 3 names the range 2-3."""
    links = _links(5)
    del links[1:3]
    [chain] = check_chain(links)
    assert chain.problems[0].message == "gap: sequence 2-3 missing between 1 and 4"


def test_chain_swapped_reports_are_a_reorder() -> None:
    """Files given out of sequence order are a reorder with both sequence numbers."""
    links = _links(4)
    links[1], links[2] = links[2], links[1]
    assert _kinds(links) == [("reorder", (3, 2))]


def test_chain_same_report_twice_is_a_duplicate() -> None:
    """The same envelope twice is a duplicate, not a fork."""
    links = _links(3)
    links.insert(2, links[1])
    assert _kinds(links) == [("duplicate", (2,))]


def test_chain_fork_two_reports_one_sequence() -> None:
    """Two different reports with sequence 3 are a fork at 3; the one that the next
    report does not follow is not named twice."""
    links = _links(4)
    rogue = Link("003-rogue.json", KEY, 3, links[1].digest, "sha256:" + "f" * 64)
    links.insert(3, rogue)
    assert _kinds(links) == [("fork", (3,))]


def test_chain_fork_wrong_previous() -> None:
    """A report whose previous is not its predecessor's digest is a fork between them."""
    links = _links(3)
    links[2] = Link("003.json", KEY, 3, "sha256:" + "e" * 64, links[2].digest)
    assert _kinds(links) == [("fork", (2, 3))]


def test_chain_report_from_another_key() -> None:
    """A report of another agent among this agent's is named as other-key."""
    links = _links(3)
    links.insert(1, _links(2, OTHER)[1])
    assert _kinds(links) == [("other-key", (2,))]
    assert _kinds(links, expect_key=OTHER) == [
        ("other-key", (1,)),
        ("other-key", (2,)),
        ("other-key", (3,)),
    ]


def test_chain_fleet_checks_one_chain_per_key() -> None:
    """With fleet, two agents' intact chains are two intact chains."""
    chains = check_chain(_links(3) + _links(2, OTHER), fleet=True)
    assert [(c.key_id, c.first, c.last, c.problems) for c in chains] == [
        (KEY, 1, 3, []),
        (OTHER, 1, 2, []),
    ]


def test_chain_bad_start() -> None:
    """Sequence 1 with a previous, or a later sequence without one, is a bad start."""
    first = Link("001.json", KEY, 1, "sha256:" + "c" * 64, "sha256:" + "d" * 64)
    assert _kinds([first]) == [("bad-start", (1,))]
    later = Link("007.json", KEY, 7, None, "sha256:" + "d" * 64)
    assert _kinds([later]) == [("bad-start", (7,))]


def test_chain_partial_set_is_not_a_break() -> None:
    """Holding sequences 4-6 only is fine: first says where the set starts."""
    [chain] = check_chain(_links(6)[3:])
    assert (chain.first, chain.last, chain.problems) == (4, 6, [])


@given(st.integers(2, 30), st.data())
def test_chain_any_single_deletion_is_exactly_one_gap(n: int, data: st.DataObject) -> None:
    """Deleting any one inner report of an intact chain gives exactly one gap there."""
    links = _links(n + 1)
    index = data.draw(st.integers(1, n - 1))
    del links[index]
    assert _kinds(links) == [("gap", (index, index + 2))]
