"""Offline bundles damaged inside: `read_bundle` refuses with a reason or returns the originals.

`tests/reports/test_bundle.py` damages the bundle's bytes, which mostly breaks the zip's
CRCs. Here the damage is made inside the members and the zip is written again, so it
gets past the zip layer: a member's bytes edited, a member renamed, added, dropped or
repeated, and the manifest's payload damaged and signed again with the bundle's own
key (a broken writer). The property: a `BundleError` whose ``reason`` is one of the
documented codes, or exactly the original envelopes; never another exception.
"""

from __future__ import annotations

import base64
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports import dsse
from ftiscan.reports.bundle import MANIFEST, BundleError, read_bundle, write_bundle
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.protocol import BUNDLE_TYPE
from tests.fuzz._guard import no_hang
from tests.fuzz._mutate import apply, edits, text_edits
from tests.fuzz._profile import fuzz_settings

REASONS = {"not-bundle", "too-large", "zip-bomb", "manifest", "foreign", "tampered", "truncated"}
"""`BundleError.reason` codes."""

KEY = Ed25519PrivateKey.generate()
ENVELOPES = [(n, dsse.sign(canonical_bytes({"n": n, "note": "synthetic"}), KEY)) for n in (1, 2, 4)]


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("bundle") / "b.zip"
    write_bundle(path, KEY, ENVELOPES, created="2026-12-02T00:00:00Z")
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, items: list[tuple[str, bytes]], stored: bool) -> None:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        for name, data in items:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)


def _read(path: Path) -> list[bytes] | None:
    """The envelopes, or None when refused (with a documented reason)."""
    error: BundleError | None = None
    try:
        with no_hang():
            got = read_bundle(path)
    except BundleError as exc:
        error = exc
    if error is not None:
        assert error.reason in REASONS
        return None
    return got


def _manifest_payload(manifest: bytes) -> bytes:
    return base64.b64decode(json.loads(manifest)["payload"])


@fuzz_settings(3)
@given(st.data())
def test_fuzz_bundle_damaged_inside_is_refused_or_unchanged(
    tmp_path_factory: pytest.TempPathFactory, members: dict[str, bytes], data: st.DataObject
) -> None:
    """Members edited, renamed, added, dropped or repeated, or the manifest's payload
    damaged and signed again by the bundle's key: refused with a reason code, or the
    original envelopes exactly."""
    items = list(members.items())
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        kind = data.draw(
            st.sampled_from(["edit", "rename", "add", "drop", "repeat", "resign"]), label="kind"
        )
        at = data.draw(st.integers(0, max(0, len(items) - 1)), label="member")
        if not items:
            break
        name, body = items[at]
        if kind == "edit":
            items[at] = (name, apply(body, data.draw(edits(), label="edits")))
        elif kind == "rename":
            new = data.draw(
                st.sampled_from(
                    ["reports/000000000003.dsse.json", "../x", "reports/1.dsse.json", "", "a/"]
                ),
                label="name",
            )
            items[at] = (new, body)
        elif kind == "add":
            items.append((data.draw(st.text(min_size=1, max_size=30), label="added"), body))
        elif kind == "drop":
            del items[at]
        elif kind == "repeat":
            items.append((name, body))
        else:
            payload = _manifest_payload(members[MANIFEST])
            damaged = apply(payload, data.draw(text_edits(), label="payload edits"))
            manifest = dsse.sign(damaged, KEY, BUNDLE_TYPE)
            items = [(n, manifest if n == MANIFEST else b) for n, b in items]
    path = tmp_path_factory.mktemp("bundle") / "m.zip"
    try:
        _write(path, items, data.draw(st.booleans(), label="stored"))
    except (ValueError, UnicodeEncodeError):
        return  # zipfile itself refuses to write such a name
    got = _read(path)
    assert got is None or got == [envelope for _, envelope in ENVELOPES]
