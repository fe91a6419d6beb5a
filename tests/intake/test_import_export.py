"""Offline bundles in, and the court export out: the same checks as HTTP, and an
export that `ftiscan verify` (and OpenSSL for the keys) accepts offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.bundle import write_bundle
from ftiscan.reports.canonical import parse
from ftiscan.reports.intake.service import EXPORT_TYPE, Intake, IntakeError
from ftiscan.reports.receipt import verify_receipt
from tests.agent.conftest import FTISCAN, private_env
from tests.intake.conftest import SyntheticAgent, enroll_agent, finding


def _bundle(tmp_path: Path, agent: SyntheticAgent, sequences: list[int], name: str) -> Path:
    path = tmp_path / name
    write_bundle(path, agent.key, [(s, agent.envelopes[s]) for s in sequences])
    return path


def _public(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    return key


def test_import_bundle_fills_a_gap_and_resends_are_duplicates(
    intake: Intake, tmp_path: Path
) -> None:
    """A bundle's reports go through accept: stored, then duplicates with the same
    receipts; a bundle filling a gap closes it."""
    agent = enroll_agent(intake)
    for _ in range(4):
        agent.report(findings=[finding("/home/user/a.csv")])
    intake.accept(agent.envelopes[1])
    intake.accept(agent.envelopes[4])
    bundle = _bundle(tmp_path, agent, [1, 2, 3], "offline.zip")
    got = intake.import_bundle(bundle)
    assert [(r["sequence"], r["status"], r["code"]) for r in got] == [
        (1, "duplicate", None),
        (2, "stored", None),
        (3, "stored", None),
    ]
    intake_key = _public(intake.intake_key_pem.encode("ascii"))
    for entry in got:
        seq = entry["sequence"]
        receipt = entry["receipt"].encode("ascii")
        verify_receipt(receipt, intake_key, agent.envelopes[seq], agent.key_id, seq)
    assert intake.fleet()["hosts"][0]["chain"]["gaps"] == []
    again = intake.import_bundle(bundle)
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [r["receipt"] for r in again] == [r["receipt"] for r in got]


def test_import_bundle_refuses_per_report_with_the_http_codes(
    intake: Intake, tmp_path: Path
) -> None:
    """An unenrolled agent's bundle is refused report by report (unknown-key); a
    forked report in a bundle is refused while the others are stored."""
    stranger = SyntheticAgent("stranger.example.gov")
    stranger.report()
    got = intake.import_bundle(_bundle(tmp_path, stranger, [1], "stranger.zip"))
    assert [(r["sequence"], r["status"], r["code"]) for r in got] == [(1, "refused", "unknown-key")]
    agent = enroll_agent(intake)
    agent.report()
    intake.accept(agent.envelopes[1])
    agent.envelopes[2] = agent.sign(agent.payload(), 2, "sha256:" + "0" * 64)
    agent.sequence, agent.previous = 2, dsse.digest(agent.envelopes[2])
    agent.report()
    got = intake.import_bundle(_bundle(tmp_path, agent, [2, 3], "forked.zip"))
    assert [(r["sequence"], r["status"], r["code"]) for r in got] == [
        (2, "refused", "fork"),
        (3, "stored", None),
    ]
    assert got[0]["reason"].startswith("sequence 2 names previous 000000000000")


def test_import_bundle_untrusted_bundle_is_refused_whole(intake: Intake, tmp_path: Path) -> None:
    """A changed or malformed bundle is refused as a whole with the bundle reader's reason."""
    agent = enroll_agent(intake)
    agent.report()
    good = _bundle(tmp_path, agent, [1], "good.zip")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("reports/"):
                data = data.replace(b'"sig":"', b'"sig":"A', 1)
            dst.writestr(info, data)
    with pytest.raises(IntakeError) as caught:
        intake.import_bundle(tampered)
    assert caught.value.code == "bad-request"
    assert caught.value.reason.startswith("bundle tampered.zip: tampered: ")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    with pytest.raises(IntakeError) as caught:
        intake.import_bundle(not_zip)
    assert caught.value.reason.startswith("bundle notes.zip: not-bundle: ")
    with pytest.raises(IntakeError) as caught:
        intake.import_bundle(tmp_path / "missing.zip")
    assert caught.value.reason == "bundle missing.zip: cannot read (No such file or directory)"
    assert intake.fleet()["hosts"][0]["reports"] == 0


def test_export_verifies_offline(intake: Intake, tmp_path: Path) -> None:
    """The export holds every envelope byte for byte and its receipt; `ftiscan verify
    --fleet` passes on it with the exported keys; receipts and the signed manifest
    verify against the exported intake key."""
    agents = [enroll_agent(intake, SyntheticAgent(f"h{n}.example.gov")) for n in range(2)]
    for agent in agents:
        for number in range(3):
            intake.accept(agent.report(findings=[finding(f"/home/user/{number}.csv")]))
    enroll_agent(intake, SyntheticAgent("quiet.example.gov"))
    out = tmp_path / "export"
    assert intake.export(out) == {"agents": 3, "reports": 6, "receipts": 6}
    intake_key = _public((out / "intake.pem").read_bytes())
    assert dsse.key_id(intake_key) == intake.intake_key_id
    for agent in agents:
        for seq, envelope in agent.envelopes.items():
            name = f"{seq:012d}"
            assert (out / "reports" / agent.key_id / f"{name}.dsse.json").read_bytes() == envelope
            receipt = (out / "receipts" / agent.key_id / f"{name}.receipt.dsse.json").read_bytes()
            verify_receipt(receipt, intake_key, envelope, agent.key_id, seq)
    manifest_bytes = (out / "manifest.json").read_bytes()
    signed = dsse.verify(
        (out / "manifest.dsse.json").read_bytes(), {intake.intake_key_id: intake_key}, EXPORT_TYPE
    )
    assert signed.payload == manifest_bytes
    manifest = parse(manifest_bytes)
    assert manifest["type"] == "ftiscan.intake-export/v1"
    assert [a["key_id"] for a in manifest["agents"]] == sorted(
        a["key_id"] for a in manifest["agents"]
    )
    assert sorted((a["host_id"], a["reports"], a["gaps"]) for a in manifest["agents"]) == [
        ("h0.example.gov", 3, []),
        ("h1.example.gov", 3, []),
        ("quiet.example.gov", 0, []),
    ]
    for entry in manifest["files"]:
        assert dsse.digest((out / entry["path"]).read_bytes()) == entry["digest"]
    assert len(manifest["files"]) == 1 + 3 + 12
    keys = [arg for a in agents for arg in ("--key", str(out / "keys" / f"{a.key_id}.pem"))]
    result = subprocess.run(
        [str(FTISCAN), "verify", "--fleet", "--format", "json", str(out / "reports"), *keys],
        capture_output=True,
        text=True,
        env=private_env(tmp_path),
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    assert outcome["valid"] is True
    assert len(outcome["files"]) == 6
    if shutil.which("openssl"):
        for agent in agents:
            pem = out / "keys" / f"{agent.key_id}.pem"
            der = subprocess.run(
                ["openssl", "pkey", "-pubin", "-in", str(pem), "-outform", "DER"],
                capture_output=True,
                check=True,
            ).stdout
            assert dsse.digest(der) == "sha256:" + agent.key_id


def test_export_needs_an_empty_folder(intake: Intake, tmp_path: Path) -> None:
    """An export never mixes with or overwrites other files."""
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    with pytest.raises(IntakeError) as caught:
        intake.export(tmp_path / "busy")
    assert (caught.value.code, caught.value.reason) == (
        "bad-request",
        f"{tmp_path / 'busy'}: the export folder must be empty or new",
    )
