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

from tests.synthetic.home import (
    FTI_MARKING,
    SEVERITIES,
    GroundTruth,
    build_home,
    read_text,
    secrets_in,
    truth_path_for,
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
from tests.synthetic.report import file_severities, load_report, score

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
    text = read_text(root / formats["prose-no-digits"])
    assert len(text) >= 1_000_000
    assert not re.search(r"\d", text)


def test_generator_positives_hold_truth_record_count(home: tuple[Path, GroundTruth]) -> None:
    """Each positive holds exactly as many distinct taxpayers as its truth says."""
    root, truth = home
    tins, streets = _tins(truth), _streets(truth)
    for rel, entry in truth.positives().items():
        text = read_text(root / rel)
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
            assert not secrets_in(read_text(path), truth.secrets), rel
    for rel in positives:  # the check itself sees secrets in every container
        assert secrets_in(read_text(root / rel), truth.secrets), rel


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
