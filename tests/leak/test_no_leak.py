"""No-leak proof: every output on, every byte written searched, zero hits.

`test_no_leak_with_every_output_on` generates the synthetic home tree (every format)
and reformatted copies of an EDM list, then runs the real programs with everything
that writes turned on: `ftiscan edm build` and `inspect`; `ftiscan scan` with the
index, `--incremental`, `--report` and each renderer (one on a terminal, with
progress); `render` to each format and `verify`; `intake serve --log-level debug`
over TLS on SQLite; `enroll`; the daemon (`agent run --verbose`, watching and
submitting, its status file) through a new file and a deleted one; `agent status`;
`submit`; crash traces (SIGKILL at the crash points of journal, report, news, submit
and intake storage, and Ctrl-C to a scan's process group); the fleet view (JSON, and
HTML by credential and by one-time link); refused reports; `bundle`, `intake import`,
`submit --receipts` and `intake export`, also on PostgreSQL when its binaries exist.
HOME and TMPDIR point into the test's folder, and ftiscan makes its own key and state
folders there. Then it searches every byte under that folder (the output and error of
every process, reports, renders, keys, state and intake databases with their -wal and
-shm files raw and as logical dumps, bundle, export, temporary files) and, on
PostgreSQL, every row, the raw files of its tables, TOAST tables and indexes, and the
WAL written during the test, for every generated TIN, name and street line in every
form and layer (`tests/leak/_search.py`). It also checks that keys, chain and state
are private to the agent's user, that no stored content digest is a plain SHA-256, and
that the same search over the inputs finds every kind of value (so zero means zero).

The other tests prove the search can fail (negative controls: a value planted in a
SQLite free page, in gzip, base64 cut at any offset, ZIP, UTF-16, JSON and HTML
escapes is found; near misses are not) and that the state database keeps no plain
SHA-256 of a file holding only an SSN.

Failures name the file, the layer and the kind of value, never the value.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import http.client
import io
import json
import os
import random
import signal
import sqlite3
import ssl
import subprocess
import time
import zipfile
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.agent.conftest import FTISCAN, run_on_pty
from tests.agent.submit_harness import Tls, free_port, make_tls
from tests.leak._search import Needles, Search
from tests.synthetic.edm import (
    Disclosed,
    disclosed_list,
    stranger_list,
    write_copies,
    write_disclosed_csv,
)
from tests.synthetic.home import build_home, taxpayer_csv
from tests.synthetic.people import People, Taxpayer, dashed

WAIT = 30.0  # seconds: a generous limit for the daemon and the intake, not a target


# --------------------------------------------------------------------------- needles


def _needles_from_secrets(needles: Needles, secrets: list[str]) -> None:
    """Needles from `GroundTruth.secrets` (TINs, full and short names, street lines)."""
    for secret in secrets:
        compact = secret.replace("-", "")
        if len(compact) == 9 and compact.isdigit():
            needles.add_tin(compact)
        elif any(ch.isdigit() for ch in secret):
            needles.add_street(secret)
        else:
            words = secret.split()
            needles.add_name(words[0], " ".join(words[1:-1]), words[-1])


def _add_taxpayer(needles: Needles, t: Taxpayer) -> None:
    needles.add_tin(t.ssn)
    needles.add_name(t.first, t.middle, t.last)
    needles.add_street(t.street)
    needles.add_street(t.address_line())
    needles.add_street(t.address_line(" "))


def _add_disclosed(needles: Needles, p: Disclosed) -> None:
    needles.add_tin(p.tin)
    needles.add_name(p.first, p.middle, p.last, p.suffix)
    for spelled in (False, True):
        for directional in (False, True):
            needles.add_street(p.street_as(spelled=spelled, directional_spelled=directional))
    if p.unit:
        needles.add_street(f"{p.street} {p.unit}")
        needles.add_street(f"{p.street}, {p.unit}")


# --------------------------------------------------------------------------- programs


class Run:
    """The real CLI with HOME, TMPDIR, key and state folders inside ``out``; each
    process's standard output and error are kept as files under ``out/logs``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.logs = out / "logs"
        for folder in (self.logs, out / "tmp", out / "home"):  # keys, state: ftiscan's own
            folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        self.env = {
            **env,
            "HOME": str(out / "home"),
            "TMPDIR": str(out / "tmp"),
            "FTISCAN_KEY_DIR": str(out / "keys"),
            "FTISCAN_STATE_DIR": str(out / "state"),
        }
        self.count = 0

    def _files(self, name: str) -> tuple[Path, Path]:
        self.count += 1
        stem = self.logs / f"{self.count:02d}-{name}"
        return stem.with_suffix(".stdout"), stem.with_suffix(".stderr")

    def __call__(
        self, name: str, *args: str | Path, env: dict[str, str] | None = None, timeout: float = 180
    ) -> int:
        """Run ``ftiscan ARGS``; its exit code (negative: killed by that signal)."""
        stdout, stderr = self._files(name)
        with stdout.open("wb") as out, stderr.open("wb") as err:
            done = subprocess.run(
                [str(FTISCAN), *map(str, args)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**self.env, **(env or {})},
                timeout=timeout,
                check=False,
            )
        return done.returncode

    def popen(
        self, name: str, *args: str | Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        stdout, stderr = self._files(name)
        with stdout.open("wb") as out, stderr.open("wb") as err:
            return subprocess.Popen(
                [str(FTISCAN), *map(str, args)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**self.env, **(env or {})},
                start_new_session=True,
            )

    def text(self, name_part: str) -> str:
        """Standard output of the last process whose log name holds ``name_part``."""
        found = sorted(self.logs.glob(f"*-{name_part}.stdout"))
        return found[-1].read_text(encoding="utf-8", errors="replace")


class Served:
    """``ftiscan intake serve --log-level debug`` over TLS on a SQLite database."""

    def __init__(self, run: Run, tls: Tls) -> None:
        self.run, self.tls = run, tls
        self.folder = run.out / "intake"
        self.folder.mkdir()
        self.db, self.key = self.folder / "intake.db", self.folder / "intake.key"
        self.credential = self.folder / "admin.cred"
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str] | None = None) -> None:
        port_file = self.folder / "port"
        admin = ("--admin-credential-file", self.credential) if self.credential.exists() else ()
        port_file.unlink(missing_ok=True)
        self.proc = self.run.popen(
            "intake-serve",
            *("intake", "serve", "--db", self.db, "--key", self.key, "--log-level", "debug"),
            *("--host", "127.0.0.1", "--port", str(self.port), "--port-file", port_file),
            *("--tls-cert", self.tls.chain, "--tls-key", self.tls.key, *admin),
            env=env,
        )
        deadline = time.monotonic() + WAIT
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.proc.poll() is None, "the intake exited"
            assert time.monotonic() < deadline, "the intake did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None

    def cli(self, name: str, *args: str | Path) -> int:
        return self.run(name, "intake", *args, "--db", self.db, "--key", self.key)

    def get(self, name: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        """GET ``path`` over TLS; the body is kept under ``out/fleet`` (an output too).
        Returns the status and the Set-Cookie header."""
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=60)
        try:
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        folder = self.run.out / "fleet"
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(body)
        return answer.status, answer.getheader("Set-Cookie") or ""

    def fleet_views(self) -> None:
        """The fleet view as counsel sees it: JSON and HTML by the admin credential, and
        the HTML through a one-time login link and its session cookie."""
        bearer = {"Authorization": f"Bearer {self.credential.read_text().strip()}"}
        assert self.get("fleet.json", "/v1/fleet", bearer)[0] == 200
        assert self.get("fleet-bearer.html", "/fleet", bearer)[0] == 200
        code = self.run("fleet-link", "intake", "fleet-link", "--admin-credential-file",
                        self.credential, "--url", self.url)  # fmt: skip
        assert code == 0
        link = self.run.text("fleet-link").strip()
        status, cookie = self.get("fleet-login.html", link.removeprefix(self.url), {})
        assert status in (302, 303, 307)
        cookies = {"Cookie": cookie.split(";", 1)[0]}
        assert self.get("fleet-session.html", "/fleet", cookies)[0] == 200


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT}s: {what}")


def _payloads(folder: Path) -> list[dict[str, Any]]:
    """The (unverified) payloads of the envelopes in a chain folder, by sequence."""
    out = []
    for path in sorted(folder.glob("*/*.dsse.json")):
        out.append(json.loads(base64.b64decode(json.loads(path.read_bytes())["payload"])))
    return out


def _status(state: Path) -> dict[str, Any]:
    path = state / "agent.status.json"
    with suppress(OSError, ValueError):
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    return {}


def _pg_lsn(url: str) -> str:
    """The cluster's current write-ahead log position."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]


def _lsn(text: str) -> int:
    """A PostgreSQL log sequence number ``X/Y`` as an integer."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _pg_dump(url: str, since: str, search: Search) -> int:
    """Every row of every table of the database at ``url``; raw, the files of its
    tables, TOAST tables and indexes (all forks) and the WAL segments written since
    the position ``since``. Returns the number of rows read."""
    import psycopg

    rows = 0
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        for table in tables:
            # The names come from the catalogue, quoted; nothing here is user input.
            query = f'SELECT row_to_json(t)::text FROM "{table}" t'  # noqa: S608 - catalogue names
            texts = [r[0] for r in conn.execute(query)]
            rows += len(texts)
            search.blob(f"postgresql/{table}", "\n".join(texts).encode("utf-8"), "rows")
        conn.execute("CHECKPOINT")
        data_dir = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        files = [
            str(r[0])
            for r in conn.execute(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i')"
            )
            if r[0] is not None
        ]
        end = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
        size = int(
            conn.execute(
                "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"
            ).fetchone()[0]  # type: ignore[index]
        )
    for rel in files:
        for path in sorted(data_dir.glob(rel + "*")):  # forks: _fsm, _vm, .1, ...
            search.file(path, f"postgresql-data/{path.relative_to(data_dir)}")
    # The WAL bytes written from ``since`` on (a segment's name is its timeline, then
    # its number as two 32-bit halves); a segment's older bytes are other databases'.
    start, stop = _lsn(since), _lsn(end)
    per_half = 0x1_0000_0000 // size
    searched = 0
    for path in sorted((data_dir / "pg_wal").iterdir()):
        if len(path.name) != 24 or not all(c in "0123456789ABCDEF" for c in path.name):
            continue
        first = (int(path.name[8:16], 16) * per_half + int(path.name[16:24], 16)) * size
        if first + size <= start or first > stop:
            continue
        data = path.read_bytes()[max(0, start - first) : stop - first]
        search.files += 1
        search.size += len(data)
        searched += len(data)
        search.blob(f"postgresql-data/pg_wal/{path.name}", data)
    assert searched > 0
    return rows


# --------------------------------------------------------------------------- the proof


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> str | None:
    """A fresh PostgreSQL database, or None where no PostgreSQL binaries exist."""
    try:
        return str(request.getfixturevalue("pg_url"))
    except pytest.skip.Exception:
        return None


@pytest.mark.slow
def test_no_leak_with_every_output_on(tmp_path: Path, pg: str | None) -> None:
    """Every output of a scan, the daemon, submission, bundle, the intake (SQLite and
    PostgreSQL) and crash traces holds no generated TIN, name or street line, in any
    form, encoding or layer: zero hits (counts and places only, never values)."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    truth = build_home(inputs / "home", seed=23, truth_path=inputs / "home.truth.json")
    rng = random.Random(29)
    disclosed = disclosed_list(rng, 400)
    strangers = stranger_list(rng, 80, disclosed)
    copies = inputs / "copies"
    write_copies(copies, disclosed, strangers, rng, per_file=25, truth_path=inputs / "c.json")
    write_disclosed_csv(inputs / "counsel" / "disclosed.csv", disclosed)
    needles = Needles()
    _needles_from_secrets(needles, truth.secrets)
    for person in (*disclosed, *strangers):
        _add_disclosed(needles, person)
    newcomers = People(31).taxpayers(5)  # written while the daemon watches
    for t in newcomers:
        _add_taxpayer(needles, t)

    run = Run(out)
    index = out / "counsel" / "fti.edm"
    assert run("edm-build", "edm", "build", inputs / "counsel" / "disclosed.csv", "-o", index) == 0
    assert run("edm-inspect", "edm", "inspect", index) == 0
    roots = (inputs / "home", copies)

    # One-shot scans with the index: every renderer, the signed report, incremental
    # state. They keep a chain of their own (state-edm, same agent key): the intake
    # refuses that second chain as a fork/replay, which is searched too.
    reports = out / "reports"
    edm_env = {"FTISCAN_STATE_DIR": str(out / "state-edm")}
    edm_scan = ("scan", *roots, "--edm", index, "--incremental", "--jobs", "2")
    code, terminal = run_on_pty(
        [str(FTISCAN), *map(str, edm_scan), "--report", str(reports / "edm-text.dsse.json")],
        {**run.env, **edm_env},
        stdout=run.logs / "scan-terminal.stdout",
    )
    (run.logs / "scan-terminal.pty").write_bytes(terminal)
    assert code == 1
    for fmt in ("json", "sarif", "html"):
        report = reports / f"edm-{fmt}.dsse.json"
        code = run(f"scan-edm-{fmt}", *edm_scan, "--report", report, "--format", fmt, "--quiet",
                   env=edm_env)  # fmt: skip
        assert code == 1
    first = json.loads(run.text("scan-edm-json"))
    assert first["scan"]["edm_digest"] is not None
    assert sum(f["records"] for f in first["findings"] if f["severity"] == "critical") > 300
    assert any(f["rule"] == "fti.edm-record" for f in first["findings"])
    pub = out / "keys" / "agent.pub"
    code = run("render-edm-html", "render", reports / "edm-json.dsse.json", "--format", "html",
               "-o", out / "rendered" / "edm.html", "--key", pub)  # fmt: skip
    assert code in (0, 1)

    # The agent's own chain (state): a scan, then every renderer from its report.
    scan = ("scan", *roots, "--incremental", "--jobs", "2")
    report = reports / "json.dsse.json"
    assert run("scan-json", *scan, "--report", report, "--format", "json", "--quiet") == 1
    for fmt in ("text", "json", "sarif", "html"):
        code = run(f"render-{fmt}", "render", reports / "json.dsse.json", "--format", fmt,
                   "-o", out / "rendered" / f"report.{fmt}", "--key", pub)  # fmt: skip
        assert code == 0
    chain = out / "state" / "chain"
    assert run("verify-chain", "verify", chain, "--key", pub, "--format", "json") == 0

    # Counsel's intake (SQLite, debug logging) and the enrolment.
    tls = make_tls(out / "tls")
    intake = Served(run, tls)
    assert run("credential", "intake", "credential", intake.credential) == 0
    intake.start()
    daemon: subprocess.Popen[bytes] | None = None
    try:
        assert intake.cli("token", "token", "create", "--count", "1", "--ttl", "1h") == 0
        token = run.text("token").strip()
        assert run("enroll", "enroll", intake.url, "--token", token, "--ca", tls.ca) == 0

        # The daemon: sweep, a new file, a deleted one, heartbeats, submission, stop.
        config = out / "agent.yaml"
        config.write_text(
            f"roots: [{roots[0]}, {roots[1]}]\n"
            f"intake: {{url: '{intake.url}', ca: {tls.ca}}}\n"
            "schedule: {full_sweep: 1h, heartbeat: 2s, settle: 300ms}\n"
            "budget: {cpu_percent: 200, pause_on_battery: false}\n"
            f"state_dir: {out / 'state'}\n",
            encoding="utf-8",
        )
        head = len(_payloads(chain))
        daemon = run.popen("agent-run", "agent", "run", "--config", config, "--verbose")
        _until(lambda: _status(out / "state").get("last_sweep"), "the daemon's first sweep")
        fresh = inputs / "home" / "Desktop" / "new_clients.csv"
        fresh.write_text(taxpayer_csv(newcomers), encoding="utf-8")
        _until(
            lambda: any(
                f["path"] == str(fresh) for p in _payloads(chain)[head:] for f in p["findings"]
            ),
            "a report of the new file",
        )
        victim = inputs / "home" / "Documents" / "Tax" / "name_ssn.csv"
        victim.unlink()
        _until(
            lambda: any(
                g["path"] == str(victim) for p in _payloads(chain)[head:]
                for g in p["coverage"].get("gone", [])
            ),
            "a report of the deleted file",
        )  # fmt: skip
        assert run("status-text", "agent", "status") == 0
        assert run("status-json", "agent", "status", "--format", "json") == 0
        _until(
            lambda: (
                len(list((out / "state" / "receipts").glob("*/*"))) >= len(_payloads(chain)) - 1
            ),
            "the daemon's submissions",
        )
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
        assert run("submit", "submit", "--wait", "--max-wait", "60") == 0

        # Crash traces: SIGKILL at each crash point, then the run that recovers.
        for point in ("journal-written", "report-written", "news-signed"):
            killed = run(f"crash-{point}", *scan, "--report", reports / "crash.dsse.json",
                         env={"FTISCAN_CRASH_AT": point})  # fmt: skip
            assert killed == -signal.SIGKILL
        assert run("submit-crash", "submit", env={"FTISCAN_CRASH_AT": "submit-sent"}) == (
            -signal.SIGKILL
        )
        intake.stop()
        intake.start(env={"FTISCAN_CRASH_AT": "intake-stored"})
        assert run("scan-for-intake-crash", *scan, "--quiet") == 1
        assert run("submit-intake-dies", "submit") != 0
        assert intake.proc is not None
        assert intake.proc.wait(timeout=60) == -signal.SIGKILL
        intake.start()
        assert run("submit-after-crashes", "submit", "--wait", "--max-wait", "60") == 0
        intake.fleet_views()
        # The EDM chain (same agent key, a second chain): refused as a replay/fork
        # (exit 1) and kept in its outbox with the reason.
        code = run("submit-edm-refused", "submit", "--state-dir", out / "state-edm")
        assert code in (0, 1)
        # Ctrl-C (SIGINT to the process group) during a full scan: exit 2 "interrupted",
        # or a KeyboardInterrupt traceback if it comes while Python is still starting.
        ctrl_c = run.popen("scan-ctrl-c", "scan", *roots, "--jobs", "2", "--quiet")
        deadline = time.monotonic() + 60  # once the workers run: mid-scan on any machine
        while len(psutil.Process(ctrl_c.pid).children()) < 2 and time.monotonic() < deadline:
            assert ctrl_c.poll() is None, "the scan ended before its workers started"
            time.sleep(0.02)
        os.killpg(ctrl_c.pid, signal.SIGINT)
        assert ctrl_c.wait(timeout=60) in (2, -signal.SIGINT)
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=30)
        intake.stop()

    # Offline: bundle, import, receipts back, export; the same on PostgreSQL.
    bundle = out / "bundle" / "laptop.bundle"
    assert run("bundle", "bundle", "--all", "-o", bundle) == 0
    receipts = out / "bundle" / "receipts.json"
    assert intake.cli("import", "import", bundle, "--receipts", receipts) == 0
    assert run("submit-receipts", "submit", "--receipts", receipts) == 0
    assert intake.cli("export", "export", "-o", out / "export") == 0
    assert intake.cli("fleet-status", "status") == 0
    pg_rows, pg_since = 0, ""
    if pg is not None:
        pg_since = _pg_lsn(pg)
        pg_rows = _pg_import(run, pg, bundle, pub)

    # Every byte written: zero hits.
    search = Search(needles)
    search.folder(out, "out")
    if pg is not None:
        pg_rows = max(pg_rows, _pg_dump(pg, pg_since, search))
        assert pg_rows > 5
    assert search.report() == []
    # The search looked where it had to: databases, envelopes, the bundle's members.
    assert len(needles) > 5000
    assert search.files > 100
    assert search.layers["sqlite"] >= 3  # two state.sqlite3 and intake.db
    assert search.layers["zip"] >= 3  # the bundle's members
    assert search.layers["base64"] >= 20  # envelope payloads and signatures
    assert list(out.glob("intake/intake.db*"))
    assert list(out.glob("state/state.sqlite3*"))
    _assert_no_plain_content_digest(out / "state" / "state.sqlite3", inputs)
    _assert_no_plain_content_digest(out / "state-edm" / "state.sqlite3", inputs)
    _assert_private(out)
    # The same search over the inputs finds every kind, in most positive files: the
    # needles are the values as the generators write them.
    control = Search(needles)
    control.folder(inputs, "in", skip=[inputs / "home.truth.json", inputs / "c.json"])
    kinds = {kind for (_, _, kind) in control.hits}
    assert kinds >= {"ssn-dashed", "ssn-plain", "ssn-spaced", "itin-dashed", "name-first-last"}
    assert kinds >= {"name-last-first", "name-full", "street-line"}
    files = {where for (where, _, _) in control.hits}
    assert len(files) >= len(truth.positives()) - 5
    assert any(">zip:" in layer for (_, layer, _) in control.hits)
    assert any("utf-16" in layer for (_, layer, _) in control.hits)
    assert any(">gzip" in layer for (_, layer, _) in control.hits)


def _pg_import(run: Run, pg: str, bundle: Path, pub: Path) -> int:
    """Enrol the agent's key at a PostgreSQL intake, import the bundle, export it."""
    from ftiscan.reports.intake.service import Intake

    key = run.out / "intake-pg" / "intake.key"
    service = Intake.open(pg, key)
    try:
        tokens, _ = service.issue_tokens(1, 60)
        service.enroll(tokens[0], pub.read_text(encoding="ascii"), "laptop.example.gov", {})
    finally:
        service.close()
    code = run("pg-import", "intake", "import", bundle, "--db", pg, "--key", key,
               "--receipts", run.out / "intake-pg" / "receipts.json")  # fmt: skip
    assert code == 0
    code = run("pg-export", "intake", "export", "--db", pg, "--key", key,
               "-o", run.out / "intake-pg" / "export")  # fmt: skip
    assert code == 0
    return len(list((run.out / "intake-pg" / "export").rglob("*.json")))


def _assert_private(out: Path) -> None:
    """What a curious local user must not read: the private keys, the fleet key, the
    enrolment, the chain of reports and the state database (group and others: none)."""
    private = [*out.glob("keys/*"), *out.glob("state*/chain/**/*"), *out.glob("state*/*.sqlite3*")]
    private = [p for p in private if p.name != "agent.pub"]
    assert len(private) > 20
    exposed = [p.relative_to(out).as_posix() for p in private if p.stat().st_mode & 0o077]
    assert exposed == []


def _assert_no_plain_content_digest(db_path: Path, inputs: Path) -> None:
    """No content digest in the state equals the plain SHA-256 of any input file."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        digests = {r[0] for r in db.execute("SELECT digest FROM files WHERE digest IS NOT NULL")}
    finally:
        db.close()
    assert len(digests) > 50
    plain = {hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs.rglob("*") if p.is_file()}
    assert len(digests & plain) == 0


# --------------------------------------------------------------------------- controls


@pytest.fixture
def planted() -> tuple[Needles, Taxpayer, Taxpayer]:
    """Needles for two synthetic taxpayers (one with an accented name)."""
    people = People(37)
    plain, accented = people.taxpayer(), people.taxpayer(accented=True)
    needles = Needles()
    for t in (plain, accented):
        _add_taxpayer(needles, t)
    return needles, plain, accented


def _kinds(search: Search) -> set[str]:
    return {kind for (_, _, kind) in search.hits}


def test_search_finds_a_value_in_a_sqlite_free_page(
    tmp_path: Path, planted: tuple[Needles, Taxpayer, Taxpayer]
) -> None:
    """A deleted row lives on in free pages and free lists: the raw search finds it,
    in the database and in its WAL, though no query (nor the dump) can see it."""
    needles, t, _ = planted
    db_path = tmp_path / "x.sqlite3"
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA secure_delete=OFF")
    db.execute("CREATE TABLE t (v TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 3000,)] * 20)
    db.execute("INSERT INTO t VALUES (?)", (f"row {dashed(t.ssn)} of {t.short_name}",))
    db.commit()
    db.execute("DELETE FROM t")
    db.commit()
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)
    wal = db_path.with_name(db_path.name + "-wal")
    search = Search(needles)
    search.file(wal, "wal")
    assert _kinds(search) >= {"ssn-dashed", "name-first-last"} or _kinds(search) >= {
        "itin-dashed",
        "name-first-last",
    }
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    search = Search(needles)
    search.file(db_path, "db")
    layers = {layer for (_, layer, _) in search.hits}
    assert "raw:utf-8" in layers
    assert not any(layer.startswith("sqlite-dump") for layer in layers)  # raw pages only
    assert search.layers["sqlite"] == 1


def test_search_finds_values_through_every_layer(
    planted: tuple[Needles, Taxpayer, Taxpayer],
) -> None:
    """gzip, base64 (a DSSE payload, and a run cut at any offset), ZIP members,
    UTF-16 LE and BE, JSON and HTML escapes, upper and last-first case: all found."""
    needles, t, accented = planted
    line = f"{t.last.upper()}, {t.first.upper()} lives at {t.street}"
    envelope = json.dumps({"payload": base64.b64encode(line.encode()).decode()}).encode()
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("reports/1.dsse.json", envelope)
    blobs = {
        "gzip": b"head" + gzip.compress(line.encode()) + b"tail",
        "base64": envelope,
        "base64-cut": b"\x00\x07" + base64.b64encode(b"--- " + line.encode())[3:] + b"\x00",
        "zip": member.getvalue(),
        "utf16le": b"\x01" + line.encode("utf-16-le"),
        "utf16be": line.encode("utf-16-be"),
        "json": json.dumps({"n": accented.short_name}, ensure_ascii=True).encode(),
        "html": html.escape(accented.short_name).encode("ascii", "xmlcharrefreplace"),
        "dotted": f"id {t.ssn[:3]}.{t.ssn[3:5]}.{t.ssn[5:]}".encode(),
    }
    for name, blob in blobs.items():
        search = Search(needles)
        search.blob(name, blob)
        assert search.hits, name
    search = Search(needles)
    search.blob("cut", blobs["base64-cut"])
    assert "name-last-first" in _kinds(search)
    assert "street-line" in _kinds(search)


def test_search_counts_whole_values_only(planted: tuple[Needles, Taxpayer, Taxpayer]) -> None:
    """A longer number, a longer street number or a longer word is not a hit; the
    same text with the value is; hits are reported by kind and place, never value."""
    needles, t, _ = planted
    near = f"1{t.ssn}0 ; 9{t.street}x ; {t.first}s {t.last}son"
    search = Search(needles)
    search.blob("near", near.encode())
    assert search.report() == []
    search.blob("exact", f"[{t.ssn}] {t.street}.".encode())
    lines = search.report()
    assert len(lines) == 2
    assert not any(t.ssn in x or t.street.casefold() in x.casefold() for x in lines)


@pytest.mark.slow
def test_state_keeps_no_plain_digest_of_a_file_holding_only_an_ssn(tmp_path: Path) -> None:
    """A tiny file holding one SSN: its state digest is neither the SHA-256 of its bytes
    nor of any written form of that SSN (what an attacker with the state would try)."""
    run = Run(tmp_path / "out")
    tree = tmp_path / "tree"
    tree.mkdir()
    ssn = People(43).tin()
    forms = [ssn, dashed(ssn), f"{ssn[:3]} {ssn[3:5]} {ssn[5:]}"]
    for n, form in enumerate(forms):
        (tree / f"only-{n}.txt").write_text(f"SSN {form}\n", encoding="ascii")
        (tree / f"bare-{n}.txt").write_text(form, encoding="ascii")
    assert run("scan", "scan", tree, "--incremental", "--quiet", "--jobs", "1") in (0, 1)
    db = sqlite3.connect(f"file:{tmp_path / 'out' / 'state' / 'state.sqlite3'}?mode=ro", uri=True)
    try:
        digests = {r[0] for r in db.execute("SELECT digest FROM files WHERE digest IS NOT NULL")}
    finally:
        db.close()
    assert len(digests) == 6
    guesses = {
        hashlib.sha256(f"{prefix}{form}{end}".encode()).hexdigest()
        for form in forms
        for prefix in ("", "SSN ")
        for end in ("", "\n", "\r\n")
    }
    assert len(digests & guesses) == 0
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


@pytest.mark.slow
def test_edm_report_matches_the_report_schema(tmp_path: Path) -> None:
    """A report with an EDM hit is one that `ftiscan verify` accepts."""
    rng = random.Random(47)
    disclosed = disclosed_list(rng, 60)
    strangers = stranger_list(rng, 20, disclosed)
    copies = tmp_path / "in" / "copies"
    write_copies(copies, disclosed, strangers, rng, per_file=10, truth_path=tmp_path / "c.json")
    write_disclosed_csv(tmp_path / "in" / "disclosed.csv", disclosed)
    run = Run(tmp_path / "out")
    index = tmp_path / "out" / "fti.edm"
    assert run("edm-build", "edm", "build", tmp_path / "in" / "disclosed.csv", "-o", index) == 0
    report = tmp_path / "out" / "report.json"
    code = run("scan", "scan", copies, "--edm", index, "--report", report, "--quiet", "-j", "1")
    assert code == 1
    pub = tmp_path / "out" / "keys" / "agent.pub"
    assert run("verify", "verify", report, "--key", pub) == 0
