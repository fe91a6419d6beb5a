"""The small value types that flow between the stages of the engine.

walk -> identify -> extract -> detect -> records -> findings. Extractors yield
`Segment` (prose) and `Rows` (tables); both say where their text came from.
Lines, rows, columns and pages are 1-based; byte ranges are half-open offsets in
the decoded stream of the file (or member).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """Where a piece of text sits. Only the fields that apply are set."""

    path: Path
    line: int | None = None
    column: int | None = None
    row: int | None = None
    page: int | None = None
    sheet: str | None = None
    cell: str | None = None
    member: str | None = None
    byte_start: int | None = None
    byte_end: int | None = None

    def at_line(self, line: int | None) -> Location:
        """This location with ``line`` set (``dataclasses.replace`` costs several
        times more, and extractors call this once per line or batch).

        >>> from dataclasses import astuple, replace
        >>> where = Location(Path("a"), 1, 2, 3, 4, "s", "/c", "m", 5, 6)
        >>> where.at_line(7) == replace(where, line=7), len(astuple(where))
        (True, 10)
        """
        return Location(
            self.path,
            line,
            self.column,
            self.row,
            self.page,
            self.sheet,
            self.cell,
            self.member,
            self.byte_start,
            self.byte_end,
        )

    def as_dict(self) -> dict[str, int | str]:
        """The set fields, for the report (the path is carried by the finding)."""
        out: dict[str, int | str] = {}
        for key in ("line", "column", "row", "page", "sheet", "cell", "member"):
            value = getattr(self, key)
            if value is not None and value != "":
                out[key] = value
        if self.byte_start is not None and self.byte_end is not None:
            out["bytes"] = f"{self.byte_start}-{self.byte_end}"
        return out


@dataclass(frozen=True, slots=True)
class Segment:
    """A block of prose: whole lines, starting at ``where.line``."""

    text: str
    where: Location


class Rows:
    """A batch of table rows. ``first_row`` numbers ``rows[0]`` (1-based, header excluded
    from neither: it is the row number a user sees in the file). Rows are consecutive
    unless ``numbers`` gives each row's number (JSON objects on the lines of a log
    between lines of text).

    An extractor may defer the parsing: ``parse`` makes the rows on first use of
    `rows`, ``count`` says how many there are and ``text`` is the batch as it stands in
    the file, holding every cell's text between cell and row separators that are not
    digits, dashes or spaces (a consumer may look at it first, and leave the rows
    unparsed when it holds nothing of interest). ``text`` may itself be made on first
    use (``make_text``), and ``raw`` be the batch as it stands in the file before
    that (its cells' text between quotes and separators that are no digits, dashes
    or spaces), for a first look that may leave both unmade.

    >>> where = Location(Path("t"))
    >>> batch = Rows(None, 2, ("a",), where, text="x\\n", parse=lambda: [("x",)], count=1)
    >>> batch.parsed, len(batch), batch.rows, batch.parsed
    (False, 1, [('x',)], True)
    """

    __slots__ = (
        "_make_text",
        "_parse",
        "_rows",
        "_text",
        "count",
        "first_row",
        "header",
        "numbers",
        "raw",
        "where",
    )

    def __init__(
        self,
        rows: list[tuple[str, ...]] | None,
        first_row: int,
        header: tuple[str, ...] | None,
        where: Location,
        numbers: list[int] | None = None,
        *,
        text: str | None = None,
        parse: Callable[[], list[tuple[str, ...]]] | None = None,
        count: int | None = None,
        make_text: Callable[[], str] | None = None,
        raw: str | None = None,
    ) -> None:
        if rows is None and (parse is None or count is None):
            raise ValueError("deferred rows need parse and count")
        self._rows = rows
        self._parse = parse
        self.count = len(rows) if rows is not None else count
        self.first_row = first_row
        self.header = header
        self.where = where
        self.numbers = numbers
        self._text = text
        self._make_text = make_text
        self.raw = raw

    @property
    def text(self) -> str | None:
        if self._text is None and self._make_text is not None:
            self._text = self._make_text()
            self._make_text = None
        return self._text

    @property
    def rows(self) -> list[tuple[str, ...]]:
        if self._rows is None:
            assert self._parse is not None
            self._rows = self._parse()
            self._parse = None
        return self._rows

    @property
    def parsed(self) -> bool:
        return self._rows is not None

    def __len__(self) -> int:
        return self.count  # type: ignore[return-value] # set from rows or count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rows):
            return NotImplemented
        return (self.rows, self.first_row, self.header, self.where, self.numbers) == (
            other.rows,
            other.first_row,
            other.header,
            other.where,
            other.numbers,
        )

    __hash__ = None  # type: ignore[assignment] # mutable cache: not hashable

    def __repr__(self) -> str:
        return f"Rows({len(self)} rows from row {self.first_row}, header={self.header!r})"

    def number(self, index: int) -> int:
        """The row number of ``rows[index]``."""
        return self.first_row + index if self.numbers is None else self.numbers[index]


@dataclass(frozen=True, slots=True)
class Unread:
    """A part of a file that was not read (an encrypted archive member, a member past
    a limit, an unsupported attachment), with its coverage reason (``encrypted``,
    ``limit:members``, ``unsupported:<kind>``, ``corrupt`` ...). Containers yield it
    beside the segments and rows of what they could read; ``where.member`` names the
    part (nested members are joined with ``/``: ``mail.eml/attachments/a.zip/b.csv``)."""

    where: Location
    reason: str


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits for one file (ClamAV's MaxFileSize/MaxScanSize are the model)."""

    max_file_bytes: int = 512 * 1024 * 1024
    max_text_chars: int = 256 * 1024 * 1024
    max_line_chars: int = 1024 * 1024
    max_decompressed_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 200
    max_depth: int = 4
    block_chars: int = 256 * 1024
    batch_rows: int = 2000
    max_members: int = 10_000  # members per archive or attachments per message
    max_seconds: int = 300  # wall time per file, then limit:time


@dataclass(slots=True)
class FileOutcome:
    """What the engine learned about one file (no plaintext)."""

    path: Path
    size: int
    kind: str
    findings: list[dict[str, object]] = field(default_factory=list)
    skipped: str | None = None
    partial: str | None = None
    unread: list[tuple[str, str]] = field(default_factory=list)  # (member, reason)
    digest: str | None = None  # SHA-256 of the content, when asked for (incremental scans)
