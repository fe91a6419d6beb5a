"""Mutated signature packs, policies, agent configs and EDM indexes: load, or a clear error.

Seeds are the files that ship (``signatures/us-taxpayer.yaml``, ``packaging/policy.yaml``,
``packaging/agent.yaml``) and an EDM index built by the test from synthetic people.
YAML is damaged with syntax tokens and byte edits (`tests.fuzz._mutate.text_edits`).
The properties: a pack, policy or config either loads or raises its one error class
(`PackError`, `ConfigError`) whose message starts ``<file>:<line>:<column>: `` with a
line inside the file and a reason; an index either loads (only when the bytes did not
change) or raises `EdmError` naming the file; an index re-signed after its header or
tables were damaged (a trusted signer with a broken builder) is refused the same way,
and a loaded one answers lookups.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import example, given
from hypothesis import strategies as st

from ftiscan.agent.config import load_config
from ftiscan.agent.policy import load_policy
from ftiscan.reports.dsse import key_id, pae
from ftiscan.scanner.edm.build import EdmBuilder
from ftiscan.scanner.edm.index import COMBOS, MAGIC, PAYLOAD_TYPE, EdmError, load_index
from ftiscan.scanner.errors import ConfigError, PackError
from ftiscan.scanner.packs import compile_pack, pack_set_from_sources
from tests.fuzz._guard import no_hang
from tests.fuzz._mutate import Edit, apply, edits, text_edits
from tests.fuzz._profile import fuzz_settings
from tests.synthetic.edm import disclosed_list

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "signatures" / "us-taxpayer.yaml"
POLICY = ROOT / "packaging" / "policy.yaml"
CONFIG = ROOT / "packaging" / "agent.yaml"

_WHERE = re.compile(r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<reason>\S.*)", re.S)


def _check_where(message: str, path: Path, data: bytes) -> None:
    """``message`` is ``<path>:<line>:<column>: <reason>`` with the position in ``data``."""
    found = _WHERE.fullmatch(message)
    assert found is not None, "message without file:line:column: reason"
    assert found["file"] == str(path)
    lines = data.count(b"\n") + 1
    assert 1 <= int(found["line"]) <= lines + 1
    assert int(found["column"]) >= 1


@fuzz_settings(2)
@given(text_edits())
@example([Edit("insert", 0, data=b"&a ")])
def test_fuzz_pack_loads_or_names_file_line_column(changes: list[Edit]) -> None:
    """A damaged signature pack compiles (and joins a pack set) or is a PackError at a
    line and column of the file."""
    data = apply(PACK.read_bytes(), changes)
    path = Path("fuzz/us-taxpayer.yaml")
    error: PackError | None = None
    try:
        with no_hang():
            pack = compile_pack(path, data)
            pack_set_from_sources([(str(path), data)])
    except PackError as exc:
        error = exc
    if error is None:
        assert pack.digest == "sha256:" + hashlib.sha256(data).hexdigest()
        return
    _check_where(str(error), path, data)
    assert error.line >= 1
    assert error.column >= 1


def _load_yaml(loader: object, tmp: Path, name: str, data: bytes) -> None:
    assert callable(loader)
    path = tmp / name
    path.write_bytes(data)
    try:
        with no_hang():
            loader(path)
    except ConfigError as exc:
        _check_where(str(exc), path, data)


@fuzz_settings(2)
@given(text_edits())
def test_fuzz_policy_loads_or_names_file_line_column(
    tmp_path_factory: pytest.TempPathFactory, changes: list[Edit]
) -> None:
    """A damaged policy loads or is a ConfigError at a line and column of the file."""
    tmp = tmp_path_factory.mktemp("policy")
    _load_yaml(load_policy, tmp, "policy.yaml", apply(POLICY.read_bytes(), changes))


@fuzz_settings(2)
@given(text_edits())
def test_fuzz_config_loads_or_names_file_line_column(
    tmp_path_factory: pytest.TempPathFactory, changes: list[Edit]
) -> None:
    """A damaged agent config loads or is a ConfigError at a line and column of the file."""
    tmp = tmp_path_factory.mktemp("config")
    (tmp / "policy.yaml").write_bytes(POLICY.read_bytes())
    _load_yaml(load_config, tmp, "agent.yaml", apply(CONFIG.read_bytes(), changes))


# --- EDM index ---------------------------------------------------------------------


class _Index:
    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)
        self.signer = Ed25519PrivateKey.generate()
        builder = EdmBuilder(self.key)
        for person in disclosed_list(random.Random(23), 40):
            builder.add(
                tin=person.tin,
                first=person.first,
                middle=person.middle,
                last=person.last,
                street=person.street,
                zip=person.zip,
            )
        self.data = builder.to_bytes(self.signer)

    @property
    def trusted(self) -> dict[str, Ed25519PublicKey]:
        public = self.signer.public_key()
        return {key_id(public): public}

    def parts(self) -> tuple[bytes, bytes]:
        """The header (canonical JSON) and the tables of the built index."""
        (length,) = struct.unpack(">I", self.data[len(MAGIC) : len(MAGIC) + 4])
        start = len(MAGIC) + 4
        return self.data[start : start + length], self.data[start + length : -64]

    def forge(self, header: bytes, body: bytes) -> bytes:
        """An index of ``header`` and ``body``, signed by the trusted signer."""
        signed = MAGIC + struct.pack(">I", len(header)) + header + body
        return signed + self.signer.sign(pae(PAYLOAD_TYPE, signed))


REFUSALS = {
    "unreadable",
    "not-index",
    "truncated",
    "malformed",
    "version",
    "unknown-signer",
    "bad-signature",
    "body-digest",
    "wrong-key",
}
"""The stable reasons of `EdmError`."""


@pytest.fixture(scope="module")
def edm_index() -> _Index:
    return _Index()


def _load(index: _Index, tmp: Path, data: bytes) -> bool:
    """Load ``data`` as an index; True if it loaded (and answered lookups)."""
    path = tmp / "fti.edm"
    path.write_bytes(data)
    error: EdmError | None = None
    try:
        with no_hang():
            loaded = load_index(path, index.key, index.trusted)
    except EdmError as exc:
        error = exc
    if error is not None:
        assert str(error).startswith(f"{path}: {error.reason}: ")
        assert error.reason in REFUSALS
        return False
    for combo in COMBOS:
        assert isinstance((combo, "no such record") in loaded, bool)
    return True


@fuzz_settings(2)
@given(edits())
def test_fuzz_edm_index_damaged_is_refused(
    tmp_path_factory: pytest.TempPathFactory, edm_index: _Index, changes: list[Edit]
) -> None:
    """A damaged index file is refused with an EdmError, unless the edits changed nothing."""
    data = apply(edm_index.data, changes)
    loaded = _load(edm_index, tmp_path_factory.mktemp("edm"), data)
    assert loaded == (data == edm_index.data)


@fuzz_settings(2)
@given(st.data())
def test_fuzz_edm_index_resigned_damage_is_refused_or_loads(
    tmp_path_factory: pytest.TempPathFactory, edm_index: _Index, data: st.DataObject
) -> None:
    """An index whose header JSON or tables were damaged and then signed by the trusted
    signer (a broken builder): the header and table checks refuse it with an EdmError,
    or it loads and answers lookups."""
    header, body = edm_index.parts()
    if data.draw(st.booleans(), label="damage header"):
        doc = json.loads(header)
        field = data.draw(st.sampled_from(sorted(doc)), label="field")
        value = data.draw(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-(2**70), 2**70),
                st.text(max_size=20),
                st.lists(st.integers(-5, 2**40), max_size=3),
                st.just([{"combo": "tin+name", "bits": 999, "count": -1}]),
                st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
            ),
            label="value",
        )
        doc[field] = value
        # Written as canonical JSON would be, but without its integer range check, so
        # that the reader's own checks see out-of-range numbers too.
        header = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        header = header.encode()
    else:
        body = apply(body, data.draw(edits(), label="body edits"))
    _load(edm_index, tmp_path_factory.mktemp("edm"), edm_index.forge(header, body))


def test_policy_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    """A byte that is not UTF-8 is named by its line and column (found by the fuzz run:
    the message had a line only)."""
    path = tmp_path / "policy.yaml"
    path.write_bytes("version: 1\napproved:\n  - /srv/é".encode() + b"\xff\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:3:11: not UTF-8 text (byte 32)"
    assert (caught.value.line, caught.value.column) == (3, 11)


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b"pack: !!float tin number\n", "1:7", "YAML: not a valid float value"),
        (b"pack: x\nversion: !!int tin\n", "2:10", "YAML: not a valid int value"),
        (b"pack: !!timestamp 2001-13-01\n", "1:7", "YAML: not a valid timestamp value"),
        (b"pack: x\nversion: !!int\n", "2:10", "YAML: not a valid int value"),
        (b"pack: " + b"[" * 3000 + b"]" * 3000 + b"\n", "1:1", "YAML: nested too deeply"),
        (b"pack: " + b"[" * 80 + b"]" * 80 + b"\n", "1:71", "nested deeper than 64 levels"),
    ],
    ids=["float", "int", "timestamp", "empty-int", "recursion", "depth"],
)
def test_pack_bad_tagged_or_deep_yaml_is_a_pack_error(data: bytes, where: str, reason: str) -> None:
    """Found by the fuzz run: an explicit YAML tag on a value it does not fit raised
    ValueError or AttributeError out of the pack loader, and deep nesting RecursionError;
    each is now a PackError at the value's line and column."""
    path = Path("fuzz/p.yaml")
    with pytest.raises(PackError) as caught:
        compile_pack(path, data)
    assert str(caught.value) == f"{path}:{where}: {reason}"


def test_pack_ambiguous_pattern_is_a_pack_error() -> None:
    """Found by the fuzz run: ``[\\d--]`` (a doubled dash in a character class) made
    re.compile warn "Possible set difference" (FutureWarning: a future Python reads it
    as set difference) and the pack loaded; under ``-W error`` the loader crashed. Now
    the pack is refused at the pattern's line and column."""
    data = PACK.read_bytes()
    good = b"(?![\\d-])'"
    at = data.index(good)
    bad = data[:at] + b"(?![\\d--])'" + data[at + len(good) :]
    path = Path("fuzz/us-taxpayer.yaml")
    with pytest.raises(PackError, match=r"pattern is ambiguous \(Possible set difference"):
        compile_pack(path, bad)


@pytest.mark.parametrize("loader", [load_policy, load_config], ids=["policy", "config"])
def test_yaml_empty_tagged_int_is_a_config_error(tmp_path: Path, loader: object) -> None:
    """Found by the fuzz run: ``!!int`` with no value let IndexError out of PyYAML and
    out of the policy and config loaders; now it is a ConfigError."""
    assert callable(loader)
    path = tmp_path / "x.yaml"
    path.write_bytes(b"version: !!int\n")
    with pytest.raises(ConfigError, match=r":1:1: not valid YAML: string index out of range"):
        loader(path)
