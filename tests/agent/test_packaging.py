"""packaging/: the systemd unit and sysusers file, launchd plist, Windows task, samples."""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ftiscan.agent.policy import load_policy

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
UNIT = PACKAGING / "systemd" / "ftiscan-agent.service"
SYSUSERS = PACKAGING / "systemd" / "ftiscan.sysusers"
PLIST = PACKAGING / "launchd" / "gov.ftiscan.agent.plist"
TASK = PACKAGING / "windows" / "ftiscan-agent-task.xml"
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
FTISCAN = Path(sys.executable).with_name("ftiscan")
EXEC_START = "/usr/bin/ftiscan agent run --config /etc/ftiscan/agent.yaml"

# Measured with systemd 252 (Debian 12): "Overall exposure level ... 1.7 OK". What is
# left is what the agent needs: network for the intake, read access to the home folders,
# CAP_DAC_READ_SEARCH, the host's /proc and root. A change that weakens the unit pushes
# the figure over this.
MAX_EXPOSURE = 1.7

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed (Debian package: systemd)",
)


def _directives(unit: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, in order, by key (comments and sections left out)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_unit_sets_the_hardening_directives() -> None:
    """The unit runs the daemon as ftiscan with read-only roots and one capability."""
    unit = _directives(UNIT)
    expected = {
        "Type": "simple",
        "ExecStart": EXEC_START,
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "User": "ftiscan",
        "ProtectSystem": "strict",
        "ProtectHome": "read-only",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "CAP_DAC_READ_SEARCH",
        "AmbientCapabilities": "CAP_DAC_READ_SEARCH",
        "Nice": "10",
        "IOSchedulingClass": "idle",
        "CPUQuota": "25%",
        "MemoryMax": "300M",
        "Restart": "on-failure",
        "RestartSec": "10s",
        "TimeoutStopSec": "10s",
        "KillSignal": "SIGTERM",
        "UMask": "0077",
        "StateDirectory": "ftiscan ftiscan/state ftiscan/keys",
    }
    assert {key: unit.get(key, ["<missing>"])[-1] for key in expected} == expected
    assert unit["SystemCallFilter"] == ["@system-service", "~@privileged"]
    assert unit["Environment"] == [
        "FTISCAN_STATE_DIR=/var/lib/ftiscan/state",
        "FTISCAN_KEY_DIR=/var/lib/ftiscan/keys",
    ]
    assert "ReadWritePaths" not in unit  # the state folder is the only writable place


@needs_analyze
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit with no warning at all."""
    # verify fails when ExecStart's binary does not exist, and /usr/bin/ftiscan is not
    # installed here. `--root=DIR` would look for it under DIR, but then also needs the
    # whole unit tree (sysinit.target, /bin/kill) there. So we verify a copy whose only
    # change is ExecStart pointing at the console script of this virtual environment.
    # verify exits 0 even on an unknown key or a bad value (it only logs "ignoring"),
    # so standard error must also be empty.
    text = UNIT.read_text(encoding="utf-8")
    assert text.count("ExecStart=/usr/bin/ftiscan ") == 1
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace("ExecStart=/usr/bin/ftiscan ", f"ExecStart={FTISCAN} "))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


@needs_analyze
def test_unit_security_exposure_is_low() -> None:
    """`systemd-analyze security --offline=yes` rates the unit at most 1.7, "OK" or better."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze security --offline needs systemd 250 or later")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found[1]) <= MAX_EXPOSURE
    assert found[2] in {"SAFE", "OK", "PERFECT"}


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers absent")
def test_sysusers_creates_the_system_user(tmp_path: Path) -> None:
    """`systemd-sysusers --dry-run` on an empty root would create user and group ftiscan."""
    (tmp_path / "etc").mkdir()
    result = subprocess.run(
        ["systemd-sysusers", "--dry-run", f"--root={tmp_path}", str(SYSUSERS)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Creating user 'ftiscan'" in result.stderr
    assert "Creating group 'ftiscan'" in result.stderr


def test_launchd_plist_is_a_background_daemon() -> None:
    """The plist parses and runs `ftiscan agent run` as _ftiscan, at low priority, kept alive."""
    with PLIST.open("rb") as fh:
        job = plistlib.load(fh)
    base = "/Library/Application Support/ftiscan"
    assert job["Label"] == PLIST.stem
    assert job["ProgramArguments"][1:] == ["agent", "run", "--config", f"{base}/agent.yaml"]
    assert job["ProgramArguments"][0].endswith("/bin/ftiscan")
    assert job["UserName"] == "_ftiscan"
    assert job["RunAtLoad"] is True
    assert job["KeepAlive"] == {"SuccessfulExit": False, "Crashed": True}
    assert job["ProcessType"] == "Background"
    assert job["LowPriorityIO"] is True
    assert job["Nice"] == 10
    assert job["ThrottleInterval"] == 10
    assert job["Umask"] == 0o077
    assert job["EnvironmentVariables"] == {
        "FTISCAN_STATE_DIR": f"{base}/state",
        "FTISCAN_KEY_DIR": f"{base}/keys",
    }
    assert {"StandardOutPath", "StandardErrorPath"} <= set(job)


def test_windows_task_runs_the_agent_at_boot_below_normal() -> None:
    """The task XML runs `ftiscan.exe agent run` at boot as SYSTEM, priority 7, restarting."""
    assert TASK.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    task = ET.parse(TASK).getroot()  # noqa: S314 - our own file, not untrusted input
    assert task.tag == f"{{{TASK_NS['t']}}}Task"
    assert task.get("version") == "1.2"

    def text(path: str) -> str:
        return task.findtext(path, default="<missing>", namespaces=TASK_NS)

    assert text("t:Actions/t:Exec/t:Command").endswith("\\Scripts\\ftiscan.exe")
    assert text("t:Actions/t:Exec/t:Arguments") == (
        'agent run --config "C:\\ProgramData\\ftiscan\\agent.yaml"'
    )
    assert task.find("t:Triggers/t:BootTrigger", TASK_NS) is not None
    assert text("t:Principals/t:Principal/t:UserId") == "S-1-5-18"
    settings = {
        "Priority": "7",
        "ExecutionTimeLimit": "PT0S",
        "MultipleInstancesPolicy": "IgnoreNew",
        "DisallowStartIfOnBatteries": "false",
        "StopIfGoingOnBatteries": "false",
        "RestartOnFailure/t:Interval": "PT1M",
        "RestartOnFailure/t:Count": "999",
        "IdleSettings/t:StopOnIdleEnd": "false",
    }
    assert {key: text(f"t:Settings/t:{key}") for key in settings} == settings


def test_windows_scripts_register_and_remove_the_task() -> None:
    """install.ps1 locks the data folder to SYSTEM and Administrators and registers the task."""
    install = (PACKAGING / "windows" / "install.ps1").read_text(encoding="utf-8")
    uninstall = (PACKAGING / "windows" / "uninstall.ps1").read_text(encoding="utf-8")
    assert "SetAccessRuleProtection($true, $false)" in install
    assert '@("S-1-5-18", "S-1-5-32-544")' in install
    assert "Register-ScheduledTask" in install
    assert "ftiscan-agent-task.xml" in install
    assert "Unregister-ScheduledTask" in uninstall


def test_sample_policy_loads() -> None:
    """packaging/policy.yaml is accepted by load_policy and sets every limit it names."""
    policy = load_policy(PACKAGING / "policy.yaml")
    assert policy.approved == ("/srv/fti-vault", "/home/*/Approved/*")
    assert policy.excludes == ("*.iso", "/home/*/.cache")
    assert policy.edm == PACKAGING / "fti.edm"
    assert policy.limits.max_file_bytes == 512 * 1024**2
    assert policy.limits.max_seconds == 300


def test_sample_agent_config_has_the_documented_keys() -> None:
    """packaging/agent.yaml is YAML with roots, schedule, budget, edm and intake as documented."""
    config = yaml.safe_load((PACKAGING / "agent.yaml").read_text(encoding="utf-8"))
    assert set(config) == {
        "roots",
        "exclude",
        "approved",
        "schedule",
        "budget",
        "edm",
        "intake",
    }
    assert all(isinstance(config[key], list) for key in ("roots", "exclude", "approved"))
    assert config["schedule"] == {"full_sweep": "24h", "heartbeat": "1h"}
    assert config["budget"] == {
        "cpu_percent": 25,
        "memory_mb": 150,
        "pause_on_battery": True,
        "pause_when_user_active": False,
    }
    assert config["edm"] == "/etc/ftiscan/fti.edm"
    assert set(config["intake"]) == {"url", "ca"}
    assert config["intake"]["url"].startswith("https://")
