"""What a scan loads: the commands and checks it does not run are imported on use."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import ftiscan.reports
from ftiscan.agent.cli import _LazyGroup, cli

_NOT_FOR_A_SCAN = (
    "jsonschema",
    "ftiscan.agent.submit_cli",
    "ftiscan.agent.intake_cli",
    "ftiscan.agent.edm_cli",
    "ftiscan.agent.agent_cli",
    "ftiscan.reports.submit",
    "ftiscan.reports.verify",
    "ftiscan.reports.html",
    "ftiscan.reports.sarif",
    "ssl",
)


def test_a_scan_imports_no_other_command(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    argv = ["ftiscan", "scan", str(tmp_path / "empty"), "--quiet", "--format", "json"]
    argv += ["--report", str(tmp_path / "r.json"), "--key-dir", str(tmp_path / "keys")]
    code = (
        "import json, sys\n"
        f"sys.argv = {argv!r}\n"
        "from ftiscan.agent.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"names = {list(_NOT_FOR_A_SCAN)!r}\n"
        "print(json.dumps([code, [n for n in names if n in sys.modules]]), file=sys.stderr)\n"
    )
    env = {**os.environ, "FTISCAN_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    code_seen, loaded = json.loads(out.stderr.strip().splitlines()[-1])
    assert code_seen == 0
    assert loaded == []


def test_every_lazy_command_loads_and_is_listed() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line]
    assert set(_LazyGroup.LAZY) <= set(listed)
    assert listed == sorted(listed)
    for name, target in _LazyGroup.LAZY.items():
        module, attr = target.split(":")
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is getattr(importlib.import_module(module), attr)
        assert command.name == name


def test_report_package_names_resolve_to_their_modules() -> None:
    # Every module imported first: a submodule of the same name as a listed name
    # would shadow it (``ftiscan.reports.verify``, the module, is not dsse's verify).
    for module in set(ftiscan.reports._MODULE_OF.values()) | {"verify"}:
        importlib.import_module(f"ftiscan.reports.{module}")
    for name in ftiscan.reports.__all__:
        module = importlib.import_module(f"ftiscan.reports.{ftiscan.reports._MODULE_OF[name]}")
        assert getattr(ftiscan.reports, name) is getattr(module, name)
    assert sorted(ftiscan.reports.__all__) == sorted(ftiscan.reports._MODULE_OF)
