"""``ftiscan intake ...`` spawned as counsel runs it: tokens, key, offline bundles,
inventory and status, export; the refusals of ``serve``; the missing-extra message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.conftest import FTISCAN, private_env
from tests.intake._served import make_tls, new_intake

pytestmark = pytest.mark.slow


def ftiscan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FTISCAN), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env,
    )


BLOCK_EXTRA = """
import sys
from importlib.abc import MetaPathFinder

class NoExtra(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("starlette", "uvicorn", "psycopg"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoExtra())
from ftiscan.agent.cli import main
sys.argv = ["ftiscan", *sys.argv[1:]]
main()
"""


def test_intake_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    """Without Starlette and uvicorn, ``ftiscan`` still runs and ``ftiscan intake``
    says exactly which pip command installs the intake."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", BLOCK_EXTRA, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    top = run("--help")
    assert top.returncode == 0, top.stderr
    assert "intake" in top.stdout
    db, key = str(tmp_path / "i.db"), str(tmp_path / "i.key")
    for args in (["intake"], ["intake", "status", "--db", db, "--key", key]):
        done = run(*args)
        assert done.returncode == 2, done.stderr
        assert "pip install 'ftiscan[intake]'" in done.stderr
        assert "Traceback" not in done.stderr
    assert not Path(db).exists()


COMMANDS = [
    ["serve"],
    ["token", "create"],
    ["inventory", "import"],
    ["status"],
    ["export"],
    ["import"],
    ["key"],
    ["credential"],
    ["fleet-link"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_intake_commands_have_help_with_an_example(command: list[str]) -> None:
    """Every intake command's --help shows an example of itself."""
    done = ftiscan("intake", *command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"Example:  ftiscan intake {' '.join(command)}" in done.stdout


def test_intake_serve_refuses_what_it_must_not_serve(tmp_path: Path) -> None:
    """Plain http needs --insecure-loopback and a loopback address; a certificate
    that is not one is named; nothing is served and no traceback is shown."""
    base = ["intake", "serve", "--db", str(tmp_path / "i.db"), "--key", str(tmp_path / "i.key")]
    cases = [
        ([], "refusing to serve without TLS: give --tls-cert and --tls-key"),
        (
            ["--insecure-loopback", "--host", "0.0.0.0"],  # noqa: S104 - refused, the point
            "refusing plain http on 0.0.0.0: --insecure-loopback serves only on a loopback",
        ),
        (["--tls-cert", str(tmp_path / "missing.pem")], "give both --tls-cert and --tls-key"),
        (["--insecure-loopback", "--rate", "fast"], "'fast' is not a rate like 10/s"),
    ]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n", encoding="ascii")
    cases.append((["--tls-cert", str(bad), "--tls-key", str(bad)], "not a PEM certificate chain"))
    loose = tmp_path / "loose.cred"
    loose.write_text("x" * 32, encoding="ascii")
    loose.chmod(0o644)
    cases.append(
        (
            ["--insecure-loopback", "--admin-credential-file", str(loose)],
            "admin credential file is readable by others",
        )
    )
    for extra, message in cases:
        done = ftiscan(*base, *extra)
        assert done.returncode == 2, (extra, done.stderr)
        assert message in done.stderr, (extra, done.stderr)
        assert "Traceback" not in done.stderr
        assert "listening on" not in done.stderr


def test_intake_offline_round_trip_with_the_real_agent(tmp_path: Path) -> None:
    """Counsel makes tokens and shows the key; the agent enrols over HTTPS (checking
    the fingerprint), then sends reports on a bundle; ``intake import`` stores them
    and writes receipts that ``ftiscan submit --receipts`` takes back; the inventory
    shows the machine that never enrolled; the export holds every report."""
    tls = make_tls(tmp_path / "tls")
    intake = new_intake(tmp_path / "counsel", tls)
    db = ["--db", intake.db, "--key", str(intake.key)]

    made = ftiscan("intake", "token", "create", *db, "--count", "2", "--ttl", "1h")
    assert made.returncode == 0, made.stderr
    tokens = made.stdout.split()
    assert len(tokens) == 2
    assert "2 token(s), single use, valid until 20" in made.stderr
    shown = ftiscan("intake", "key", *db)
    assert shown.returncode == 0, shown.stderr
    key_id = shown.stdout.split("intake key id: ")[1].split()[0]
    assert len(key_id) == 64

    intake.start()
    assert intake.client().call("GET", "/v1/intake-key").json()["intake_key_id"] == key_id
    agent = private_env(tmp_path / "agent")
    url = f"https://127.0.0.1:{intake.port}"
    enrolled = ftiscan(
        "enroll", url, "--token", tokens[0], "--ca", str(tls.ca),
        "--expect-fingerprint", key_id, "--host-id", "laptop-9.example.gov", env=agent,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stderr
    assert intake.stop() == 0

    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    for _ in range(2):
        scanned = ftiscan("scan", str(home), "--quiet", "--format", "json", env=agent)
        assert scanned.returncode == 0, scanned.stderr
    bundle = tmp_path / "laptop-9.bundle"
    packed = ftiscan("bundle", "-o", str(bundle), env=agent)
    assert packed.returncode == 0, packed.stderr

    receipts = tmp_path / "laptop-9.receipts.json"
    taken = ftiscan("intake", "import", *db, str(bundle), "--receipts", str(receipts))
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.splitlines() == ["sequence 1: stored", "sequence 2: stored"]
    assert "2 of 2 report(s) accepted" in taken.stderr
    assert len(json.loads(receipts.read_text())["receipts"]) == 2
    back = ftiscan("submit", "--receipts", str(receipts), env=agent)
    assert back.returncode == 0, back.stderr + back.stdout
    again = ftiscan("intake", "import", *db, str(bundle))
    assert again.stdout.splitlines() == ["sequence 1: duplicate", "sequence 2: duplicate"]

    inventory = tmp_path / "machines.csv"
    inventory.write_text("host_id\nlaptop-9.example.gov\nmissing-1.example.gov\n", encoding="utf-8")
    imported = ftiscan("intake", "inventory", "import", *db, str(inventory))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("inventory: 2 machine(s)")
    status = ftiscan("intake", "status", *db, "--inventory", "--format", "json")
    assert status.returncode == 1, status.stderr
    report = json.loads(status.stdout)
    assert report["inventory"]["never_enrolled"] == ["missing-1.example.gov"]
    assert report["inventory"]["never_reported"] == []
    assert [h["host_id"] for h in report["fleet"]["hosts"]] == ["laptop-9.example.gov"]
    assert report["fleet"]["hosts"][0]["reports"] == 2
    text = ftiscan("intake", "status", *db, "--inventory")
    assert text.returncode == 1
    assert "  missing-1.example.gov: never enrolled" in text.stdout.splitlines()
    plain = ftiscan("intake", "status", *db)
    assert plain.returncode == 0
    assert plain.stdout.startswith("hosts: 1 enrolled, 0 holding, 1 clean")

    exported = ftiscan("intake", "export", *db, "-o", str(tmp_path / "court"))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith(f"exported to {tmp_path / 'court'}: ")
    assert (tmp_path / "court").is_dir()


def test_intake_credential_and_fleet_link(tmp_path: Path) -> None:
    """``credential`` makes a private file once; ``fleet-link`` prints a login link."""
    cred = tmp_path / "admin.cred"
    made = ftiscan("intake", "credential", str(cred))
    assert made.returncode == 0, made.stderr
    assert oct(cred.stat().st_mode & 0o777) == "0o600"
    assert len(cred.read_text().strip()) >= 32
    again = ftiscan("intake", "credential", str(cred))
    assert again.returncode == 2
    assert "exists; remove it first" in again.stderr
    link = ftiscan(
        "intake", "fleet-link", "--admin-credential-file", str(cred),
        "--url", "https://intake.example.gov:8443/",
    )  # fmt: skip
    assert link.returncode == 0, link.stderr
    assert link.stdout.startswith("https://intake.example.gov:8443/fleet/login?ticket=v1.")
