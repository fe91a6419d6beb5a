"""`ftiscan edm build` and `ftiscan edm inspect` as counsel meets them (real CLI)."""

from __future__ import annotations

import csv
import random
import re
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.agent import keys
from ftiscan.scanner.edm import EdmMatcher, load_index
from tests.agent.conftest import FTISCAN, Run, private_env, run_on_pty
from tests.synthetic.edm import (
    Disclosed,
    disclosed_list,
    write_disclosed_csv,
    write_malformed_disclosed_csv,
)
from tests.synthetic.people import dashed

_REJECTED = re.compile(r"^ftiscan: .*:(\d+): row rejected: (.+)$", re.MULTILINE)


def _leaks(output: str, people: list[Disclosed]) -> int:
    """How many people have a TIN, name or street line in ``output``."""
    return sum(any(s in output for s in p.secrets()) for p in people)


def _people(n: int, seed: int = 3) -> list[Disclosed]:
    return disclosed_list(random.Random(seed), n)


def test_edm_cli_build_then_inspect(tmp_path: Path, run_cli: Run) -> None:
    """Build makes the fleet key (0600, said on stderr), signs with the agent key, and the
    agent side loads the index with those keys; inspect shows counts, never values."""
    people = _people(200)
    source = tmp_path / "disclosed.csv"
    write_disclosed_csv(source, people)
    out = tmp_path / "out" / "fti.edm"
    done = run_cli("edm", "build", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    key_dir = tmp_path / "keys"
    fleet = key_dir / "fleet.key"
    assert done.stderr == (
        f"ftiscan: made a new fleet key {fleet}: every agent that scans with this index "
        "needs it, as fleet.key in its key folder\n"
    )
    assert stat.S_IMODE(fleet.stat().st_mode) == 0o600
    assert done.stdout.startswith(
        f"wrote {out}: 200 records from 200 rows (0 rejected, 0 without a combination)\n"
    )
    assert "  entries: tin+zip5 200, name+street+zip5 200\n" in done.stdout

    shown = run_cli("edm", "inspect", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "records    200\n" in shown.stdout
    assert "signature  valid\n" in shown.stdout
    assert "key check  matches\n" in shown.stdout
    assert "tin+zip5: 200 entries, 32 bits (hit)" in shown.stdout
    assert _leaks(done.stdout + done.stderr + shown.stdout + shown.stderr, people) == 0

    again = run_cli("edm", "build", str(source), "-o", str(tmp_path / "second.edm"))
    assert again.returncode == 0
    assert again.stderr == ""  # the fleet key is reused, not made again

    fleet_key = keys.fleet_key(key_dir)
    assert fleet_key is not None
    index = load_index(out, fleet_key, keys.trusted_keys(key_dir))
    person = people[7]
    row = [dashed(person.tin), person.full_name, person.street, person.city, person.zip]
    assert [h.record for h in EdmMatcher(index).row(row, {})] == [person.tin]


def test_edm_cli_malformed_rows_named_by_line(tmp_path: Path, run_cli: Run) -> None:
    """Each bad row is named by its line (never its values) and counted; with --require
    an empty required field rejects too; exit 1 when rows were rejected."""
    people = _people(150, seed=4)
    source = tmp_path / "bad.csv"
    bad = write_malformed_disclosed_csv(source, people, random.Random(2))
    required = "tin,first,last,street,city,state,zip"
    done = run_cli(
        "edm", "build", str(source), "-o", str(tmp_path / "a.edm"), "--require", required
    )
    assert done.returncode == 1, done.stderr
    lines = [int(n) for n, _ in _REJECTED.findall(done.stderr)]
    assert lines == sorted(bad)
    rows = 150 + len(bad)
    assert f"ftiscan: {source}: {len(bad)} of {rows} rows rejected\n" in done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'a.edm'}: 150 records from {rows} rows")
    assert _leaks(done.stdout + done.stderr, people) == 0
    reasons = {reason.split(":")[0] for _, reason in _REJECTED.findall(done.stderr)}
    assert reasons >= {
        "tin",
        "row has 9 fields, the header has 10",
        "not a CSV record (unbalanced quotes or a field too large)",
    }

    lenient = run_cli("edm", "build", str(source), "-o", str(tmp_path / "b.edm"))
    assert lenient.returncode == 1
    empty = [n for n, reason in _REJECTED.findall(done.stderr) if "empty, but required" in reason]
    assert len(empty) >= 2
    kept = [int(n) for n, _ in _REJECTED.findall(lenient.stderr)]
    assert kept == sorted(bad - {int(n) for n in empty})


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])


def test_edm_cli_fields_map_other_headers(tmp_path: Path, run_cli: Run) -> None:
    """--fields maps roles to any header; without it an unknown header is an error."""
    people = _people(40, seed=5)
    source = tmp_path / "list.csv"
    header = ["Client No", "Full Nm", "Tax Number", "Addr Line", "Apt", "Post"]
    rows = [
        [str(n), p.full_name, dashed(p.tin), p.street, p.unit, p.zip] for n, p in enumerate(people)
    ]
    _write_csv(source, header, rows)
    plain = run_cli("edm", "build", str(source), "-o", str(tmp_path / "x.edm"))
    assert plain.returncode == 2
    assert plain.stderr.startswith(f"ftiscan: error: {source}:1: the columns make no combination")
    fields = "name=Full Nm,tin=Tax Number,street=Addr Line,unit=Apt,zip=Post"
    done = run_cli("edm", "build", str(source), "-o", str(tmp_path / "x.edm"), "--fields", fields)
    assert done.returncode == 0, done.stderr
    assert "40 records from 40 rows" in done.stdout
    missing = run_cli(
        "edm", "build", str(source), "-o", str(tmp_path / "y.edm"), "--fields", "zip=Zip5"
    )
    assert missing.returncode == 2
    assert "--fields: no column 'Zip5' in the header" in missing.stderr
    role = run_cli(
        "edm", "build", str(source), "-o", str(tmp_path / "y.edm"), "--fields", "dob=Apt"
    )
    assert role.returncode == 2
    assert "--fields: unknown role 'dob'" in role.stderr
    assert not (tmp_path / "y.edm").exists()


def test_edm_cli_explicit_keys_and_inspect_verdicts(tmp_path: Path, run_cli: Run) -> None:
    """--key and --signing-key are used as given; inspect says whether the signer is
    trusted and the fleet key matches, with exit 1 when not."""
    people = _people(30, seed=6)
    source = tmp_path / "d.csv"
    write_disclosed_csv(source, people)
    fleet, other = tmp_path / "fleet.hex", tmp_path / "other.hex"
    keys.write_private(fleet, b"11" * 32 + b"\n")
    keys.write_private(other, b"22" * 32 + b"\n")
    signer = Ed25519PrivateKey.generate()
    pem = tmp_path / "counsel.pem"
    keys.write_private(
        pem,
        signer.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    public = tmp_path / "counsel.pub"
    public.write_bytes(keys.public_pem(signer.public_key()))
    out = tmp_path / "fti.edm"
    args = ["--key", str(fleet), "--signing-key", str(pem)]
    done = run_cli("edm", "build", str(source), "-o", str(out), *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert not (tmp_path / "keys" / "fleet.key").exists()

    good = run_cli("edm", "inspect", str(out), "--trust", str(public), "--key", str(fleet))
    assert good.returncode == 0
    assert "signature  valid\nkey check  matches\n" in good.stdout
    wrong = run_cli("edm", "inspect", str(out), "--trust", str(public), "--key", str(other))
    assert wrong.returncode == 1
    assert "key check  does not match (another fleet key)\n" in wrong.stdout
    untrusted = run_cli("edm", "inspect", str(out), "--format", "json")
    assert untrusted.returncode == 1
    assert '"signature": "unknown-signer: signed by key id' in untrusted.stdout
    assert '"key_check": "not checked (no fleet key)"' in untrusted.stdout


def test_edm_cli_inspect_refuses_broken_files(tmp_path: Path, run_cli: Run) -> None:
    """A truncated index or another file is an error (exit 2) naming file and reason."""
    source = tmp_path / "d.csv"
    write_disclosed_csv(source, _people(20, seed=7))
    out = tmp_path / "fti.edm"
    assert run_cli("edm", "build", str(source), "-o", str(out), "-q").returncode == 0
    cut = tmp_path / "cut.edm"
    cut.write_bytes(out.read_bytes()[:-10])
    done = run_cli("edm", "inspect", str(cut))
    assert done.returncode == 2
    assert done.stderr.startswith(f"ftiscan: error: {cut}: truncated: file is ")
    done = run_cli("edm", "inspect", str(source))
    assert done.returncode == 2
    assert done.stderr == (
        f"ftiscan: error: {source}: not-index: not an ftiscan EDM index (no FTIEDM magic)\n"
    )


def test_edm_cli_progress_on_tty_quiet_with_flag(tmp_path: Path) -> None:
    """On a terminal, build shows rows and their rate on stderr; --quiet silences it."""
    source = tmp_path / "d.csv"
    write_disclosed_csv(source, _people(3000, seed=8))
    fleet = tmp_path / "fleet.hex"
    keys.write_private(fleet, b"33" * 32 + b"\n")
    env = {**private_env(tmp_path), "COLUMNS": "120"}

    def progress(*extra: str) -> bytes:
        args = [str(FTISCAN), "edm", "build", str(source), "-o", str(tmp_path / "p.edm")]
        code, shown = run_on_pty([*args, "--key", str(fleet), *extra], env, tmp_path / "out")
        assert code == 0
        return shown

    assert b"rows" in progress()
    assert progress("--quiet") == b""


def test_edm_cli_help_has_examples(run_cli: Run) -> None:
    """Each edm command explains itself with an example."""
    for command in ("build", "inspect"):
        done = run_cli("edm", command, "--help")
        assert done.returncode == 0
        assert f"Example:  ftiscan edm {command}" in done.stdout
