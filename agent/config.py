"""The agent's configuration (``agent.yaml``): what to watch, when, and within what budget.

```yaml
version: 1
roots: [/home, /srv/share]          # required: the folders to watch and sweep
exclude: ["*.iso", "/home/*/.cache"]
approved: ["/srv/fti-vault"]        # findings there are info
policy: /etc/ftiscan/policy.yaml    # optional: a policy file (limits, approved, exclude, edm)
edm: /etc/ftiscan/fti.edm           # optional exact-data-match index
signatures: [/etc/ftiscan/packs]    # optional: folders of extra signature packs (*.yaml)
schedule: {full_sweep: 24h, heartbeat: 1h, settle: 2s}
budget: {cpu_percent: 25, memory_mb: 150, pause_on_battery: true,
         pause_when_user_active: false, idle_seconds: 300}
intake: {url: "https://intake.example.gov", ca: /etc/ftiscan/ca.pem}
state_dir: /var/lib/ftiscan
```

Relative paths (roots, policy, edm, signatures, ca, state_dir) are relative to the config
file; ``~`` is expanded. Durations are ``250ms``, ``30s``, ``5m``, ``1h``, ``1d`` or a number of
seconds. Every key but ``roots`` is optional and keeps a safe default. A malformed
config (unknown or repeated key, wrong type, bad duration, a CPU share the machine does
not have, an intake that is not HTTPS) is refused with file, line, column and reason
(`ConfigError`), never half applied.

The policy file, when named, is merged in: its approved locations and excludes are
added to the config's, its limits apply, and its ``edm`` is used unless the config
names one. `AgentConfig.policy` is that merged policy (its digest is the policy file's);
`AgentConfig.digest` is the SHA-256 of the config file's bytes, for reports.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ftiscan.agent.policy import Policy, _error, _node_at, _parse, _strings, load_policy
from ftiscan.scanner.errors import ConfigError

__all__ = [
    "AgentConfig",
    "Budget",
    "Intake",
    "Schedule",
    "format_duration",
    "load_config",
    "parse_duration",
]

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", re.ASCII)
MAX_DURATION_MS = 366 * _UNIT_MS["d"]
"""The longest duration accepted (a year and a day): longer is a typo, not a schedule."""

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def parse_duration(value: object) -> float:
    """Seconds in a duration: ``250ms``, ``30s``, ``5m``, ``1h``, ``1d``, or a number.

    Whole milliseconds only, from 0 up to a year and a day.

    >>> parse_duration("30s"), parse_duration("5m"), parse_duration("1h"), parse_duration("1d")
    (30.0, 300.0, 3600.0, 86400.0)
    >>> parse_duration(90), parse_duration("1.5s"), parse_duration("250ms"), parse_duration(0.5)
    (90.0, 1.5, 0.25, 0.5)
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ValueError: 'soon' is not a duration like 30s, 5m, 1h, 1d
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h, 1d")
    if isinstance(value, int):
        amount = Fraction(value) * 1000
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h, 1d")
        amount = Fraction(repr(value)) * 1000
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        amount = Fraction(match[1]) * _UNIT_MS[match[2] or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h, 1d")
    if amount < 0:
        raise ValueError(f"{value!r}: a duration cannot be negative")
    if amount.denominator != 1:
        raise ValueError(f"{value!r}: a duration is whole milliseconds")
    if amount > MAX_DURATION_MS:
        raise ValueError(f"{value!r}: longer than a year and a day")
    return int(amount) / 1000


def format_duration(seconds: float) -> str:
    """The shortest text `parse_duration` reads back as ``seconds``.

    >>> format_duration(86400.0), format_duration(300.0), format_duration(90.0)
    ('1d', '5m', '90s')
    >>> format_duration(0.25), format_duration(0)
    ('250ms', '0s')
    """
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    for unit in ("d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class Schedule:
    """When the agent sweeps, reports that it is alive, and waits for writes to settle."""

    full_sweep: float = 86_400.0  # seconds between full sweeps of the roots
    heartbeat: float = 3_600.0  # seconds between heartbeat reports
    settle: float = 2.0  # seconds a file must stay unchanged before it is scanned


@dataclass(frozen=True)
class Budget:
    """The share of the machine the agent may use, and when it steps aside."""

    cpu_percent: float = 25.0  # of ONE core, averaged (100 = one full core)
    memory_mb: int = 150  # resident memory of the agent and its children
    pause_on_battery: bool = True
    pause_when_user_active: bool = False
    idle_seconds: float = 300.0  # input within this many seconds = the user is active


@dataclass(frozen=True)
class Intake:
    """Counsel's intake service: where reports are submitted, and the CA to trust."""

    url: str
    ca: Path | None = None  # a PEM bundle; None = the system's trust store


@dataclass(frozen=True)
class AgentConfig:
    """A checked ``agent.yaml``; `policy` is the merged scan policy."""

    roots: tuple[Path, ...]
    excludes: tuple[str, ...] = ()
    approved: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    edm: Path | None = None
    signatures: tuple[Path, ...] = ()  # folders of packs added to the built-in ones
    schedule: Schedule = field(default_factory=Schedule)
    budget: Budget = field(default_factory=Budget)
    intake: Intake | None = None
    state_dir: Path | None = None
    digest: str | None = None  # sha256:<hex> of the config file's bytes
    source: Path | None = None


_TOP = ("version", "roots", "exclude", "approved", "policy", "edm", "signatures")
_KEYS = {
    "": (*_TOP, "schedule", "budget", "intake", "state_dir"),
    "schedule": tuple(f.name for f in fields(Schedule)),
    "budget": tuple(f.name for f in fields(Budget)),
    "intake": tuple(f.name for f in fields(Intake)),
}


def _check_keys(path: Path, node: yaml.Node, section: str) -> None:
    """Refuse a key that is unknown, repeated, or not a plain name, at the key itself."""
    assert isinstance(node, yaml.MappingNode)
    known, seen = _KEYS[section], set()
    prefix = f"{section}." if section else ""
    for key, _ in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if not isinstance(name, str) or name not in known:
            shown = repr(f"{prefix}{name}") if isinstance(name, str) else "(not a name)"
            raise _error(path, key, f"unknown key {shown} (known: {', '.join(known)})")
        if name in seen:
            raise _error(path, key, f"{prefix}{name} is given twice")
        seen.add(name)


def _section(path: Path, root: yaml.Node, doc: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in doc:
        return {}
    value, node = doc[name], _node_at(root, name)
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        raise _error(path, node, f"{name} must be a mapping")
    _check_keys(path, node, name)
    return value


def _local_path(path: Path, root: yaml.Node, value: object, *keys: str) -> Path:
    """``value`` as a path: ``~`` expanded, relative to the config file's folder."""
    node = _node_at(root, *keys)
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise _error(path, node, f"{'.'.join(keys)} must be a path, got {value!r}")
    try:
        return path.parent / Path(value).expanduser()
    except RuntimeError:  # ~name of an unknown user, or no home folder
        raise _error(path, node, f"{'.'.join(keys)}: cannot expand {value!r}") from None


def _optional_path(path: Path, root: yaml.Node, doc: dict[str, Any], *keys: str) -> Path | None:
    value = doc.get(keys[-1])
    return None if value is None else _local_path(path, root, value, *keys)


def _schedule(path: Path, root: yaml.Node, doc: dict[str, Any]) -> Schedule:
    given = _section(path, root, doc, "schedule")
    values: dict[str, float] = {}
    for key, value in given.items():
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise _error(path, _node_at(root, "schedule", key), f"schedule.{key}: {exc}") from None
        if seconds == 0 and key != "settle":
            raise _error(path, _node_at(root, "schedule", key), f"schedule.{key} must be > 0")
        values[key] = seconds
    return replace(Schedule(), **values)


def _budget(path: Path, root: yaml.Node, doc: dict[str, Any]) -> Budget:
    given = _section(path, root, doc, "budget")
    cores = os.cpu_count() or 1
    values: dict[str, Any] = {}
    for key, value in given.items():
        node = _node_at(root, "budget", key)
        if key == "cpu_percent":
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
            if not (math.isfinite(number) and 0 < number <= 100 * cores):
                reason = f"budget.cpu_percent must be a number in (0, {100 * cores}]"
                raise _error(path, node, f"{reason} ({cores} cores), got {value!r}")
            values[key] = float(number)
        elif key == "memory_mb":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _error(
                    path, node, f"budget.memory_mb must be a positive integer, got {value!r}"
                )
            values[key] = value
        elif key == "idle_seconds":
            try:
                values[key] = parse_duration(value)
            except ValueError as exc:
                raise _error(path, node, f"budget.idle_seconds: {exc}") from None
        elif not isinstance(value, bool):
            raise _error(path, node, f"budget.{key} must be true or false, got {value!r}")
        else:
            values[key] = value
    return replace(Budget(), **values)


def _intake(path: Path, root: yaml.Node, doc: dict[str, Any]) -> Intake | None:
    if doc.get("intake") is None:
        return None
    given = _section(path, root, doc, "intake")
    url = given.get("url")
    node = _node_at(root, "intake", "url") if "url" in given else _node_at(root, "intake")
    if not isinstance(url, str) or not url:
        raise _error(path, node, "intake.url is required: the intake's https:// address")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises ValueError on a bad port
    except ValueError as exc:
        raise _error(path, node, f"intake.url is not a URL: {exc}") from None
    if not host:
        raise _error(path, node, f"intake.url has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise _error(path, node, "intake.url must not carry a user name or password")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOCAL_HOSTS):
        raise _error(
            path, node, f"intake.url must be https:// (http only to localhost), got {url!r}"
        )
    ca = given.get("ca")
    return Intake(url=url, ca=None if ca is None else _local_path(path, root, ca, "intake", "ca"))


def _merged_policy(
    path: Path,
    root: yaml.Node,
    doc: dict[str, Any],
    approved: tuple[str, ...],
    excludes: tuple[str, ...],
) -> Policy:
    given = _optional_path(path, root, doc, "policy")
    base = Policy()
    if given is not None:
        try:
            base = load_policy(given)
        except ConfigError as exc:
            if exc.path != given or exc.line != 0:
                raise
            raise _error(path, _node_at(root, "policy"), f"policy {given}: {exc.reason}") from None
    return replace(
        base,
        approved=tuple(dict.fromkeys(approved + base.approved)),
        excludes=tuple(dict.fromkeys(excludes + base.excludes)),
    )


def load_config(path: Path) -> AgentConfig:
    """Read and check the agent config at ``path``; raise `ConfigError` for any defect."""
    data, root, doc = _parse(path)
    if root is None or doc is None:
        raise ConfigError(path, 1, "roots is required: a list of folders to watch", 1)
    if not isinstance(doc, dict) or not isinstance(root, yaml.MappingNode):
        raise _error(path, root, "an agent config is a mapping (version, roots, schedule, ...)")
    _check_keys(path, root, "")
    if doc.get("version", 1) != 1 or isinstance(doc.get("version"), bool):
        raise _error(path, _node_at(root, "version"), "version must be 1")
    if "roots" not in doc:
        raise _error(path, root, "roots is required: a list of folders to watch")
    roots = _strings(path, root, doc, "roots")
    if not roots:
        raise _error(path, _node_at(root, "roots"), "roots must name at least one folder")
    approved = _strings(path, root, doc, "approved")
    excludes = _strings(path, root, doc, "exclude")
    policy = _merged_policy(path, root, doc, approved, excludes)
    edm = _optional_path(path, root, doc, "edm")
    return AgentConfig(
        roots=tuple(_local_path(path, root, r, "roots") for r in roots),
        excludes=excludes,
        approved=approved,
        policy=replace(policy, edm=edm or policy.edm),
        edm=edm or policy.edm,
        signatures=tuple(
            _local_path(path, root, d, "signatures")
            for d in _strings(path, root, doc, "signatures")
        ),
        schedule=_schedule(path, root, doc),
        budget=_budget(path, root, doc),
        intake=_intake(path, root, doc),
        state_dir=_optional_path(path, root, doc, "state_dir"),
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        source=path,
    )
