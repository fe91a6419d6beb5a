"""The outbox, ``ftiscan submit`` and the intake's storage under real faults.

* kill -9 of ``ftiscan submit`` and of ``ftiscan intake serve`` at seeded random
  moments while reports go out: afterwards the intake holds every report of the
  chain once, with the receipt the agent stored, and the outbox is empty;
* no space left for the receipts (a full tmpfs in a user namespace): exit 2 naming
  the file, the report stays pending; with space again the resend gets the same
  receipt and the intake still holds the report once.
"""

from __future__ import annotations

import random
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.submit_harness import Agent, Intake, Tls, make_tls
from tests.faults._faults import FTISCAN, SEED, Session, needs_userns, tmpfs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def intake(tmp_path: Path, tls: Tls) -> Iterator[Intake]:
    running = Intake(tmp_path / "intake", tls).start()
    yield running
    running.stop(signal.SIGKILL)


def test_submit_and_intake_killed_at_random_moments(
    tmp_path: Path, intake: Intake, tls: Tls
) -> None:
    rng = random.Random(SEED)
    agent = Agent(tmp_path / "agent")
    assert agent.enroll(intake).returncode == 0
    agent.scan(1)
    agent.copies(24)
    kills: list[str] = []
    for _ in range(6):
        if intake.proc is None:
            intake.start()
        sender = agent.popen("submit")
        delay = rng.uniform(0.1, 2.0)
        time.sleep(delay)
        victim = rng.choice(["submit", "intake", "both"])
        kills.append(f"{victim}@{delay:.2f}s")
        if victim in ("intake", "both"):
            intake.stop(signal.SIGKILL)
        if victim in ("submit", "both"):
            sender.send_signal(signal.SIGKILL)
        try:
            sender.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            sender.kill()
            sender.communicate()
    if intake.proc is None:
        intake.start()
    # --wait: the intake may rate-limit (429) the resends of the killed rounds
    done = agent.run("submit", "--wait", "--max-wait", "120", "--backoff-cap", "2")
    assert done.returncode == 0, f"seed {SEED}, kills {kills}: {done.stderr}"
    assert done.stdout.splitlines()[-1].endswith("; 0 in the outbox"), f"seed {SEED}: {kills}"
    stored = intake.export(tmp_path / "export")  # also: one file per sequence
    assert stored["reports"] == agent.chain(), f"seed {SEED}, kills {kills}"
    assert stored["receipts"] == agent.receipts(), f"seed {SEED}, kills {kills}"
    assert sorted(stored["reports"]) == list(range(1, 26))


@needs_userns
def test_no_space_for_the_receipt(tmp_path: Path, intake: Intake) -> None:
    agent = Agent(tmp_path / "agent")
    assert agent.enroll(intake).returncode == 0
    agent.scan(1)
    receipts = agent.state / "receipts"
    receipts.mkdir()
    steps = (
        Session(tmp_path / "ns", tmpfs(receipts, "16k", fill=16 * 1024), agent.env)
        .cli("submit")
        .sh(f"rm {receipts}/.filler")
        .cli("submit")
        .sh(f"cp -a {receipts} {tmp_path}/kept")
        .run()
    )
    (code, stdout, stderr), (again, again_out, again_err) = steps
    target = receipts / agent.key_id / "000000000001.receipt.dsse.json"
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"ftiscan: error: {target}: No space left on device: the outbox cannot be written; "
        "its reports stay pending\n"
    )
    assert (again, again_err) == (0, "")
    lines = again_out.splitlines()
    assert lines[0].startswith("report 1: delivered (already held by the intake), receipt ")
    assert lines[-1] == "1 delivered now; 0 in the outbox"
    stored = intake.export(tmp_path / "export")
    assert sorted(stored["reports"]) == [1]
    kept = tmp_path / "kept" / agent.key_id / "000000000001.receipt.dsse.json"
    assert stored["receipts"] == {1: kept.read_bytes()}


@needs_userns
def test_no_space_for_the_intake_database(tmp_path: Path, tls: Tls) -> None:
    """The intake's database on a full file system: the intake answers 503 and stays
    up, the agent keeps the report and says it will retry; with space again the same
    report is stored once, with the receipt the agent then holds."""
    first = Intake(tmp_path / "before", tls).start()
    agent = Agent(tmp_path / "agent")
    assert agent.enroll(first).returncode == 0
    agent.scan(1)
    first.stop()  # SIGTERM: a clean stop, the database whole in one file
    live = Intake(tmp_path / "live", tls)
    live.port, live.url = first.port, first.url  # the URL the agent pinned
    serve = [
        str(FTISCAN), "intake", "serve", "--db", str(live.db), "--key", str(live.key),
        "--host", "127.0.0.1", "--port", str(live.port), "--port-file", str(live.folder / "port"),
        "--tls-cert", str(tls.chain), "--tls-key", str(tls.key),
    ]  # fmt: skip
    port = shlex.quote(str(live.folder / "port"))
    pid = tmp_path / "serve.pid"
    setup = (
        tmpfs(live.folder, "1m")
        + f" && cp -a {tmp_path}/before/. {live.folder}/ && rm -f {port}"
        + f" && {{ {' '.join(shlex.quote(a) for a in serve)} 2> {tmp_path}/serve.err &"
        + f" echo $! > {pid}; }}"
        + f" && n=0; while [ ! -s {port} ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done"
        + f" && (cat /dev/zero > {live.folder}/.filler 2>/dev/null; true)"  # full, while up
    )
    steps = (
        Session(tmp_path / "ns", setup, agent.env)
        .cli("submit")
        .sh(f"rm {live.folder}/.filler")
        .cli("submit")
        .sh(f"kill -TERM $(cat {pid}); while kill -0 $(cat {pid}) 2>/dev/null; do sleep 0.05; done")
        .sh(f"cp -a {live.folder}/. {tmp_path}/after/")
        .run()
    )
    log = (tmp_path / "serve.err").read_text(errors="replace")[-2000:]
    (code, stdout, stderr), (again, again_out, _) = steps
    assert code == 1, log
    assert "report 1: the intake answered 503 unavailable" in stderr + stdout, log
    assert again == 0, log
    assert again_out.splitlines()[-1] == "1 delivered now; 0 in the outbox"
    after = Intake(tmp_path / "after", tls)
    stored = after.export(tmp_path / "export")
    assert stored["reports"] == agent.chain()
    assert stored["receipts"] == agent.receipts()
