"""Signed, chained reports through the real CLI: keys, verify, OpenSSL, tampering, crashes."""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.agent.conftest import FTISCAN, Run, private_env
from tests.synthetic.report import load_report

REPO = Path(__file__).resolve().parents[2]
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


def _tree(base: Path) -> Path:
    root = base / "tree"
    root.mkdir(parents=True, exist_ok=True)
    (root / "notes.txt").write_text("lunch at noon, bring the agenda\n", encoding="utf-8")
    (root / "memo.txt").write_text("See IRC 6103 on return information.\n", encoding="utf-8")
    return root


def _scan(run_cli: Run, base: Path, report: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli("scan", str(_tree(base)), "--report", str(report), "--quiet", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    return done


def _export(run_cli: Run, base: Path) -> tuple[Path, str]:
    done = run_cli("key", "export")
    assert done.returncode == 0
    pem = base / "agent.pub"
    pem.write_text(done.stdout, encoding="ascii")
    return pem, done.stderr.strip().removeprefix("key id: ")


def _recipe() -> str:
    """The OpenSSL script exactly as the README shows it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- openssl-recipe -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "README has no openssl-recipe block"
    return match.group(1)


def _openssl_verify(work: Path, report: Path, pem: Path) -> subprocess.CompletedProcess[str]:
    work.mkdir(parents=True, exist_ok=True)
    script = work / "verify-report.sh"
    script.write_text(_recipe(), encoding="utf-8")
    return subprocess.run(
        ["bash", str(script), str(report), str(pem)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _chain_dir(base: Path) -> Path:
    [folder] = (base / "state" / "chain").iterdir()
    return folder


# --- keys ---------------------------------------------------------------------------------


def test_keys_made_on_first_use_private_0600(tmp_path: Path, run_cli: Run) -> None:
    """The first scan makes agent.key (0600, folder 0700) and agent.pub; export prints
    the PEM public key and its key id, which is the report's chain key."""
    _scan(run_cli, tmp_path, tmp_path / "r.json")
    keys = tmp_path / "keys"
    assert stat.S_IMODE((keys / "agent.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    pem, kid = _export(run_cli, tmp_path)
    assert pem.read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert re.fullmatch("[0-9a-f]{64}", kid)
    assert load_report(tmp_path / "r.json")["chain"] == {
        "key_id": kid,
        "previous": None,
        "sequence": 1,
    }


def test_keys_readable_by_others_refused(tmp_path: Path, run_cli: Run) -> None:
    """A private key readable by group or others stops the scan with exit 2."""
    _scan(run_cli, tmp_path, tmp_path / "r.json")
    (tmp_path / "keys" / "agent.key").chmod(0o640)
    done = run_cli("scan", str(_tree(tmp_path)), "--quiet")
    assert done.returncode == 2
    assert "agent.key: key file is readable by others (mode 0640); chmod 600 it" in done.stderr


def test_keys_key_dir_option_overrides(tmp_path: Path, run_cli: Run) -> None:
    """--key-dir puts the key elsewhere: two folders, two different keys."""
    first = run_cli("key", "export", "--key-dir", str(tmp_path / "a"))
    second = run_cli("key", "export", "--key-dir", str(tmp_path / "b"))
    assert first.stdout != second.stdout
    assert (tmp_path / "a" / "agent.key").exists()
    assert not (tmp_path / "keys").exists()


# --- verify -------------------------------------------------------------------------------


def test_verify_valid_report_exit_0(tmp_path: Path, run_cli: Run) -> None:
    """A fresh report verifies with the exported key, and with the agent's own key."""
    report = tmp_path / "out" / "r.json"
    _scan(run_cli, tmp_path, report)
    pem, kid = _export(run_cli, tmp_path)
    done = run_cli("verify", str(report), "--key", str(pem))
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0].startswith(f"OK       {report}  sequence 1  key {kid[:16]}")
    assert done.stdout.splitlines()[-1] == "VALID"
    assert run_cli("verify", str(report)).returncode == 0


def test_verify_wrong_key_and_errors(tmp_path: Path, run_cli: Run) -> None:
    """Another agent's key gives exit 1 (unknown-key); no key at all, or a file that is
    not a key, gives exit 2."""
    report = tmp_path / "r.json"
    _scan(run_cli, tmp_path, report)
    other = run_cli("key", "export", "--key-dir", str(tmp_path / "other"))
    pem = tmp_path / "other.pub"
    pem.write_text(other.stdout, encoding="ascii")
    done = run_cli("verify", str(report), "--key", str(pem), "--format", "json")
    assert done.returncode == 1
    [result] = json.loads(done.stdout)["files"]
    assert (result["valid"], result["reason"]) == (False, "unknown-key")
    empty = run_cli("verify", str(report), "--key-dir", str(tmp_path / "none"))
    assert empty.returncode == 2
    assert "no key to verify with" in empty.stderr
    bad = run_cli("verify", str(report), "--key", str(report))
    assert (bad.returncode, "not a PEM public key" in bad.stderr) == (2, True)


def test_verify_folder_names_chain_breaks(tmp_path: Path, run_cli: Run) -> None:
    """The agent's chain folder verifies intact; deleted, swapped, duplicated and
    forked copies are each named with their sequence numbers."""
    for n in range(4):
        _scan(run_cli, tmp_path, tmp_path / f"r{n}.json")
    chain = _chain_dir(tmp_path)
    assert run_cli("verify", str(chain)).stdout.splitlines()[-2:] == [
        f"chain of key {chain.name[:16]}: sequences 1-4, 4 report(s): intact",
        "VALID",
    ]
    files = sorted(chain.iterdir())

    def problems(names: list[tuple[str, Path]]) -> list[str]:
        case = tmp_path / f"case-{len(list(tmp_path.glob('case-*')))}"
        case.mkdir()
        for name, source in names:
            shutil.copy(source, case / name)
        done = run_cli("verify", str(case), "--format", "json")
        assert done.returncode == 1
        [result] = json.loads(done.stdout)["chains"]
        return [p["message"].split(" ")[0] + str(p["sequences"]) for p in result["problems"]]

    assert problems([("1.json", files[0]), ("2.json", files[1]), ("4.json", files[3])]) == [
        "gap:[2, 4]"
    ]
    assert problems([("1.json", files[0]), ("2.json", files[2]), ("3.json", files[1])]) == [
        "reorder:[3, 2]"
    ]
    assert problems([("1.json", files[0]), ("2.json", files[1]), ("3.json", files[1])]) == [
        "duplicate:[2]"
    ]
    # A fork: a second agent state with the same key signs its own sequence 2.
    shutil.copytree(tmp_path / "state", tmp_path / "state-fork")
    for extra in sorted(_chain_dir(tmp_path).iterdir())[1:]:
        (tmp_path / "state-fork" / "chain" / chain.name / extra.name).unlink()
    fork = subprocess.run(
        [str(FTISCAN), "scan", str(_tree(tmp_path)), "--quiet", "--report", str(tmp_path / "f")],
        env={**private_env(tmp_path), "FTISCAN_STATE_DIR": str(tmp_path / "state-fork")},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert fork.returncode == 0
    found = problems([("1.json", files[0]), ("2.json", files[1]), ("2b.json", tmp_path / "f")])
    assert found == ["fork:[2]"]


def test_verify_other_key_in_chain(tmp_path: Path, run_cli: Run) -> None:
    """A report of another agent among this agent's is other-key; --fleet accepts both."""
    _scan(run_cli, tmp_path, tmp_path / "mine" / "1.json")
    other = tmp_path / "other"
    env = {**private_env(other), "FTISCAN_STATE_DIR": str(other / "state")}
    for args in (
        ["scan", str(_tree(other)), "--quiet", "--report", str(tmp_path / "mine" / "2.json")],
        ["key", "export"],
    ):
        done = subprocess.run(
            [str(FTISCAN), *args], env=env, capture_output=True, text=True, check=False
        )
    (other / "other.pub").write_text(done.stdout, encoding="ascii")
    mine, _ = _export(run_cli, tmp_path)
    keys = ["--key", str(mine), "--key", str(other / "other.pub")]
    mixed = run_cli("verify", str(tmp_path / "mine"), *keys)
    assert mixed.returncode == 1
    assert "  other-key: " in mixed.stdout
    assert "(sequence 1) is in the chain of key" in mixed.stdout
    assert run_cli("verify", str(tmp_path / "mine"), *keys, "--fleet").returncode == 0


@needs_openssl
def test_verify_openssl_recipe_from_readme(tmp_path: Path, run_cli: Run) -> None:
    """The README's OpenSSL-only script verifies a real report."""
    report = tmp_path / "r.json"
    _scan(run_cli, tmp_path, report)
    pem, kid = _export(run_cli, tmp_path)
    done = _openssl_verify(tmp_path / "work", report, pem)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "ok: canonical envelope",
        f"ok: key id {kid}",
        "ok: canonical base64",
        "ok: payload type",
        "Signature Verified Successfully",
    ]
    verified = json.loads((tmp_path / "work" / "payload.json").read_bytes())
    assert verified == load_report(report)


@needs_openssl
def test_verify_every_flip_fails_ftiscan_and_openssl(tmp_path: Path, run_cli: Run) -> None:
    """1,000 single-byte changes at random positions: each fails ftiscan verify (exit 1,
    the file named invalid) and the OpenSSL recipe."""
    report = tmp_path / "r.json"
    _scan(run_cli, tmp_path, report)
    pem, _ = _export(run_cli, tmp_path)
    data = report.read_bytes()
    rng = random.Random(1103)
    flips = tmp_path / "flips"
    flips.mkdir()
    for n in range(1000):
        changed = bytearray(data)
        changed[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        (flips / f"{n:04d}.json").write_bytes(bytes(changed))
    done = run_cli("verify", str(flips), "--key", str(pem), "--format", "json")
    assert done.returncode == 1
    results = json.loads(done.stdout)["files"]
    assert [r["valid"] for r in results] == [False] * 1000

    def openssl_fails(path: Path) -> bool:
        return _openssl_verify(tmp_path / "work" / path.stem, path, pem).returncode != 0

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(openssl_fails, sorted(flips.iterdir())))
    assert outcomes == [True] * 1000


def test_render_formats_from_verified_payload(tmp_path: Path, run_cli: Run) -> None:
    """render verifies first, then writes text, JSON, SARIF or HTML; a changed report
    is refused with exit 1 and nothing rendered."""
    report = tmp_path / "r.json"
    _scan(run_cli, tmp_path, report)
    payload = load_report(report)
    as_json = run_cli("render", str(report), "--format", "json")
    assert json.loads(as_json.stdout) == payload
    sarif = json.loads(run_cli("render", str(report), "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    html = tmp_path / "out" / "r.html"
    assert run_cli("render", str(report), "--format", "html", "-o", str(html)).returncode == 0
    assert html.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
    assert "CLEAN" in run_cli("render", str(report)).stdout
    tampered = tmp_path / "t.json"
    tampered.write_bytes(report.read_bytes().replace(b'"sig":"', b'"sig":"A', 1))
    refused = run_cli("render", str(tampered), "--format", "html")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "invalid report" in refused.stderr


# --- crashes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "journal"),
    [("journal-written", [1]), ("journal-linked", [1, 2]), ("report-written", [1, 2])],
)
def test_crash_leaves_report_and_chain_consistent(
    tmp_path: Path, run_cli: Run, point: str, journal: list[int]
) -> None:
    """Killed at each point of writing: the report file is the old one, whole; the
    chain has no half file and no reused number; the next scan links on."""
    report = tmp_path / "out" / "r.json"
    _scan(run_cli, tmp_path, report)
    before = report.read_bytes()
    killed = subprocess.run(
        [str(FTISCAN), "scan", str(_tree(tmp_path)), "--report", str(report), "--quiet"],
        env={**private_env(tmp_path), "FTISCAN_CRASH_AT": point},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert report.read_bytes() == before
    chain = _chain_dir(tmp_path)
    assert [int(p.name[:12]) for p in sorted(chain.glob("*.dsse.json"))] == journal
    _scan(run_cli, tmp_path, report)
    assert load_report(report)["chain"]["sequence"] == journal[-1] + 1
    assert sorted(p.name for p in chain.iterdir()) == [
        f"{n:012d}.dsse.json" for n in range(1, journal[-1] + 2)
    ]
    assert sorted(p.name for p in report.parent.iterdir()) == ["r.json"]
    done = run_cli("verify", str(chain))
    assert done.returncode == 0, done.stdout


def test_crash_random_kills_never_fork_or_reuse(tmp_path: Path, run_cli: Run) -> None:
    """Twelve scans killed at random moments, then one that finishes: every report ever
    written to --report is in the agent's chain, and the chain is intact."""
    report = tmp_path / "r.json"
    rng = random.Random(6103)
    seen: set[bytes] = set()
    for _ in range(12):
        proc = subprocess.Popen(
            [str(FTISCAN), "scan", str(_tree(tmp_path)), "--report", str(report), "-q"],
            env=private_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if report.exists():
            seen.add(report.read_bytes())
    _scan(run_cli, tmp_path, report)
    seen.add(report.read_bytes())
    chain = _chain_dir(tmp_path)
    stored = {p.read_bytes() for p in chain.glob("*.dsse.json")}
    assert seen <= stored
    assert not [p for p in chain.iterdir() if not p.name.endswith(".dsse.json")]
    done = run_cli("verify", str(chain))
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-2].endswith(": intact")
