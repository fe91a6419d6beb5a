"""The policy file: limits, approved locations, excludes, and exact errors."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.agent.policy import load_policy, parse_size
from ftiscan.scanner.errors import ConfigError
from ftiscan.scanner.model import Limits
from tests.agent.conftest import Run
from tests.synthetic.report import load_report

GOOD = """\
version: 1
approved: ["/srv/vault"]
exclude: ["*.iso"]
limits:
  max_file_size: 64M
  max_depth: 2
  max_members: 50
  max_seconds: 30
"""


def test_policy_loads_limits_and_lists(tmp_path: Path) -> None:
    """Given keys replace the defaults; the others keep them; the digest is of the bytes."""
    path = tmp_path / "p.yaml"
    path.write_text(GOOD, encoding="utf-8")
    policy = load_policy(path)
    assert policy.approved == ("/srv/vault",)
    assert policy.excludes == ("*.iso",)
    assert policy.limits == Limits(
        max_file_bytes=64 * 1024**2, max_depth=2, max_members=50, max_seconds=30
    )
    assert policy.digest == "sha256:" + hashlib.sha256(GOOD.encode()).hexdigest()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("limits:\n  max_depht: 3\n", "p.yaml:2:3: unknown limit 'max_depht'"),
        ("limits:\n  max_depth: -1\n", "p.yaml:2:14: limits.max_depth must be a positive"),
        ("limits:\n  max_file_size: lots\n", "p.yaml:2:18: limits.max_file_size: 'lots' is not"),
        ("approved: /srv\n", "p.yaml:1:11: approved must be a list of non-empty strings"),
        ("exclude: [1]\n", "p.yaml:1:10: exclude must be a list of non-empty strings"),
        ("version: 2\n", "p.yaml:1:10: version must be 1"),
        ("aproved: []\n", "p.yaml:1:1: unknown key 'aproved'"),
        ("limits: [1]\n", "p.yaml:1:9: limits must be a mapping"),
        ("- a\n", "p.yaml:1:1: a policy is a mapping"),
        ("limits: {max_depth: 3\n", "p.yaml:2:1: not valid YAML"),
        ("edm: [a.edm]\n", "p.yaml:1:6: edm must be the path of an index file"),
        ("edm: ''\n", "p.yaml:1:6: edm must be the path of an index file"),
    ],
)
def test_policy_errors_name_file_line_column(tmp_path: Path, text: str, error: str) -> None:
    """Each defect is refused with file, line, column and reason."""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"{tmp_path}/{error}")


def test_policy_edm_index_is_relative_to_the_policy(tmp_path: Path) -> None:
    """``edm`` names the index the scans use, relative to the policy's own folder."""
    path = tmp_path / "conf" / "p.yaml"
    path.parent.mkdir()
    path.write_text("edm: indexes/fti.edm\n", encoding="utf-8")
    assert load_policy(path).edm == tmp_path / "conf" / "indexes" / "fti.edm"
    path.write_text("version: 1\n", encoding="utf-8")
    assert load_policy(path).edm is None


def test_policy_empty_file_is_defaults(tmp_path: Path) -> None:
    """An empty policy changes nothing but still has a digest."""
    path = tmp_path / "p.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    policy = load_policy(path)
    assert (policy.limits, policy.approved, policy.digest is not None) == (Limits(), (), True)


@given(st.integers(0, 2**40), st.sampled_from(["", "K", "M", "G", "KiB", "MB"]))
def test_policy_parse_size_units(number: int, unit: str) -> None:
    """A size with a unit is the number times the unit's power of 1024."""
    power = {"": 0, "K": 1, "M": 2, "G": 3, "KiB": 1, "MB": 2}[unit]
    assert parse_size(f"{number}{unit}") == number * 1024**power


def test_policy_applied_by_scan(tmp_path: Path, run_cli: Run) -> None:
    """scan --policy applies the depth limit and the excludes and records the digest;
    a bad policy stops the scan with exit 2 and its position."""
    root = tmp_path / "tree"
    root.mkdir()
    nested = b"plain words\n"
    for level in range(3):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            zf.writestr(f"level{level}.zip" if level else "note.txt", nested)
        nested = out.getvalue()
    (root / "nested.zip").write_bytes(nested)
    (root / "disk.iso").write_bytes(b"not read\n")
    policy = tmp_path / "p.yaml"
    policy.write_text(GOOD, encoding="utf-8")
    report = tmp_path / "r.json"
    done = run_cli("scan", str(root), "--policy", str(policy), "--report", str(report), "-q")
    assert done.returncode == 0, done.stderr
    payload = load_report(report)
    assert payload["scan"]["policy_digest"] == load_policy(policy).digest
    assert payload["coverage"]["members_unread"] == {"limit:depth": 1}
    assert payload["coverage"]["skipped"] == {"excluded": 1}
    policy.write_text("limits:\n  max_depht: 3\n", encoding="utf-8")
    bad = run_cli("scan", str(root), "--policy", str(policy))
    assert (bad.returncode, bad.stdout) == (2, "")
    assert f"{policy}:2:3: unknown limit 'max_depht'" in bad.stderr
