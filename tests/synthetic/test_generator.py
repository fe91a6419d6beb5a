"""Tests of the synthetic data generator itself: the other suites trust its ground truth."""

from __future__ import annotations

import base64
import json
import random
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

from tests.synthetic import formats
from tests.synthetic.formats import OLE_MAGIC
from tests.synthetic.home import (
    FTI_MARKING,
    SEVERITIES,
    FileTruth,
    GroundTruth,
    MemberTruth,
    build_home,
    read_text,
    readable_text,
    secrets_in,
    truth_path_for,
    unpack_text,
)
from tests.synthetic.people import (
    ADVERTISING_SSNS,
    CITIES,
    People,
    dashed,
    invalid_tin_shapes,
    is_valid_ssn,
    is_valid_tin,
)
from tests.synthetic.report import (
    file_severities,
    load_report,
    member_misses,
    member_severities,
    score,
)

REPO = Path(__file__).resolve().parents[2]
ZIP3 = {(c.name, c.state): c.zip3 for c in CITIES}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    root = tmp_path_factory.mktemp("gen") / "home"
    return root, build_home(root, seed=7)


def _tins(truth: GroundTruth) -> list[str]:
    return [s for s in truth.secrets if len(s) == 9 and s.isdigit()]


def _streets(truth: GroundTruth) -> list[str]:
    return [s for s in truth.secrets if s[0].isdigit() and not s.replace("-", "").isdigit()]


def _count_present(values: list[str], text: str, forms: bool) -> int:
    found = 0
    for value in values:
        shapes = {value}
        if forms:
            shapes |= {dashed(value), f"{value[:3]} {value[3:5]} {value[5:]}"}
        pattern = "|".join(re.escape(s) for s in shapes)
        if re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.IGNORECASE):
            found += 1
    return found


def test_generator_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed writes the same bytes and truth; another seed writes other data."""
    trees = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        truth = build_home(tmp_path / name, seed=seed)
        files = {
            p.relative_to(tmp_path / name).as_posix(): p.read_bytes()
            for p in sorted((tmp_path / name).rglob("*"))
            if p.is_file()
        }
        trees[name] = (files, truth.to_json())
    assert trees["a"] == trees["b"]
    assert trees["a"][1]["secrets"] != trees["c"][1]["secrets"]
    assert (tmp_path / "a.truth.json").read_bytes() == (tmp_path / "b.truth.json").read_bytes()


def test_generator_writes_truth_outside_tree(home: tuple[Path, GroundTruth]) -> None:
    """The truth file lies beside the tree, round-trips, and nothing inside names it."""
    root, truth = home
    path = truth_path_for(root)
    assert path.parent == root.parent
    assert GroundTruth.load(path) == truth
    assert not list(root.rglob("*.truth.json"))
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == {"files", "secrets"}


def test_generator_refuses_truth_inside_tree(tmp_path: Path) -> None:
    """A truth path inside the scanned tree is an error (it would be scanned)."""
    with pytest.raises(ValueError, match="outside the scanned tree"):
        build_home(tmp_path / "h", truth_path=tmp_path / "h" / "truth.json")


def test_generator_truth_entries_are_well_formed(home: tuple[Path, GroundTruth]) -> None:
    """Positives have an exact high/critical severity and records; traps at most medium."""
    root, truth = home
    raw = json.loads(truth_path_for(root).read_text(encoding="utf-8"))["files"]
    for rel, entry in raw.items():
        assert (root / rel).is_file(), rel
        if entry["kind"] == "positive":
            assert entry["severity"] in ("high", "critical"), rel
            assert entry["max_severity"] == entry["severity"], rel
            assert entry["records"] >= 1, rel
            assert entry["flagged"] is True, rel
        else:
            assert entry["kind"] == "trap", rel
            assert entry["severity"] is None, rel
            assert entry["records"] == 0, rel
            assert entry["max_severity"] in (None, *SEVERITIES[:3]), rel
            assert entry["flagged"] is (entry["max_severity"] is not None), rel
        for name, member in entry.get("members", {}).items():
            assert set(member) == {"kind", "severity", "max_severity", "records", "format"}
            if member["kind"] == "positive":
                assert member["severity"] in ("high", "critical"), (rel, name)
                assert member["max_severity"] == member["severity"], (rel, name)
                assert member["records"] >= 1, (rel, name)
            else:
                assert member["kind"] == "trap", (rel, name)
                assert (member["severity"], member["records"]) == (None, 0), (rel, name)
                assert member["max_severity"] in (None, *SEVERITIES[:3]), (rel, name)
        if entry.get("members"):  # members roll up to the file
            rolled = FileTruth.rolled_up(entry["format"], truth.files[rel].members)
            assert rolled == truth.files[rel], rel
    assert len(truth.positives()) >= 24
    assert len(truth.traps()) >= 11


def test_generator_covers_every_container(home: tuple[Path, GroundTruth]) -> None:
    """Each required container and trap kind is present, with the bytes it claims."""
    root, truth = home
    formats = {t.format: rel for rel, t in truth.files.items()}
    for fmt in (
        "csv-header", "csv-headerless", "tsv-header", "pipe-header", "semicolon-header",
        "json-array", "json-records-object", "json-lines", "fixed-width", "prose-memo",
        "csv-utf16le-bom", "csv-utf16be-nobom", "csv-utf8-bom", "csv-cp1252-accents",
        "csv-gzip", "csv-bzip2", "csv-xz", "csv-renamed-dat", "csv-renamed-jpg",
        "fti-marked-name-address-no-tin", "csv-tin-name-no-address", "csv-tin-address-no-name",
        "csv-spaced-ssn", "csv-bare-ssn", "log-invalid-ssn-shapes", "advertising-ssns-with-name",
        "python-validator-test", "csv-invoices-business", "csv-orders-sequential-headerless",
        "business-letter", "staff-directory", "legal-memo-6103", "random-binary",
        "png-named-csv", "prose-no-digits",
        "eml-zip-csv-and-invoice-xlsx", "msg-xlsx", "ods", "xls-biff8", "docx-letter-with-table",
        "pptx-table", "odt-table", "rtf-table", "pdf-text-pages", "sqlite-app-db", "tar-gz-csv",
        "7z-jsonl", "xlsx-invoices-business", "docx-legal-memo-6103", "zip-docx-legal-memo",
    ):  # fmt: skip
        assert fmt in formats, fmt
    raw = {fmt: (root / rel).read_bytes() for fmt, rel in formats.items()}
    assert raw["csv-utf16le-bom"].startswith(b"\xff\xfe")
    assert raw["csv-utf16be-nobom"][:2] == b"\x00N"
    assert raw["csv-utf8-bom"].startswith(b"\xef\xbb\xbf")
    assert raw["csv-gzip"][:2] == b"\x1f\x8b"
    assert raw["csv-bzip2"][:3] == b"BZh"
    assert raw["csv-xz"][:6] == b"\xfd7zXZ\x00"
    cp1252 = raw["csv-cp1252-accents"]
    with pytest.raises(UnicodeDecodeError):
        cp1252.decode("utf-8")
    assert re.search("[À-ÿŠšŽžŒœ]", cp1252.decode("cp1252"))
    assert read_text(root / formats["fti-marked-name-address-no-tin"]).startswith(FTI_MARKING)
    for fmt, magic in (
        ("eml-zip-csv-and-invoice-xlsx", b"From: "),
        ("msg-xlsx", OLE_MAGIC),
        ("xls-biff8", OLE_MAGIC),
        ("ods", b"PK\x03\x04"),
        ("docx-letter-with-table", b"PK\x03\x04"),
        ("pdf-text-pages", b"%PDF-"),
        ("sqlite-app-db", b"SQLite format 3\x00"),
        ("tar-gz-csv", b"\x1f\x8b"),
        ("7z-jsonl", b"7z\xbc\xaf\x27\x1c"),
        ("rtf-table", b"{\\rtf1"),
    ):
        assert raw[fmt].startswith(magic), fmt
    text = read_text(root / formats["prose-no-digits"])
    assert len(text) >= 1_000_000
    assert not re.search(r"\d", text)


def test_generator_positives_hold_truth_record_count(home: tuple[Path, GroundTruth]) -> None:
    """Each positive holds exactly as many distinct taxpayers as its truth says."""
    root, truth = home
    tins, streets = _tins(truth), _streets(truth)
    for rel, entry in truth.positives().items():
        text = readable_text(root / rel)
        count = _count_present(tins, text, forms=True)
        if entry.format == "fti-marked-name-address-no-tin":
            assert count == 0
            count = _count_present(streets, text, forms=False)
        assert count == entry.records, rel
        if entry.format != "csv-tin-address-no-name":
            assert _count_present(streets, text, forms=False) in (count, 0), rel


def test_generator_positives_repeat_some_taxpayers(home: tuple[Path, GroundTruth]) -> None:
    """Some positives hold more rows than records, so counting hits is wrong."""
    root, truth = home
    tins = _tins(truth)
    repeated = 0
    for rel in truth.positives():
        text = read_text(root / rel)
        hits = sum(
            len(re.findall(rf"(?<!\d){t[:3]}[- ]?{t[3:5]}[- ]?{t[5:]}(?!\d)", text)) for t in tins
        )
        repeated += hits > truth.files[rel].records
    assert repeated >= 5


def test_generator_traps_hold_no_secret(home: tuple[Path, GroundTruth]) -> None:
    """No generated taxpayer value appears in any trap or filler file."""
    root, truth = home
    positives = set(truth.positives())
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in positives:
            assert not secrets_in(readable_text(path), truth.secrets), rel
    for rel in positives:  # the check itself sees secrets in every container
        assert secrets_in(readable_text(root / rel), truth.secrets), rel


def test_generator_trap_numbers_are_what_they_claim(home: tuple[Path, GroundTruth]) -> None:
    """Log numbers are all invalid; the wallet card holds only advertising numbers."""
    root, truth = home
    by_format = {t.format: rel for rel, t in truth.files.items()}
    log = read_text(root / by_format["log-invalid-ssn-shapes"])
    shapes = re.findall(r"(?<![\d-])\d{3}[- ]?\d{2}[- ]?\d{4}(?![\d-])", log)
    assert len(shapes) >= 200
    for shape in shapes:
        assert not stdnum_ssn.is_valid(shape)
        assert not stdnum_itin.is_valid(shape)
    wallet = read_text(root / by_format["advertising-ssns-with-name"])
    found = {re.sub(r"\D", "", s) for s in re.findall(r"\d{3}-\d{2}-\d{4}", wallet)}
    assert found == {"".join(p) for p in ADVERTISING_SSNS[:2]}
    orders = read_text(root / by_format["csv-orders-sequential-headerless"]).splitlines()
    numbers = [int(line.split(",")[0]) for line in orders]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_generator_png_trap_is_valid_png(home: tuple[Path, GroundTruth]) -> None:
    """The PNG named data.csv has a PNG signature, a correct IHDR and inflatable IDAT."""
    root, truth = home
    rel = next(r for r, t in truth.files.items() if t.format == "png-named-csv")
    assert rel.endswith(".csv")
    data = (root / rel).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks[kind] = body
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks


def test_generator_tins_follow_issuer_rules() -> None:
    """Every TIN is a valid SSN or ITIN (also for python-stdnum), never an advertising one."""
    people = People(seed=11, itin_share=0.3)
    taxpayers = people.taxpayers(2000)
    assert len({t.ssn for t in taxpayers}) == 2000
    itins = [t for t in taxpayers if t.is_itin]
    assert 400 < len(itins) < 800
    for t in taxpayers:
        assert is_valid_tin(t.ssn)
        check = stdnum_itin if t.is_itin else stdnum_ssn
        assert check.is_valid(t.ssn), "generated TIN rejected by python-stdnum"
        if t.is_itin:
            assert 70 <= int(t.ssn[3:5]) <= 88
    for parts in ADVERTISING_SSNS:
        assert not is_valid_ssn("".join(parts))
    for digits in invalid_tin_shapes(random.Random(1), 50):
        assert not stdnum_ssn.is_valid(digits)
        assert not stdnum_itin.is_valid(digits)


def test_generator_addresses_are_consistent() -> None:
    """ZIP prefixes match the state; names, TINs and streets never repeat."""
    taxpayers = People(seed=5).taxpayers(1500)
    for t in taxpayers:
        assert t.zip[:3] == ZIP3[(t.city, t.state)]
        assert re.fullmatch(r"\d{5}(-\d{4})?", t.zip)
        assert re.fullmatch(r"\d+ .+ [A-Z][a-z]+", t.street)
        assert t.unit == "" or re.fullmatch(r"(Apt \d+[A-D]?|Unit \d+|# \d+)", t.unit)
    for key in ("ssn", "street", "short_name"):
        values = [getattr(t, key).casefold() for t in taxpayers]
        assert len(set(values)) == len(values), key


def test_generator_scale_multiplies_rows(tmp_path: Path) -> None:
    """scale=3 writes about three times the records and more filler files."""
    small = build_home(tmp_path / "s", seed=9, scale=1)
    large = build_home(tmp_path / "l", seed=9, scale=3)
    records = [sum(t.records for t in x.positives().values()) for x in (small, large)]
    assert records[1] >= 2 * records[0]
    counts = [sum(1 for p in (tmp_path / n).rglob("*") if p.is_file()) for n in ("s", "l")]
    assert counts[1] > counts[0]
    assert set(small.files) == set(large.files)


def test_generator_cli_prints_counts_only(tmp_path: Path) -> None:
    """`python -m tests.synthetic.home OUT` writes the tree and prints no secret; rerun works."""
    out = tmp_path / "demo"
    for _ in range(2):  # the second run replaces its own earlier output
        done = subprocess.run(
            [sys.executable, "-m", "tests.synthetic.home", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        truth = GroundTruth.load(truth_path_for(out))
        assert not secrets_in(done.stdout + done.stderr, truth.secrets)
        assert "positives" in done.stdout
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    refused = subprocess.run(
        [sys.executable, "-m", "tests.synthetic.home", str(tmp_path / "other")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert refused.returncode == 2
    assert (tmp_path / "other" / "keep.txt").exists()


def test_generator_load_report_reads_plain_and_dsse(tmp_path: Path) -> None:
    """load_report returns the same object from plain JSON and from a DSSE envelope."""
    report = {
        "findings": [
            {"path": "Documents/a.csv", "rule": "r", "severity": "high", "records": 2},
            {"path": str(tmp_path / "Documents/a.csv"), "rule": "s", "severity": "low"},
            {"path": "b.txt", "rule": "r", "severity": "critical", "records": 1},
        ],
        "coverage": {},
    }
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(report))
    envelope = tmp_path / "envelope.json"
    envelope.write_text(
        json.dumps(
            {
                "payloadType": "application/vnd.ftiscan.report+json",
                "payload": base64.b64encode(json.dumps(report).encode()).decode(),
                "signatures": [{"keyid": "k", "sig": "AA=="}],
            }
        )
    )
    assert load_report(plain) == load_report(envelope) == report
    broken = tmp_path / "broken.json"
    broken.write_text('{"payloadType": "x", "payload": ""}')
    with pytest.raises(ValueError, match="payloadType"):
        load_report(broken)
    severities = file_severities(report, tmp_path, tmp_path)
    assert severities == {"Documents/a.csv": ("high", 2), "b.txt": ("critical", 1)}


def test_generator_score_counts_hits_misses_and_traps(home: tuple[Path, GroundTruth]) -> None:
    """A perfect report scores 1.0; a miss and a flagged trap lower recall and precision."""
    _root, truth = home
    perfect = {rel: (t.severity or "", t.records) for rel, t in truth.positives().items()}
    best = score(truth, perfect)
    assert best.precision == best.recall == 1.0
    assert not best.trap_violations
    assert best.records_exact == len(perfect)
    worse = dict(perfect)
    missed = next(iter(perfect))
    del worse[missed]
    trap = next(r for r, t in truth.traps().items() if t.max_severity is None)
    worse[trap] = ("high", 1)
    result = score(truth, worse)
    assert result.false_negatives == [missed]
    assert result.false_positives == [trap]
    assert result.trap_violations == [trap]
    assert result.recall < 1.0
    assert result.precision < 1.0


def _members(data: bytes, name: str = "") -> dict[str, bytes]:
    """Every member of a container as the scanner names it (``attachments/a.zip/b.csv``,
    ``backup.tar/x.csv`` for a ``backup.tar.gz``), with its bytes; nested members too."""
    import email
    import email.policy
    import gzip
    import io
    import tarfile
    import zipfile

    import olefile

    out: dict[str, bytes] = {}

    def add(member: str, content: bytes) -> None:
        out[member] = content
        if not content.startswith((b"PK\x03\x04", b"7z\xbc\xaf")):
            return
        if (
            content.startswith(b"PK\x03\x04")
            and "[Content_Types].xml" in zipfile.ZipFile(io.BytesIO(content)).namelist()
        ):
            return  # an office file: the scanner names no parts
        for inner, inner_bytes in _members(content).items():
            out[f"{member}/{inner}"] = inner_bytes

    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                add(info.filename, zf.read(info))
    elif data.startswith(b"7z\xbc\xaf"):
        for member, content in formats.sevenzip_members(data).items():
            add(member, content)
    elif data.startswith(b"\x1f\x8b"):
        stem = name.removesuffix(".gz")
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tf:
            for info in tf.getmembers():
                fh = tf.extractfile(info)
                if fh is not None:
                    add(f"{stem}/{info.name}", fh.read())
    elif data.startswith(formats.OLE_MAGIC):
        with olefile.OleFileIO(data) as ole:
            for parts in ole.listdir(streams=True, storages=False):
                if parts[0].startswith("__attach") and parts[-1] == "__substg1.0_3707001F":
                    filename = ole.openstream(parts).read().decode("utf-16-le")
                    content = ole.openstream([*parts[:-1], "__substg1.0_37010102"]).read()
                    add(f"attachments/{filename}", content)
    elif data.startswith(b"From: "):
        message = email.message_from_bytes(data, policy=email.policy.default)
        for part in message.walk():
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename and isinstance(payload, bytes):
                add(f"attachments/{filename}", payload)
    return out


def test_generator_containers_hold_their_member_truth(home: tuple[Path, GroundTruth]) -> None:
    """Each listed member exists in its container; a positive member holds exactly its
    records, a trap member and every unlisted member hold no secret."""
    root, truth = home
    tins = _tins(truth)
    containers = {rel: t for rel, t in truth.files.items() if t.members}
    assert len(containers) >= 5
    assert {t.kind for t in containers.values()} == {"positive", "trap"}
    checked = 0
    for rel, entry in containers.items():
        members = _members((root / rel).read_bytes(), Path(rel).name)
        assert set(entry.members) <= set(members), rel
        for name, content in members.items():
            text = unpack_text(content)
            expected = entry.members.get(name)
            if expected is not None and expected.kind == "positive":
                assert _count_present(tins, text, forms=True) == expected.records, (rel, name)
                checked += 1
            elif not any(other.startswith(name + "/") for other in entry.members):
                assert not secrets_in(text, truth.secrets), (rel, name)
    assert checked >= 4


def test_generator_formats_are_opt_out_and_written_last(tmp_path: Path) -> None:
    """formats=False writes no container; every other file has the same bytes."""
    with_formats = build_home(tmp_path / "a", seed=5)
    without = build_home(tmp_path / "b", seed=5, formats=False)
    assert set(without.files) < set(with_formats.files)
    assert not any(t.members for t in without.files.values())
    for rel in without.files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    added = set(with_formats.files) - set(without.files)
    assert {Path(rel).suffix for rel in added} >= {
        ".eml", ".msg", ".ods", ".xls", ".docx", ".pptx", ".odt", ".rtf", ".pdf", ".db",
        ".gz", ".7z", ".xlsx", ".zip",
    }  # fmt: skip


def test_generator_writers_are_deterministic() -> None:
    """Every writer gives the same bytes for the same input (fixed times and boundaries)."""
    rows = [("name", "zip"), ("Ann Lee", 20500)]
    for make in (
        lambda: formats.xlsx({"S": rows}),
        lambda: formats.docx(["hello"], [rows]),
        lambda: formats.pptx([["hello"]], {0: rows}),
        lambda: formats.ods({"S": rows}),
        lambda: formats.odt(["hello"], [rows]),
        lambda: formats.pdf([["hello"], None]),
        lambda: formats.xls([("S", rows)]),
        lambda: formats.msg(attachments={"a.csv": b"a,b\n"}),
        lambda: formats.eml("hi\n", {"a.csv": b"a,b\n"}),
        lambda: formats.sqlite({"t": (("a", "b"), rows)}),
        lambda: formats.rtf(["hello"], rows),
        lambda: formats.zip_archive({"a.txt": b"a"}),
        lambda: formats.tar_archive({"a.txt": b"a"}, "gz"),
        lambda: formats.sevenzip({"a.txt": b"a"}),
    ):
        assert make() == make()


def test_generator_member_misses_name_container_and_member(
    home: tuple[Path, GroundTruth],
) -> None:
    """A perfect per-member report has no miss; a wrong count, a flagged trap member and a
    finding on a filler member are each named with file, member, expected and got."""
    _root, truth = home
    perfect = {
        (rel, name): (m.severity or "", m.records)
        for rel, t in truth.files.items()
        for name, m in t.members.items()
        if m.kind == "positive"
    }
    assert member_misses(truth, perfect) == []
    rel, name = next(iter(perfect))
    trap_rel, trap_name = next(
        (r, n) for r, t in truth.files.items() for n, m in t.members.items() if m.kind == "trap"
    )
    worse = dict(perfect)
    worse[(rel, name)] = ("critical", perfect[(rel, name)][1] + 1)
    worse[(trap_rel, trap_name)] = ("high", 3)
    worse[(rel, "not/listed.txt")] = ("low", 0)
    misses = member_misses(truth, worse)
    assert sorted((m.path, m.member) for m in misses) == sorted(
        [(rel, name), (trap_rel, trap_name), (rel, "not/listed.txt")]
    )
    shown = {m.member: str(m) for m in misses}
    assert "expected critical" in shown[name]
    assert "got critical" in shown[name]
    assert "expected at most" in shown[trap_name]
    assert "expected no finding, got low 0 records" in shown["not/listed.txt"]
    assert isinstance(truth.files[rel].members[name], MemberTruth)


def test_generator_member_severities_roll_up_like_files(tmp_path: Path) -> None:
    """member_severities keys by (file, member or ""); file_severities is its roll-up."""
    report = {
        "findings": [
            {"path": "m.eml", "member": "attachments/a.zip/x.csv", "severity": "critical",
             "records": 4, "rule": "r"},
            {"path": "m.eml", "member": "attachments/b.xlsx", "severity": "medium",
             "records": 0, "rule": "r"},
            {"path": "m.eml", "member": "attachments/c.csv", "severity": "critical",
             "records": 2, "rule": "r"},
            {"path": "d.docx", "severity": "high", "records": 1, "rule": "r"},
        ]
    }  # fmt: skip
    members = member_severities(report, tmp_path, tmp_path)
    assert members == {
        ("m.eml", "attachments/a.zip/x.csv"): ("critical", 4),
        ("m.eml", "attachments/b.xlsx"): ("medium", 0),
        ("m.eml", "attachments/c.csv"): ("critical", 2),
        ("d.docx", ""): ("high", 1),
    }
    assert file_severities(report, tmp_path, tmp_path) == {
        "m.eml": ("critical", 6),
        "d.docx": ("high", 1),
    }
