"""The fleet page in a real headless browser (Debian's Chromium), over real TLS.

Agents submit reports (one holding records, one holding weaker data, one clean, a
chain with a gap, two machines holding the same records); counsel opens a one-time
login link from ``POST /v1/admin/fleet-link`` in Chromium, which follows it to
``/fleet`` with the session cookie; the test reads the DOM Chromium rendered and keeps
a screenshot (``out/test-artifacts/fleet.png``, or ``$FTISCAN_TEST_ARTIFACTS``).

Chromium trusts exactly the test server's key (``--ignore-certificate-errors-spki-list``
with its SPKI hash), not every certificate.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.intake._served import Agent, Intake, Tls, make_tls, new_intake

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"
)


def _spki_hash(chain: Path) -> str:
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    der = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def chromium(url: str, tls: Tls, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once on ``url`` with a new profile folder."""
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--ignore-certificate-errors-spki-list={_spki_hash(tls.chain)}",
        "--window-size=1400,1000",
        *mode,
        url,
    ]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL
    )


class Dom(HTMLParser):
    """Host rows (data-* and their cell texts), inventory rows, correlation rows."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[str, dict[str, str]] = {}
        self.cells: dict[str, list[str]] = {}
        self.missing: list[tuple[str, str]] = []
        self.correlation: list[str] = []
        self.scripts = 0
        self.title = ""
        self._row: str | None = None
        self._missing: str | None = None
        self._cell: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts += 1
        if tag == "title":
            self._in_title = True
        if tag == "tr" and "data-host" in found:
            self._row = found["data-host"]
            self.hosts[self._row] = found
            self.cells[self._row] = []
        if tag == "tr" and "data-missing" in found:
            self._missing = found["data-missing"]
        if tag == "tr" and "data-fingerprint" in found:
            self.correlation.append(found["data-fingerprint"])
        if tag == "td" and (self._row or self._missing):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "td" and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if self._row:
                self.cells[self._row].append(text)
            elif self._missing:
                self.missing.append((self._missing, text))
                self._missing = None  # the first cell names the host
            self._cell = None
        if tag == "tr":
            self._row = self._missing = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Intake, dict[str, Agent]]]:
    """An intake with four hosts' reports and an inventory of five machines."""
    base = tmp_path_factory.mktemp("fleet")
    tls = make_tls(base / "tls")
    intake = new_intake(base / "intake", tls).start()
    client = intake.client()
    names = ["alpha.example.gov", "bravo.example.gov", "charlie.example.gov", "delta.example.gov"]
    agents = {name: Agent(base / name, name) for name in names}
    for agent, token in zip(agents.values(), intake.tokens(len(agents)), strict=True):
        assert agent.enroll(client, token).status == 201
    alpha = agents["alpha.example.gov"]  # holds records; sequences 3 and 4 never arrive
    chain = [alpha.sign("critical"), alpha.sign("critical", "heartbeat")]
    chain += [alpha.sign("clean", "heartbeat") for _ in range(2)]
    chain.append(alpha.sign("critical", "heartbeat"))
    for envelope in (chain[0], chain[1], chain[4]):
        assert alpha.submit(client, envelope).status == 201
    bravo = agents["bravo.example.gov"]  # TIN + name only, and a heartbeat
    assert bravo.submit(client, bravo.sign("high")).status == 201
    assert bravo.submit(client, bravo.sign("clean", "heartbeat")).status == 201
    charlie = agents["charlie.example.gov"]  # looked, and found nothing
    assert charlie.submit(client, charlie.sign("clean")).status == 201
    delta = agents["delta.example.gov"]  # the same records as alpha
    assert delta.submit(client, delta.sign("critical")).status == 201
    inventory = "host_id\n" + "\n".join([*names, "echo.example.gov"]) + "\n"
    answer = client.call("PUT", "/v1/admin/inventory", inventory.encode(), admin=intake.admin)
    assert answer.status == 200, answer.body
    yield intake, agents
    assert intake.stop() == 0, intake.log()


def _login_link(intake: Intake) -> str:
    answer = intake.client().post_json("/v1/admin/fleet-link", {}, admin=intake.admin)
    assert answer.status == 201, answer.body
    link: str = answer.json()["link"]
    return f"https://127.0.0.1:{intake.port}{link}"


@needs_chromium
def test_fleet_page_in_chromium_shows_the_submitted_fleet(
    fleet: tuple[Intake, dict[str, Agent]], tmp_path: Path
) -> None:
    """Chromium, logged in by a one-time link, renders each host's severity, records,
    gaps and heartbeat, the machine that never enrolled, and the shared records."""
    intake, _ = fleet
    assert intake.tls is not None
    done = chromium(_login_link(intake), intake.tls, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Dom()
    dom.feed(done.stdout)
    assert dom.title == "ftiscan fleet"
    assert dom.scripts == 0
    shown = {
        host: (row["data-highest"], row["data-records"], row["data-gaps"])
        for host, row in dom.hosts.items()
    }
    assert shown == {
        "alpha.example.gov": ("critical", "3", "3-4"),
        "bravo.example.gov": ("high", "1", ""),
        "charlie.example.gov": ("none", "0", ""),
        "delta.example.gov": ("critical", "3", ""),
    }
    alpha = dom.cells["alpha.example.gov"]
    assert alpha[:3] == ["alpha.example.gov", "critical", "3"]
    assert alpha[8] == "3-4"
    assert dom.cells["charlie.example.gov"][1:3] == ["none", "0"]
    assert dom.cells["charlie.example.gov"][5].startswith("never")  # no heartbeat yet
    assert dom.cells["bravo.example.gov"][8] == "none"
    assert ("never_enrolled", "echo.example.gov") in dom.missing
    assert len(dom.correlation) == 3  # alpha's three records are on delta too


@needs_chromium
def test_fleet_page_screenshot_and_one_time_link(
    fleet: tuple[Intake, dict[str, Agent]], tmp_path: Path
) -> None:
    """A screenshot is kept as a test artefact; a login link works once only."""
    intake, _ = fleet
    assert intake.tls is not None
    link = _login_link(intake)
    shot = tmp_path / "fleet.png"
    done = chromium(link, intake.tls, tmp_path / "p1", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
    artefacts = Path(os.environ.get("FTISCAN_TEST_ARTIFACTS", REPO / "out" / "test-artifacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, artefacts / "fleet.png")
    again = chromium(link, intake.tls, tmp_path / "p2", "--dump-dom")
    assert "unauthorized" in again.stdout
    assert "data-host" not in again.stdout
