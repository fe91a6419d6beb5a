"""Build an EDM index from counsel's list: a CSV (or TSV) file with a header row.

Columns are found by their header (`HEADER_NAMES`: ``SSN``, ``First Name``,
``Address1``, ``Zip+4`` ...) or given as ``role=column`` pairs (`parse_fields`).
Each row is normalised (`ftiscan.scanner.edm.normalize`) into the combinations it
has the fields for; only their keyed hashes go into the index
(`ftiscan.scanner.edm.index`).

A row is rejected, with its line number and the failing field but never its values,
when it is not a CSV record (an unbalanced quote), has another number of fields than
the header, or has a TIN or ZIP that is not one. A row that only lacks a field (an
empty cell, a street without a house number) just does not make the combinations
that need it, unless the field's role is ``required``: then an empty cell rejects
the row too.
"""

from __future__ import annotations

import codecs
import csv
import secrets
from collections.abc import Callable, Collection, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.scanner.edm import normalize
from ftiscan.scanner.edm.index import COMBOS, Hasher, combo_message, encode_index
from ftiscan.scanner.errors import FtiscanError, InvalidComponent, InvalidFormat

__all__ = [
    "HEADER_NAMES",
    "ROLES",
    "BuildError",
    "BuildStats",
    "Built",
    "EdmBuilder",
    "Rejected",
    "RowError",
    "build_csv",
    "check_list",
    "parse_fields",
    "recognise",
]

#: Column roles of a disclosed list.
ROLES = ("tin", "name", "first", "middle", "last", "street", "unit", "city", "state", "zip")
_ROLE_ALIASES = {
    "ssn": "tin",
    "itin": "tin",
    "ein": "tin",
    "full-name": "name",
    "first-name": "first",
    "middle-name": "middle",
    "last-name": "last",
    "address": "street",
    "zip5": "zip",
    "zipcode": "zip",
}


def _header_names() -> dict[str, str]:
    names = {
        "tin": """ssn; tin; itin; ein; fein; ssn itin; tin number; ssn number; ssn no;
            social security number; social security no; social security; soc sec no;
            taxpayer id; taxpayer identification number; tax id; primary ssn""",
        "name": """name; full name; taxpayer name; taxpayer; primary name; name line 1;
            name1; person name; individual name""",
        "first": "first; first name; firstname; fname; given name; forename",
        "middle": "middle; middle name; middlename; middle initial; mi; mname",
        "last": "last; last name; lastname; lname; surname; family name",
        "street": """street; address; address1; address 1; address line 1; addressline1;
            street address; street1; street 1; addr; addr1; mailing address;
            home address; residence address""",
        "unit": """unit; apt; apartment; suite; address2; address 2; address line 2;
            addressline2; addr2; street2; street 2; apt unit; unit number""",
        "city": "city; town",
        "state": "state; st; state code",
        "zip": """zip; zipcode; zip code; zip5; zip 5; zip4; zip 4; zip plus 4;
            postal code; postcode""",
    }
    return {
        " ".join(word.split()): role
        for role, text in names.items()
        for word in text.split(";")
        if word.strip()
    }


#: Header cell (lower case, punctuation as spaces) -> role.
HEADER_NAMES: dict[str, str] = _header_names()


class BuildError(FtiscanError):
    """The list cannot be read as a whole (no header, unknown column, no combination)."""


class RowError(ValueError):
    """One row is malformed: which field and why, never its value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


@dataclass(slots=True)
class BuildStats:
    rows: int = 0  # data rows read (blank rows not counted)
    records: int = 0  # rows that made at least one combination
    rejected: int = 0
    incomplete: int = 0  # rows accepted that made no combination
    combos: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMBOS, 0))
    columns: dict[str, str] = field(default_factory=dict)  # role -> header cell used


@dataclass(frozen=True, slots=True)
class Built:
    data: bytes
    stats: BuildStats


def _header_key(cell: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in cell.lower()).split())


def parse_fields(specs: Iterable[str]) -> dict[str, str]:
    """``["tin=SSN,name=Full Name", "zip=Zip"]`` -> ``{"tin": "SSN", ...}``.

    >>> parse_fields(["tin=SSN,name=Full Name", "street=Address1"])
    {'tin': 'SSN', 'name': 'Full Name', 'street': 'Address1'}
    """
    out: dict[str, str] = {}
    for spec in specs:
        for part in spec.split(","):
            if not part.strip():
                continue
            role, eq, column = part.partition("=")
            role = role.strip().lower()
            role = _ROLE_ALIASES.get(role, role)
            if not eq or not column.strip():
                raise BuildError(f"--fields: expected ROLE=COLUMN, got {part.strip()!r}")
            if role not in ROLES:
                raise BuildError(f"--fields: unknown role {role!r} (roles: {', '.join(ROLES)})")
            if role in out:
                raise BuildError(f"--fields: role {role!r} given twice")
            out[role] = column.strip()
    return out


def recognise(header: Sequence[str], fields: Mapping[str, str] | None = None) -> dict[str, int]:
    """Role -> column index, from ``fields`` (role -> header cell) or the header names.

    >>> recognise(["SSN", "First Name", "Last_Name", "Address 1", "Address 2", "ZIP+4"])
    {'tin': 0, 'first': 1, 'last': 2, 'street': 3, 'unit': 4, 'zip': 5}
    """
    if fields:
        by_text = {cell.strip(): i for i, cell in reversed(list(enumerate(header)))}
        by_key = {_header_key(cell): i for i, cell in reversed(list(enumerate(header)))}
        out = {}
        for role, column in fields.items():
            at = by_text.get(column.strip(), by_key.get(_header_key(column)))
            if at is None:
                raise BuildError(
                    f"--fields: no column {column!r} in the header "
                    f"(columns: {', '.join(repr(c) for c in header)})"
                )
            out[role] = at
        return out
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell)
        named = HEADER_NAMES.get(key) or HEADER_NAMES.get(key.replace(" ", ""))
        if named is not None and named not in found:
            found[named] = index
    return found


def _check_usable(roles: Mapping[str, int], header: Sequence[str]) -> None:
    has_name = "name" in roles or ("first" in roles and "last" in roles)
    if "zip" not in roles or not ("tin" in roles or (has_name and "street" in roles)):
        shown = ", ".join(f"{role}={header[i]!r}" for role, i in roles.items()) or "none"
        raise BuildError(
            "the columns make no combination: the index needs zip and tin, or zip, a name "
            "(name, or first and last) and street; recognised: "
            f"{shown}; name the columns with --fields ROLE=COLUMN,..."
        )


class EdmBuilder:
    """Collects the keyed hashes of records; `to_bytes` signs the index.

    The builder keeps 64-bit keyed values only, never a field's text.
    """

    def __init__(self, fleet_key: bytes, salt: bytes | None = None) -> None:
        self._key = fleet_key
        self._salt = salt if salt is not None else secrets.token_bytes(16)
        self._hasher = Hasher(fleet_key, self._salt)
        self._values: dict[str, set[int]] = {combo: set() for combo in COMBOS}
        self.stats = BuildStats()

    def add(
        self,
        *,
        tin: str = "",
        name: str = "",
        first: str = "",
        middle: str = "",
        last: str = "",
        street: str = "",
        zip: str = "",
    ) -> list[str]:
        """Add one record; return the combinations it made. Raises `RowError` for a TIN
        or ZIP that is not one; empty or unusable names and streets just make less.

        The list is the reference, so it is read strictly: a TIN has its nine digits
        and a ZIP its five (a spreadsheet that dropped leading zeros is an error to
        fix, where the scan forgives it in a TIN or ZIP column).
        """
        try:
            tin_key = normalize.parse_tin(tin) if tin.strip() else None
        except (InvalidFormat, InvalidComponent) as exc:
            raise RowError("tin", str(exc)) from None
        try:
            zip_key = normalize.parse_zip5(zip) if zip.strip() else None
        except (InvalidFormat, InvalidComponent) as exc:
            raise RowError("zip", str(exc)) from None
        name_key = normalize.name_key(name) if name.strip() else None
        if name_key is None and (first.strip() or last.strip()):
            name_key = normalize.name_key_parts(first, middle, last)
        made: list[str] = []

        def put(combo: str, *parts: str) -> None:
            self._values[combo].add(self._hasher.value(combo, combo_message(*parts)))
            self.stats.combos[combo] += 1
            made.append(combo)

        if tin_key:
            put("tin", tin_key)
            if zip_key:
                put("tin+zip5", tin_key, zip_key)
        if name_key and zip_key and street.strip():
            street_key = normalize.street_key(street)
            if street_key:
                put("name+zip5", name_key, zip_key)
                put("name+street+zip5", name_key, street_key, zip_key)
        if made:
            self.stats.records += 1
        else:
            self.stats.incomplete += 1
        return made

    def to_bytes(self, signing_key: Ed25519PrivateKey, built: datetime | None = None) -> bytes:
        when = (built or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return encode_index(
            self._values,
            records=self.stats.records,
            fleet_key=self._key,
            salt=self._salt,
            signing_key=signing_key,
            built=when,
        )


def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else cp1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _rows(path: Path, encoding: str) -> Generator[tuple[int, list[str] | csv.Error]]:
    """(first line of the record, its cells or the csv error) for every record."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        reader = csv.reader(fh, delimiter=_delimiter(first), strict=True)
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, exc
            else:
                yield line, cells
            line = reader.line_num + 1


def _open_list(
    source: Path, fields: Mapping[str, str] | None, required: Collection[str]
) -> tuple[str, list[str], dict[str, int], list[str]]:
    """(encoding, header, role -> column, required roles) of the list, or `BuildError`."""
    try:
        encoding = _encoding(source)
        reader = _rows(source, encoding)
        try:
            _, header = next(reader, (1, []))
        finally:
            reader.close()
    except OSError as exc:
        raise BuildError(f"{source}: cannot read ({exc.strerror})") from None
    if isinstance(header, csv.Error) or not any(cell.strip() for cell in header):
        raise BuildError(f"{source}:1: expected a header row naming the columns")
    wanted = [_ROLE_ALIASES.get(r.lower(), r.lower()) for r in required]
    try:
        roles = recognise(header, fields)
        _check_usable(roles, header)
        unknown = sorted(set(wanted) - set(ROLES))
        if unknown:
            raise BuildError(f"unknown required role(s) {', '.join(unknown)}")
        absent = [role for role in wanted if role not in roles]
        if absent:
            raise BuildError(f"required role(s) {', '.join(absent)} have no column")
    except BuildError as exc:
        raise BuildError(f"{source}:1: {exc}") from None
    return encoding, header, roles, wanted


def check_list(
    source: Path, fields: Mapping[str, str] | None = None, required: Collection[str] = ()
) -> dict[str, int]:
    """Role -> column of the list at ``source``, or `BuildError` if it cannot be indexed
    (reads the header only)."""
    return _open_list(source, fields, required)[2]


def build_csv(
    source: Path,
    fleet_key: bytes,
    signing_key: Ed25519PrivateKey,
    *,
    fields: Mapping[str, str] | None = None,
    required: Collection[str] = (),
    on_reject: Callable[[Rejected], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    built: datetime | None = None,
) -> Built:
    """Read the list at ``source`` and return the signed index and what was read.

    ``required`` roles must have a column and a value in every row. ``on_reject``
    hears of each rejected row (line and reason); ``on_progress`` gets the number of
    rows read, every 1,000 rows and at the end.
    """
    encoding, header, roles, required = _open_list(source, fields, required)
    rows = _rows(source, encoding)
    next(rows)  # the header
    builder = EdmBuilder(fleet_key)
    stats = builder.stats
    stats.columns = {role: header[i] for role, i in roles.items()}
    width = len(header)

    def reject(line: int, reason: str) -> None:
        stats.rejected += 1
        if on_reject is not None:
            on_reject(Rejected(line, reason))

    for line, cells in rows:
        if isinstance(cells, csv.Error):
            stats.rows += 1
            reject(line, "not a CSV record (unbalanced quotes or a field too large)")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        stats.rows += 1
        if len(cells) != width:
            reject(line, f"row has {len(cells)} fields, the header has {width}")
        elif empty := [role for role in required if not cells[roles[role]].strip()]:
            reject(line, f"{', '.join(empty)}: empty, but required")
        else:
            values = {role: cells[i] for role, i in roles.items()}
            try:
                builder.add(
                    tin=values.get("tin", ""),
                    name=values.get("name", ""),
                    first=values.get("first", ""),
                    middle=values.get("middle", ""),
                    last=values.get("last", ""),
                    street=values.get("street", ""),
                    zip=values.get("zip", ""),
                )
            except RowError as exc:
                reject(line, str(exc))
        if on_progress is not None and stats.rows % 1000 == 0:
            on_progress(stats.rows)
    if on_progress is not None:
        on_progress(stats.rows)
    return Built(builder.to_bytes(signing_key, built), stats)
