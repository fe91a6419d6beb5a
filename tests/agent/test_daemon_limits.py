"""The daemon when the kernel runs out of inotify instances or watches, for real.

Each agent runs in a user namespace of its own (``unshare --user --map-root-user``)
whose inotify limits the test lowers (``/proc/sys/user/max_inotify_*``): the kernel
refuses the watches, nothing is simulated, and the machine's own limits are untouched.
Skipped where user namespaces are not allowed.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.daemon_harness import WAIT, Agent, quick_agent


def _userns_with(limits: dict[str, int]) -> list[str]:
    script = "".join(f"echo {v} > /proc/sys/user/{k} && " for k, v in limits.items())
    return ["unshare", "--user", "--map-root-user", "sh", "-c", script + 'exec "$@"', "sh"]


def _can_limit() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [*_userns_with({"max_inotify_watches": 5}), "true"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return probe.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _can_limit(), reason="user namespaces are not allowed here"),
]


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    with quick_agent(tmp_path) as running:
        yield running


def _holding(agent: Agent, path: Path, after: int) -> dict[str, Any]:
    return agent.wait_for(
        lambda r: str(path) in {f["path"] for f in r["findings"]}, after, f"{path.name} found"
    )


def test_no_inotify_instance_left_means_periodic_sweeps_said_in_every_report(
    agent: Agent,
) -> None:
    agent.prefix = _userns_with({"max_inotify_instances": 0})
    agent.start()
    first = agent.wait_for(lambda r: r["scan"]["options"]["mode"] == "sweep", 0, "sweep")
    assert first["scan"]["options"]["watch"] == (
        "off: watch:exhausted (EMFILE); periodic sweeps every 1s"
    )
    late = agent.write_records("late.csv", 2)
    found = _holding(agent, late, first["chain"]["sequence"])
    assert found["scan"]["options"]["mode"] == "sweep"
    assert found["scan"]["options"]["watch"] == first["scan"]["options"]["watch"]
    assert agent.stop()[0] == 0


def test_folders_beyond_the_watch_limit_are_not_taken_for_watched(agent: Agent) -> None:
    """The root and one folder fit in two watches; three more folders made later do
    not (watchdog gives up on them silently): the agent notices, falls back to periodic
    sweeps and says so, and a file written later in an unwatched folder is found."""
    (agent.tree / "d1").mkdir()
    agent.write_records("d1/first.csv", 2)
    agent.prefix = _userns_with({"max_inotify_watches": 2})
    agent.start()
    first = agent.wait_for(lambda r: r["scan"]["options"]["mode"] == "sweep", 0, "sweep")
    assert first["scan"]["options"]["watch"] == "InotifyObserver"
    head = agent.head()
    for n in range(3):
        (agent.tree / f"new{n}").mkdir()
        agent.write_records(f"new{n}/q.csv", 2)
    batch = _holding(agent, agent.tree / "new2" / "q.csv", head)
    assert batch["scan"]["options"]["watch"] == (
        "off: watch:exhausted (3 folder(s) could not be watched); periodic sweeps every 1s"
    )
    later = agent.write_records("new0/later.csv", 2)
    found = _holding(agent, later, batch["chain"]["sequence"])
    assert found["scan"]["options"]["mode"] == "sweep"
    assert "3 folder(s) could not be watched (first: " in agent.log()
    assert agent.stop()[0] == 0


def test_a_tree_with_more_folders_than_watches_is_swept_not_watched(agent: Agent) -> None:
    """Already at start the root takes the one watch there is: the first sweep report
    says the folders below are not watched."""
    for n in range(2):
        (agent.tree / f"d{n}").mkdir()
        agent.write_records(f"d{n}/p.csv", 1)
    agent.prefix = _userns_with({"max_inotify_watches": 1})
    began = time.monotonic()
    agent.start()
    first = agent.wait_for(lambda r: r["scan"]["options"]["mode"] == "sweep", 0, "sweep")
    # Usually the root takes the watch and watchdog drops the two folders below it
    # silently (`_check_watched` counts them). Once, on the CI replica under the whole
    # suite's load, the root's own watch failed (ENOSPC raised: no observer at all;
    # a watch the kernel had not yet freed?). Either way the report says it is off.
    assert first["scan"]["options"]["watch"] in {
        "off: watch:exhausted (2 folder(s) could not be watched); periodic sweeps every 1s",
        "off: watch:exhausted (ENOSPC); periodic sweeps every 1s",
    }
    assert len(first["findings"]) == 2
    assert time.monotonic() - began < WAIT
    assert agent.stop()[0] == 0
