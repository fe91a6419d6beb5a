"""The agent config: defaults, merged policy, durations, and exact errors."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.agent.config import (
    AgentConfig,
    Budget,
    Intake,
    Schedule,
    format_duration,
    load_config,
    parse_duration,
)
from ftiscan.scanner.errors import ConfigError
from ftiscan.scanner.model import Limits

FULL = """\
version: 1
roots: [/home, share]
exclude: ["*.iso", "/home/*/.cache"]
approved: ["/srv/fti-vault"]
edm: idx/fti.edm
schedule: {full_sweep: 12h, heartbeat: 30m, settle: 500ms}
budget: {cpu_percent: 10, memory_mb: 90, pause_on_battery: false,
         pause_when_user_active: true, idle_seconds: 2m}
intake: {url: "https://intake.example.gov/v1", ca: ca.pem}
state_dir: state
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "agent.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_config_loads_every_key(tmp_path: Path) -> None:
    """Each key lands in its field; relative paths are relative to the config file."""
    path = _write(tmp_path, FULL)
    config = load_config(path)
    assert config.roots == (Path("/home"), tmp_path / "share")
    assert config.excludes == ("*.iso", "/home/*/.cache")
    assert config.approved == ("/srv/fti-vault",)
    assert config.edm == tmp_path / "idx/fti.edm"
    assert config.schedule == Schedule(full_sweep=43200.0, heartbeat=1800.0, settle=0.5)
    assert config.budget == Budget(
        cpu_percent=10.0,
        memory_mb=90,
        pause_on_battery=False,
        pause_when_user_active=True,
        idle_seconds=120.0,
    )
    assert config.intake == Intake(url="https://intake.example.gov/v1", ca=tmp_path / "ca.pem")
    assert config.state_dir == tmp_path / "state"
    assert config.digest == "sha256:" + hashlib.sha256(FULL.encode()).hexdigest()
    assert config.source == path
    assert config.policy.approved == ("/srv/fti-vault",)
    assert config.policy.excludes == ("*.iso", "/home/*/.cache")
    assert config.policy.edm == tmp_path / "idx/fti.edm"


def test_config_minimal_keeps_safe_defaults(tmp_path: Path) -> None:
    """Only roots given: the budget is 25 % of one core, 150 MB, pause on battery."""
    config = load_config(_write(tmp_path, "roots: [/home]\n"))
    assert config == AgentConfig(
        roots=(Path("/home"),),
        digest=config.digest,
        source=tmp_path / "agent.yaml",
    )
    assert config.budget == Budget(cpu_percent=25.0, memory_mb=150, pause_on_battery=True)
    assert config.schedule == Schedule(full_sweep=86400.0, heartbeat=3600.0, settle=2.0)
    assert config.intake is None
    assert config.policy.limits == Limits()


def test_config_merges_the_policy_file(tmp_path: Path) -> None:
    """The policy's limits apply; its lists are added to the config's; config edm wins."""
    (tmp_path / "p").mkdir()
    policy_text = 'approved: ["/vault2"]\nexclude: ["*.vmdk"]\nedm: p.edm\nlimits: {max_depth: 2}\n'
    _write(tmp_path, policy_text, "p/policy.yaml")
    text = 'roots: [/home]\napproved: ["/vault"]\npolicy: p/policy.yaml\n'
    config = load_config(_write(tmp_path, text))
    assert config.policy.approved == ("/vault", "/vault2")
    assert config.policy.excludes == ("*.vmdk",)
    assert config.policy.limits == Limits(max_depth=2)
    assert config.policy.edm == tmp_path / "p/p.edm"
    assert config.edm == tmp_path / "p/p.edm"
    assert config.policy.digest == "sha256:" + hashlib.sha256(policy_text.encode()).hexdigest()
    config = load_config(_write(tmp_path, text + "edm: mine.edm\n"))
    assert config.policy.edm == config.edm == tmp_path / "mine.edm"


def test_config_allows_http_only_to_localhost(tmp_path: Path) -> None:
    """Tests may submit to a local intake over plain HTTP; nothing else may."""
    for url in ("http://127.0.0.1:8443/", "http://localhost/x"):
        config = load_config(_write(tmp_path, f'roots: [/h]\nintake: {{url: "{url}"}}\n'))
        assert config.intake == Intake(url=url)


CORES = os.cpu_count() or 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "agent.yaml:1:1: roots is required"),
        ("version: 1\n", "agent.yaml:1:1: roots is required"),
        ("roots: []\n", "agent.yaml:1:8: roots must name at least one folder"),
        ("roots: /home\n", "agent.yaml:1:8: roots must be a list of non-empty strings"),
        ("roots: [/h, 3]\n", "agent.yaml:1:8: roots must be a list of non-empty strings"),
        ("roots: [/h]\nroot: [/x]\n", "agent.yaml:2:1: unknown key 'root'"),
        ("roots: [/h]\nroots: [/x]\n", "agent.yaml:2:1: roots is given twice"),
        ("roots: [/h]\n1: x\n", "agent.yaml:2:1: unknown key '1'"),
        ("roots: [/h]\nversion: 2\n", "agent.yaml:2:10: version must be 1"),
        ("- /home\n", "agent.yaml:1:1: an agent config is a mapping"),
        ("roots: [/h\n", "agent.yaml:2:1: not valid YAML"),
        ("roots: [/h]\nx: \x01\n", "agent.yaml:2:4: not valid YAML"),
        ("roots: [/h]\nexclude: [1]\n", "agent.yaml:2:10: exclude must be a list"),
        ("roots: [/h]\napproved: {a: 1}\n", "agent.yaml:2:11: approved must be a list"),
        ("roots: [/h]\nschedule: 5m\n", "agent.yaml:2:11: schedule must be a mapping"),
        (
            "roots: [/h]\nschedule:\n  full_sweep: 24h\n  heartbaet: 1h\n",
            "agent.yaml:4:3: unknown key 'schedule.heartbaet'",
        ),
        (
            "roots: [/h]\nschedule: {heartbeat: 1 hour}\n",
            "agent.yaml:2:23: schedule.heartbeat: '1 hour' is not a duration",
        ),
        (
            "roots: [/h]\nschedule: {full_sweep: -5}\n",
            "agent.yaml:2:24: schedule.full_sweep: -5: a duration cannot be negative",
        ),
        (
            "roots: [/h]\nschedule: {heartbeat: 0}\n",
            "agent.yaml:2:23: schedule.heartbeat must be > 0",
        ),
        ("roots: [/h]\nschedule: {settle: 400d}\n", "agent.yaml:2:20: schedule.settle: '400d'"),
        (
            "roots: [/h]\nbudget:\n  cpu_percent: 0\n",
            "agent.yaml:3:16: budget.cpu_percent must be a number in (0, ",
        ),
        (
            f"roots: [/h]\nbudget: {{cpu_percent: {100 * CORES + 1}}}\n",
            f"agent.yaml:2:23: budget.cpu_percent must be a number in (0, {100 * CORES}]",
        ),
        ("roots: [/h]\nbudget: {cpu_percent: lots}\n", "agent.yaml:2:23: budget.cpu_percent"),
        ("roots: [/h]\nbudget: {cpu_percent: .nan}\n", "agent.yaml:2:23: budget.cpu_percent"),
        ("roots: [/h]\nbudget: {memory_mb: 1.5}\n", "agent.yaml:2:21: budget.memory_mb must be"),
        ("roots: [/h]\nbudget: {memory_mb: true}\n", "agent.yaml:2:21: budget.memory_mb must be"),
        (
            "roots: [/h]\nbudget: {pause_on_battery: 'yes'}\n",
            "agent.yaml:2:28: budget.pause_on_battery must be true or false",
        ),
        ("roots: [/h]\nbudget: {idle_seconds: x}\n", "agent.yaml:2:24: budget.idle_seconds:"),
        ("roots: [/h]\nintake: {ca: a.pem}\n", "agent.yaml:2:9: intake.url is required"),
        (
            "roots: [/h]\nintake: {url: 'http://intake.example.gov'}\n",
            "agent.yaml:2:15: intake.url must be https://",
        ),
        (
            "roots: [/h]\nintake: {url: 'https://u:pw@intake.example.gov'}\n",
            "agent.yaml:2:15: intake.url must not carry a user name or password",
        ),
        ("roots: [/h]\nintake: {url: 'https://'}\n", "agent.yaml:2:15: intake.url has no host"),
        ("roots: [/h]\nintake: {url: 'https://h:99999'}\n", "agent.yaml:2:15: intake.url is not"),
        ("roots: [/h]\nintake: {url: 'https://h', ca: 5}\n", "agent.yaml:2:32: intake.ca must be"),
        ("roots: [/h]\nedm: [a]\n", "agent.yaml:2:6: edm must be a path"),
        ("roots: ['~nosuchuser_x/a']\n", "agent.yaml:1:8: roots: cannot expand"),
        ("roots: [/h]\npolicy: nope.yaml\n", "agent.yaml:2:9: policy "),
    ],
)
def test_config_errors_name_file_line_column(tmp_path: Path, text: str, error: str) -> None:
    """Each defect is refused at the exact node, with the reason."""
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / error)), str(info.value)


def test_config_errors_inside_the_policy_name_the_policy(tmp_path: Path) -> None:
    """A defect in the merged policy file is reported at its own file and line."""
    _write(tmp_path, "limits:\n  max_depht: 3\n", "policy.yaml")
    with pytest.raises(ConfigError, match=r"policy\.yaml:2:3: unknown limit 'max_depht'"):
        load_config(_write(tmp_path, "roots: [/h]\npolicy: policy.yaml\n"))


def test_config_refuses_unreadable_and_non_utf8(tmp_path: Path) -> None:
    """A missing file or non-UTF-8 bytes are a ConfigError, not an OSError."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(_write(tmp_path, b"roots: [\xff]\n"))


_YAMLISH = st.text(
    alphabet=st.sampled_from(list("roots:budget schedule intake{}[],-'\"&*!|>#\n\t 01h5m.%\x01~/")),
    max_size=80,
)
_KEYWORDS = st.lists(
    st.sampled_from(
        [
            "roots: [/h]\n",
            "budget: {cpu_percent: 25}\n",
            "schedule: {settle: 2s}\n",
            "intake: {url: 'https://x'}\n",
            "version: 1\n",
            "a: &x [1]\nb: *x\n",
            "d: 2001-13-01\n",
            "t: !!timestamp x\n",
            "i: !!int x\n",
            "? [a]\n: b\n",
            "<<: {roots: [/h]}\n",
            "[" * 200,
        ]
    ),
    max_size=4,
)


@settings(deadline=None)  # file writes and YAML parsing: over 200 ms under load
@given(parts=_KEYWORDS, noise=_YAMLISH)
def test_config_loader_raises_only_config_error_on_yamlish_text(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str], noise: str
) -> None:
    """Arbitrary YAML-ish text either loads or is refused with a ConfigError."""
    path = tmp_path_factory.mktemp("cfg") / "agent.yaml"
    path.write_text("".join(parts) + noise, encoding="utf-8")
    with contextlib.suppress(ConfigError):
        load_config(path)


@given(data=st.binary(max_size=200))
def test_config_loader_raises_only_config_error_on_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """Arbitrary bytes either load or are refused with a ConfigError."""
    path = tmp_path_factory.mktemp("cfg") / "agent.yaml"
    path.write_bytes(data)
    with contextlib.suppress(ConfigError):
        load_config(path)


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


@given(number=st.integers(0, 365), unit=st.sampled_from(sorted(_UNITS)))
def test_parse_duration_reads_every_unit(number: int, unit: str) -> None:
    """``<n><unit>`` is n times the unit, in seconds, and formats back to the same value."""
    seconds = parse_duration(f"{number}{unit}")
    assert seconds == pytest.approx(number * _UNITS[unit], abs=1e-9)
    assert parse_duration(format_duration(seconds)) == seconds


@given(ms=st.integers(0, 366 * 86_400_000))
def test_parse_duration_round_trips(ms: int) -> None:
    """Every whole-millisecond duration formats to a text that parses back to it exactly."""
    seconds = ms / 1000
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert parse_duration(seconds) == seconds
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("bad", [True, None, "1x", "-1s", "1.0001s", "367d", float("inf"), [1]])
def test_parse_duration_refuses_non_durations(bad: object) -> None:
    """Booleans, units it does not know, sub-millisecond, negative and huge values fail."""
    with pytest.raises(ValueError, match=r"duration|year"):
        parse_duration(bad)
