"""Benchmark the intake under load: many agents submitting their chains at once.

    python -m bench.intake [--agents 200] [--reports 50] [--backend sqlite,postgresql]

For each backend: starts the real ``ftiscan intake serve`` on loopback (TLS with a
test CA, the rate limits raised out of the way: this measures storage and signing,
not the token bucket), enrols ``--agents`` agents, signs every agent's chain of
``--reports`` reports beforehand, then lets all agents send at once, each its own
chain in order over one keep-alive HTTPS connection (one thread per agent, stdlib
``http.client``). Prints reports/s accepted and p50/p99 latency per request, and
checks that the intake stored each report exactly once (``/v1/fleet``).

PostgreSQL runs as a throwaway cluster (``initdb`` + ``pg_ctl`` on a free loopback
port, as ``tests/intake/conftest.py`` starts it, but with the default fsync and
synchronous commit, so that both backends make their writes durable); without the
binaries that backend is skipped with a line saying so. The client threads run on the
same cores as the server: the figures are a floor, not a ceiling. Bounded: every
request has a timeout and a run gives up after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from tests.intake._served import Intake, make_tls, new_intake
from tests.intake.conftest import SyntheticAgent, _free_port, postgres_bin

__all__ = ["main"]


class BenchError(Exception):
    """The bench could not run or the intake misbehaved (a report lost or doubled)."""


@dataclass
class Sender:
    """One agent's pre-signed chain, sent in order; its latencies and retries."""

    agent: SyntheticAgent
    envelopes: list[bytes]
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    retried: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _chain(agent: SyntheticAgent, count: int) -> list[bytes]:
    """``count`` reports of ``agent``'s chain: a sweep, then heartbeats."""
    base = agent.payload(mode="sweep")
    beat = agent.payload(mode="heartbeat")
    out: list[bytes] = []
    previous: str | None = None
    for sequence in range(1, count + 1):
        payload = dict(base if sequence == 1 else beat)
        payload["id"] = str(uuid.uuid4())
        payload["chain"] = {"key_id": agent.key_id, "sequence": sequence, "previous": previous}
        envelope = dsse.sign(canonical_bytes(payload), agent.key)
        previous = dsse.digest(envelope)
        out.append(envelope)
    return out


def _send(intake: Intake, sender: Sender, start: threading.Barrier, deadline: float) -> None:
    client = intake.client()
    conn = client.connection()
    start.wait()
    try:
        for envelope in sender.envelopes:
            while True:
                if time.monotonic() > deadline:
                    sender.failures.append("deadline")
                    return
                began = time.perf_counter()
                try:
                    conn.request(
                        "POST",
                        "/v1/reports",
                        body=envelope,
                        headers={"Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    sender.retries += 1
                    sender.retried[type(exc).__name__] += 1
                    conn.close()
                    conn = client.connection()
                    continue
                sender.latencies.append(time.perf_counter() - began)
                if response.status == 201:
                    break
                if response.status in (429, 503):
                    sender.retries += 1
                    sender.retried[str(response.status)] += 1
                    time.sleep(float(response.getheader("Retry-After") or 1))
                    continue
                sender.failures.append(str(response.status))
                return
    finally:
        conn.close()


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster's database URL, or None without the binaries."""
    bindir = postgres_bin()
    if bindir is None:
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="ftiscan-bench-pg-"))
    data, log = base / "data", base / "server.log"
    run_as: dict[str, int] = {}
    env = {**os.environ, "HOME": str(base), "LC_ALL": "C"}
    if os.geteuid() == 0:
        import pwd

        user = next((u for u in pwd.getpwall() if u.pw_name in ("postgres", "nobody")), None)
        if user is None:
            raise BenchError("running as root and neither a postgres nor a nobody user exists")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    pg_ctl = str(bindir / "pg_ctl")
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        check=True, capture_output=True, env=env, cwd=base, **run_as,  # type: ignore[arg-type]
    )  # fmt: skip
    port = _free_port()
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=300"
    started = subprocess.run(
        [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
        capture_output=True, text=True, env=env, cwd=base, check=False, **run_as,  # type: ignore[arg-type]
    )  # fmt: skip
    if started.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise BenchError(f"pg_ctl start failed: {started.stderr.strip()}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True, env=env, cwd=base, check=False, **run_as,  # type: ignore[arg-type]
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_backend(name: str, db: str, folder: Path, agents: int, reports: int, limit: float) -> str:
    """One bench run against ``db``; the result line."""
    tls = make_tls(folder / "tls")
    fast = ("--rate", "100000/s", "--enroll-rate", "100000/s", "--max-body", "1M")
    intake = new_intake(folder / "intake", tls, *fast, db=db).start()
    try:
        tokens = []
        while len(tokens) < agents:
            tokens += intake.tokens(min(1000, agents - len(tokens)))
        signed_at = time.perf_counter()
        senders = []
        for n in range(agents):
            agent = SyntheticAgent(f"host-{n:04d}.bench.example.gov")
            senders.append(Sender(agent, _chain(agent, reports)))
        signing = time.perf_counter() - signed_at

        def enroll(pair: tuple[Sender, str]) -> int:
            sender, token = pair
            body = {
                "token": token,
                "public_key": sender.agent.public_pem,
                "host_id": sender.agent.host_id,
                "host": {"fqdn": sender.agent.host_id},
            }
            return intake.client().post_json("/v1/enroll", body).status

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(enroll, zip(senders, tokens, strict=True)))
        if set(statuses) != {201}:
            raise BenchError(f"{name}: enrolment answered {sorted(set(statuses))}")

        start = threading.Barrier(agents + 1)
        deadline = time.monotonic() + limit
        threads = [
            threading.Thread(target=_send, args=(intake, s, start, deadline), daemon=True)
            for s in senders
        ]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic() + 30))
        wall = time.perf_counter() - began

        failures = [f for s in senders for f in s.failures]
        if failures:
            raise BenchError(f"{name}: {len(failures)} failures, e.g. {failures[:5]}")
        fleet = intake.client().call("GET", "/v1/fleet", admin=intake.admin).json()
        stored = sum(h["reports"] for h in fleet["hosts"])
        gaps = sum(1 for h in fleet["hosts"] if h["chain"]["gaps"])
        if stored != agents * reports or gaps:
            raise BenchError(f"{name}: stored {stored} of {agents * reports}, {gaps} with gaps")
        latencies = [x for s in senders for x in s.latencies]
        retried: Counter[str] = sum((s.retried for s in senders), Counter())
        why = ", ".join(f"{n} x {what}" for what, n in sorted(retried.items()))
        return (
            f"intake {name:10s}: {agents} agents x {reports} reports = {stored} stored once in "
            f"{wall:.1f} s: {stored / wall:.0f} reports/s accepted; latency p50 "
            f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
            f"{_percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms; "
            f"retries: {why or 'none'} (signing beforehand took {signing:.1f} s)"
        )
    finally:
        code = intake.stop()
        if code != 0:
            print(f"intake {name}: serve exited {code}: {intake.log()[-2000:]}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds per backend")
    args = parser.parse_args(argv)
    if not (1 <= args.agents <= 2000 and 1 <= args.reports <= 10_000):
        parser.error("--agents 1..2000 and --reports 1..10000 keep the run bounded")
    status = 0
    for name in args.backend.split(","):
        with tempfile.TemporaryDirectory(prefix="ftiscan-bench-intake-") as tmp:
            try:
                if name == "sqlite":
                    line = run_backend(
                        name, str(Path(tmp) / "intake.db"), Path(tmp), args.agents,
                        args.reports, args.deadline,
                    )  # fmt: skip
                elif name == "postgresql":
                    with postgres() as url:
                        if url is None:
                            print("intake postgresql: skipped: no PostgreSQL binaries "
                                  "(initdb, pg_ctl); apt-get install postgresql")  # fmt: skip
                            continue
                        line = run_backend(
                            name, url, Path(tmp), args.agents, args.reports, args.deadline
                        )
                else:
                    parser.error(f"unknown backend {name!r} (sqlite, postgresql)")
            except BenchError as exc:
                print(f"intake {name}: FAILED: {exc}")
                status = 1
                continue
        print(line, flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
