"""Offline bundles: written signed, read back byte for byte, anything changed refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftiscan.agent.keys import public_pem
from ftiscan.reports import dsse
from ftiscan.reports.bundle import (
    MANIFEST,
    PUBLIC_KEY,
    BundleError,
    Limits,
    open_bundle,
    read_bundle,
    write_bundle,
)
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.protocol import BUNDLE_TYPE

KEY = Ed25519PrivateKey.generate()


def _envelopes(key: Ed25519PrivateKey, sequences: list[int]) -> list[tuple[int, bytes]]:
    return [
        (n, dsse.sign(canonical_bytes({"id": f"r{n}", "pad": "x" * 300}), key)) for n in sequences
    ]


ENVELOPES = _envelopes(KEY, [2, 3, 5])


def _bundle(tmp_path: Path, envelopes: list[tuple[int, bytes]] = ENVELOPES) -> Path:
    path = tmp_path / "out" / "bundle.zip"
    write_bundle(path, KEY, envelopes, created="2026-12-02T00:00:00Z")
    return path


def _rezip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _reason(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits)
    return caught.value.reason


def test_bundle_round_trips_the_envelopes_byte_for_byte(tmp_path: Path) -> None:
    """The reader returns exactly the envelopes written, in sequence order."""
    path = _bundle(tmp_path)
    assert read_bundle(path) == [envelope for _, envelope in ENVELOPES]
    bundle = open_bundle(path)
    assert bundle.sequences == (2, 3, 5)
    assert bundle.agent == dsse.key_id(KEY.public_key())
    assert bundle.created == "2026-12-02T00:00:00Z"
    assert sorted(_members(path)) == [
        PUBLIC_KEY,
        MANIFEST,
        "reports/000000000002.dsse.json",
        "reports/000000000003.dsse.json",
        "reports/000000000005.dsse.json",
    ]
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary file left


def test_bundle_is_reproducible(tmp_path: Path) -> None:
    """The same reports and time give the same bytes (members carry no time stamp)."""
    one, two = tmp_path / "1.zip", tmp_path / "2.zip"
    write_bundle(one, KEY, ENVELOPES, created="2026-12-02T00:00:00Z")
    write_bundle(two, KEY, ENVELOPES, created="2026-12-02T00:00:00Z")
    assert one.read_bytes() == two.read_bytes()


def test_bundle_writer_refuses_sequences_out_of_order(tmp_path: Path) -> None:
    """Sequences must ascend; nothing is left behind when they do not."""
    with pytest.raises(ValueError, match="sequence 2 after 3: not ascending"):
        write_bundle(tmp_path / "b.zip", KEY, [ENVELOPES[1], ENVELOPES[0]])
    assert list(tmp_path.iterdir()) == []


def test_bundle_with_a_changed_report_is_tampered(tmp_path: Path) -> None:
    """A report member swapped for another validly signed one fails its signed digest."""
    path = _bundle(tmp_path)
    members = _members(path)
    other = dsse.sign(canonical_bytes({"id": "r3", "pad": "y" * 300}), KEY)
    members["reports/000000000003.dsse.json"] = other
    _rezip(path, members)
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    assert caught.value.reason == "tampered"
    assert str(caught.value) == (
        f"{path}: tampered: reports/000000000003.dsse.json: digest is not the one signed"
    )


def test_bundle_signed_by_another_key_than_it_carries_is_foreign(tmp_path: Path) -> None:
    """Replacing agent.pub (to pass someone else's reports off) is refused."""
    path = _bundle(tmp_path)
    members = _members(path)
    other = Ed25519PrivateKey.generate()
    members[PUBLIC_KEY] = public_pem(other.public_key())
    _rezip(path, members)
    assert _reason(path) == "foreign"


def test_bundle_of_reports_by_another_key_is_foreign(tmp_path: Path) -> None:
    """A manifest signed by the bundle's key cannot vouch for another key's reports."""
    path = tmp_path / "b.zip"
    write_bundle(path, KEY, _envelopes(Ed25519PrivateKey.generate(), [1]))
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    assert caught.value.reason == "foreign"
    assert "report 1: unknown-key" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "reason", "detail"),
    [
        ("drop-member", "truncated", "member 'reports/000000000005.dsse.json' is missing"),
        ("extra-member", "not-bundle", "member 'notes.txt' is not in the manifest"),
        ("no-manifest", "not-bundle", "no manifest.dsse.json"),
        ("no-key", "not-bundle", "no agent.pub"),
        ("bad-key", "not-bundle", "agent.pub is not a PEM public key"),
    ],
)
def test_bundle_layout_changes_are_refused(
    tmp_path: Path, change: str, reason: str, detail: str
) -> None:
    """Each change to the member set is named exactly."""
    path = _bundle(tmp_path)
    members = _members(path)
    if change == "drop-member":
        del members["reports/000000000005.dsse.json"]
    elif change == "extra-member":
        members["notes.txt"] = b"hello"
    elif change == "no-manifest":
        del members[MANIFEST]
    elif change == "no-key":
        del members[PUBLIC_KEY]
    else:
        members[PUBLIC_KEY] = b"not a key"
    _rezip(path, members)
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    assert (caught.value.reason, caught.value.detail) == (reason, detail)


def test_bundle_with_a_repeated_member_is_refused(tmp_path: Path) -> None:
    """Two members of one name (readers could pick either) are refused."""
    path = _bundle(tmp_path)
    members = _members(path)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(
            "reports/000000000002.dsse.json", members["reports/000000000002.dsse.json"]
        )
    with pytest.raises(BundleError, match="not-bundle: a member name is repeated"):
        read_bundle(path)


def test_bundle_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """A member that inflates past the limit is refused by its declared size; one that
    declares more than deflate can ever give is refused by its ratio."""
    path = tmp_path / "bomb.zip"
    members = _members(_bundle(tmp_path))
    members["reports/000000000005.dsse.json"] = b"\0" * (20 << 20)
    _rezip(path, members)
    with pytest.raises(BundleError) as caught:
        read_bundle(path, Limits(max_envelope=1 << 20))
    assert caught.value.reason == "too-large"
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(b"reports/000000000005.dsse.json"))
    data[entry + 24 : entry + 28] = (60 << 20).to_bytes(4, "little")  # declared size
    path.write_bytes(bytes(data))
    assert _reason(path) == "zip-bomb"


@pytest.mark.parametrize(
    ("limits", "detail"),
    [
        (Limits(max_file=100), "the file is"),
        (Limits(max_envelope=100), "member 'reports/000000000002.dsse.json' is"),
        (Limits(max_total=2000), "members inflate to more than 2000"),
        (Limits(max_reports=2), "more than 2 reports"),
    ],
)
def test_bundle_over_a_limit_is_too_large(tmp_path: Path, limits: Limits, detail: str) -> None:
    """Each limit is checked and named."""
    path = _bundle(tmp_path)
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits)
    assert caught.value.reason == "too-large"
    assert caught.value.detail.startswith(detail)


def test_bundle_that_is_not_a_zip_or_cut_short(tmp_path: Path) -> None:
    """Random bytes are not a bundle; the first half of one is truncated."""
    path = _bundle(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path) == "truncated"
    path.write_bytes(b"hello world")
    assert _reason(path) == "not-bundle"
    path.write_bytes(b"")
    assert _reason(path) == "not-bundle"


def test_bundle_manifest_with_another_type_is_refused(tmp_path: Path) -> None:
    """The manifest must be a bundle manifest signed as one."""
    path = _bundle(tmp_path)
    members = _members(path)
    members[MANIFEST] = dsse.sign(canonical_bytes({"type": "x"}), KEY, BUNDLE_TYPE)
    _rezip(path, members)
    with pytest.raises(BundleError, match="manifest: expected an object with agent"):
        read_bundle(path)
    members[MANIFEST] = dsse.sign(canonical_bytes({"type": "x"}), KEY)
    _rezip(path, members)
    assert _reason(path) == "manifest"


_PRISTINE: dict[str, bytes] = {}
REASONS = {"not-bundle", "too-large", "zip-bomb", "manifest", "foreign", "tampered", "truncated"}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_bundle_any_mutation_is_refused_or_changes_nothing(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Flipped, cut, inserted or overwritten bytes anywhere: the reader either refuses
    the file with a BundleError or returns exactly the original envelopes."""
    path = tmp_path / "m.zip"
    if not path.exists():
        write_bundle(path, KEY, ENVELOPES, created="2026-12-02T00:00:00Z")
        _PRISTINE["bytes"] = path.read_bytes()
    original = _PRISTINE["bytes"]
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "set", "truncate"]))
        at = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if kind == "flip" and mutated:
            mutated[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del mutated[at : at + data.draw(st.integers(1, 64))]
        elif kind == "insert":
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "set" and mutated:
            mutated[at] = data.draw(st.integers(0, 255))
        else:
            del mutated[at:]
    target = tmp_path / "mutated.zip"
    target.write_bytes(bytes(mutated))
    reason = ""
    got: list[bytes] | None = None
    try:
        got = read_bundle(target)
    except BundleError as exc:
        reason = exc.reason
    if got is None:
        assert reason in REASONS
    else:
        assert got == [envelope for _, envelope in ENVELOPES]
