"""Record assembly: turn TIN, name, address and provenance evidence into records.

In tables a row is a record; headers are evidence, not a requirement. In prose a
window of ``WINDOW`` characters on each side of a TIN is. Rules:

* a record of the disclosed list found by exact data match (`ftiscan.scanner.edm`:
  TIN + ZIP, or name + house number + street + ZIP, however reformatted) ->
  ``fti.edm-record`` (critical), counted by distinct disclosed record, strangers
  around them not counted
* TIN + person name + home street address -> ``fti.taxpayer-record`` (critical)
* person name + street address under an FTI marking or beside IRS record fields
  -> ``fti.marked-name-address`` (critical), counted by distinct name + street
* TIN + name or TIN + address -> ``fti.tin-name`` / ``fti.tin-address`` (high)
* a TIN on its own, when its signature score reaches the pack threshold -> ``fti.tin``
* a marking or IRS field without records -> ``fti.provenance`` (low); a mere
  reference to section 6103 -> ``fti.reference`` (info)

Nine bare digits are the weakest evidence: they count only with a TIN context word,
a TIN column header, or a person's name and home address beside them, and never in a
column named for invoices or orders, in a column of sorted numbers, or next to a
business name.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import partial
from itertools import accumulate, chain, compress, pairwise, repeat
from operator import add, gt, itemgetter, methodcaller, not_, or_
from typing import TYPE_CHECKING, Any

from ftiscan.scanner import address, names
from ftiscan.scanner.detect import Detector, Hit, ascii_runs, may_hold_tin
from ftiscan.scanner.findings import FileFindings, position_of
from ftiscan.scanner.model import Location, Rows, Segment
from ftiscan.scanner.validators import states

if TYPE_CHECKING:  # the matcher comes with a loaded index; its imports cost a worker
    from ftiscan.scanner.edm.match import EdmHit, EdmMatcher

WINDOW = 200
NAME_LOOKBACK = 160
_SEP = "\x1f"
_STRIP = methodcaller("strip")
_HEAD = itemgetter(slice(0, 1))
_BY_COLUMN = 64  # rows with hits from which `FileScan._batch_evidence` pays
_MIN_SORTED_RUN = 4
_MAX_ID_GAP = 100_000
_PROBE_RUNS = 8
_PROBE_ROWS = 64
# The rule a TIN reaches, by (a name with it, a home address with it).
_TIN_RULES = {
    (True, True): "fti.taxpayer-record",
    (True, False): "fti.tin-name",
    (False, True): "fti.tin-address",
    (False, False): "fti.tin",
}


def _is_city(row: tuple[str, ...], i: int) -> bool:
    """Whether cell ``i`` stands where a city does: just before a state."""
    return i + 1 < len(row) and states.normalize(row[i + 1].strip()) is not None


def _base(where: Location) -> dict[str, Any]:
    """The location fields a finding keeps from a segment's or batch's location."""
    return {k: v for k, v in where.as_dict().items() if k not in ("line", "row", "bytes")}


def column_letters(column: int) -> str:
    """Spreadsheet column letters of a 1-based column number.

    >>> column_letters(1), column_letters(26), column_letters(28), column_letters(16384)
    ('A', 'Z', 'AB', 'XFD')
    """
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _where(base: Location, **extra: Any) -> dict[str, Any]:
    loc = _base(base)
    loc.update({k: v for k, v in extra.items() if v is not None})
    if base.sheet and "cell" not in loc and "row" in loc and "column" in loc:
        loc["cell"] = f"{column_letters(loc['column'])}{loc['row']}"  # Sheet!B12
    return loc


def _cell_bounds(rows: list[tuple[str, ...]], starts: list[int], col: int) -> list[int]:
    """[low, high, low, high, ...]: where cell ``col`` of each row (every row has one)
    lies in the joined rows (``starts``: where each row starts)."""
    if col:
        before = map(len, map(_SEP.join, map(itemgetter(slice(0, col)), rows)))
        lows = list(map(add, map(add, starts, before), repeat(len(_SEP))))
    else:
        lows = starts[: len(rows)]
    highs = map(add, lows, map(len, map(itemgetter(col), rows)))
    return list(chain.from_iterable(zip(lows, highs, strict=True)))


_ZIP_SHAPE = re.compile(r"(?<!\d)\d{5}(?!\d)")


def may_hold_zip(text: str) -> bool:
    """Whether ``text`` has a group of exactly five digits (every EDM hit needs a ZIP).

    >>> may_hold_zip("2025-01-03 18:19:45,dev-1"), may_hold_zip("Austin, TX 78701-1234")
    (False, True)
    """
    return _ZIP_SHAPE.search(text) is not None


def _blanked(rows: list[tuple[str, ...]], cols: list[int]) -> bytes:
    """The ASCII rows joined as in a batch's blob, the cells of ``cols`` (each row has
    them) overwritten with NUL, which is not a run character (C-level maps: no Python
    step per row).

    >>> _blanked([("12", "ab", "3"), ("4", "", "56")], [0, 2])
    b'\\x00\\x00\\x1fab\\x1f\\x00\\n\\x00\\x1f\\x1f\\x00\\x00'
    """
    masked: Iterable[tuple[str, ...]] = rows
    for col in cols:
        column = list(map(itemgetter(col), rows))
        nuls = zip(map("\0".__mul__, map(len, column)))
        heads = map(itemgetter(slice(0, col)), masked)
        masked = list(map(add, map(add, heads, nuls), map(itemgetter(slice(col + 1, None)), rows)))
    return "\n".join(map(_SEP.join, masked)).encode("ascii")


def _runs_in_cells(
    source: bytes, bounds: list[int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The digit runs of ``source`` inside the cells at ``bounds`` (every other byte
    overwritten with one that is not a run character)."""
    data = bytearray(len(source))  # NUL: not a run character
    for low, high in zip(bounds[0::2], bounds[1::2], strict=True):
        data[low:high] = source[low:high]
    return ascii_runs(bytes(data))


def _sorted(values: list[int]) -> bool:
    """Strictly ascending or strictly descending (as `_find_id_columns` asks)."""
    return all(a < b for a, b in pairwise(values)) or all(a > b for a, b in pairwise(values))


def _starting_at(chosen: set[int]) -> Callable[[list[tuple[int, int]]], list[tuple[int, int]]]:
    """A `Detector.tins` run filter keeping the runs that start at ``chosen``."""
    return lambda runs: [span for span in runs if span[0] in chosen]


class FileScan:
    """Feeds on the segments of one file; `findings()` when the file is done."""

    def __init__(
        self,
        detector: Detector,
        key: bytes,
        assume_provenance: bool = False,
        edm: EdmMatcher | None = None,
    ) -> None:
        self.det = detector
        self.edm = edm
        self.acc = FileFindings(key)
        self.provenance = assume_provenance
        self.weak_reference = False
        # Set when rows or prose went by without name + address analysis because no
        # provenance was known yet; the engine rescans such a file if provenance
        # turns up later (a marking in a footer).
        self.unanalysed = False
        self._roles_cache: dict[tuple[str, ...], dict[int, str]] = {}
        self._id_columns: set[int] = set()
        # roles -> (roles, name columns, street columns), for `_row_evidence`
        self._columns: dict[int, tuple[dict[int, str], list[int], list[int]]] = {}
        self._no_roles: dict[int, str] = {}
        self._marked_pending: list[tuple[str, dict[str, Any]]] = []
        self._seen: tuple[str, list[Hit]] | None = None  # provenance of the last text

    @property
    def needs_second_pass(self) -> bool:
        return self.provenance and self.unanalysed

    # -- provenance ----------------------------------------------------------------------

    def _provenance(self, text: str, base: Location, tins_next: bool = False, **extra: Any) -> None:
        """Markings and IRS fields in ``text``, located at ``base`` plus ``extra``
        (``tins_next``: see `Detector.provenance`)."""
        seen = self._seen
        if seen is not None and seen[0] is text:
            hits = seen[1]
        else:
            hits = self.det.provenance(text, tins_next)
        self._seen = None
        if not hits:
            return
        where = _where(base, **extra)
        for hit in hits:
            sig = hit.sig
            if sig.kind == "irs-field" or sig.strength == "strong":
                self.provenance = True
                self.acc.add("fti.provenance", "", "", where, "", sig.id)
            else:
                self.weak_reference = True
                self.acc.add("fti.reference", "", "", where, "", sig.id)

    # -- prose ---------------------------------------------------------------------------

    def feed(self, item: Segment | Rows) -> None:
        if isinstance(item, Rows):
            self._rows(item)
        else:
            self._prose(item)

    def _prose(self, seg: Segment) -> None:
        text = seg.text
        first_line = seg.where.line or 1

        counted = [0, first_line]  # an offset and its line: hits come in order

        def where(offset: int) -> dict[str, Any]:
            at, line = counted if offset >= counted[0] else (0, first_line)
            line += text.count("\n", at, offset)
            counted[:] = offset, line
            column = offset - (text.rfind("\n", 0, offset) + 1) + 1
            return _where(seg.where, line=line, column=column)

        floor = position_of(_where(seg.where, line=first_line))  # of every hit here
        self._provenance(text, seg.where, tins_next=True, line=first_line)
        if self.edm is not None:
            for edm_hit in self.edm.text(text):
                self._add_edm(edm_hit, where(edm_hit.start))
        tin_starts = []
        for hit in self.det.tins(text):
            if hit.bare and self.det.after_identifier_word(text, hit.start):
                continue
            lo, hi = max(0, hit.start - WINDOW), min(len(text), hit.end + WINDOW)
            window = text[lo:hi]
            has_name = bool(names.find_names(window))
            confirmed = hit.score >= self.det.threshold
            if not confirmed and not has_name:
                continue  # kept only with a name and a home address: no street needed
            has_home = any(
                not address.is_business_address(window[a:b])
                for a, b in address.find_streets(window)
            )
            if not confirmed and not has_home:
                continue
            tin_starts.append(hit.start)
            # The line is counted only for a location kept (the first ones of a rule).
            self._add_tin(hit, has_name, has_home, partial(where, hit.start), floor)
        if self.provenance:
            self._prose_name_address(text, where, tin_starts)
        else:
            # Whether this block holds a street is not looked up here (a street regex
            # over every block costs more than the rare second pass it could save): a
            # rescan with provenance finds the same TINs and, in blocks without a
            # street, no name + address records, so the result is the same.
            self.unanalysed = True

    def _prose_name_address(self, text: str, where: Any, tin_starts: list[int]) -> None:
        for start, end in address.find_streets(text):
            street = text[start:end]
            if address.is_business_address(street):
                continue
            if any(abs(start - t) <= WINDOW for t in tin_starts):
                continue  # already part of a TIN record
            lo = max(0, start - NAME_LOOKBACK)
            spans = names.find_names(text[lo:start])
            if not spans:
                continue
            a, b = spans[-1]
            person = text[lo + a : lo + b]
            value = names.normalize_name(person) + "|" + address.normalize_street(street)
            self.acc.add("fti.marked-name-address", "na", value, where(start), "name+street")

    def _add_edm(self, hit: EdmHit, where: dict[str, Any]) -> None:
        # a signature id: "edm.tin-zip5", "edm.name-street-zip5" (the report schema's
        # ident pattern has no "+")
        self.acc.add(
            "fti.edm-record", "edm", hit.record, where, "", "edm." + hit.combo.replace("+", "-")
        )

    def _add_tin(
        self,
        hit: Hit,
        has_name: bool,
        has_home: bool,
        where: dict[str, Any] | Callable[[], dict[str, Any]],
        floor: tuple[Any, ...] | None = None,
    ) -> None:
        """One TIN occurrence, by the rule its evidence makes (``where`` and ``floor``:
        see `FileFindings.add`)."""
        rule = _TIN_RULES[has_name, has_home]
        self.acc.add(rule, "tin", hit.value, where, hit.masked, hit.sig.id, floor)

    # -- tables --------------------------------------------------------------------------

    def _roles(self, header: tuple[str, ...] | None, where: Location) -> dict[int, str]:
        if header is None:
            return self._no_roles  # one object, so that `_columns` keeps one entry for it
        roles = self._roles_cache.get(header)
        if roles is None:
            roles = self.det.header_roles(header)
            self._roles_cache[header] = roles
            self._provenance(_SEP.join(header), where, row=1)
        return roles

    def _rows(self, batch: Rows) -> None:
        roles = self._roles(batch.header, batch.where)
        looked = False  # the one-pass look at the batch's raw text found something
        if batch.raw is not None and not batch.parsed:
            if self._quiet(batch.raw, roles):
                self.unanalysed = True  # neither its text nor its rows are made
                return
            looked = True
        if (
            batch.text is not None
            and not batch.parsed
            and self._nothing_in(batch.text, roles, looked)
        ):
            # Rows not parsed: their text holds no TIN-shaped run (but in identifier
            # columns) and no provenance keyword, so they hold no finding until
            # provenance is known (then the file is read again, `needs_second_pass`).
            self.unanalysed = True
            return
        if batch.text is not None:  # the rows as the lines below would join them
            blob = batch.text
            lines = blob.split("\n")
        else:
            lines = list(map(_SEP.join, batch.rows))
            blob = "\n".join(lines)
        starts = [0, *accumulate(map((1).__add__, map(len, lines)))]
        self._provenance(blob, batch.where, row=batch.first_row)

        def locate(at: int) -> tuple[int, int]:
            index = bisect_right(starts, at) - 1
            return index, lines[index].count(_SEP, 0, at - starts[index])

        # Hits in identifier columns (order and invoice numbers) are never reported;
        # they only tell whether the column holds sorted numbers (`_find_id_columns`),
        # which matters for later batches under another header. Their digit runs are
        # dropped before matching, and that question is answered from the first few
        # of them (or all, when those are sorted) by a second, narrow search.
        id_cols = {c for c, r in roles.items() if r == "identifier"}
        dropped: dict[int, set[int]] = {}  # identifier column -> starts of its runs

        def keep(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
            rows = batch.rows
            if min(map(len, rows)) <= max(id_cols):  # short rows: look each run up
                out = []
                for span in runs:
                    col = locate(span[0])[1]
                    if col in id_cols:
                        dropped.setdefault(col, set()).add(span[0])
                    else:
                        out.append(span)
                return out
            # A column whose cells hold no nine-digit run holds none of ``runs``.
            active = [
                col
                for col in sorted(id_cols)
                if may_hold_tin("\n".join(map(itemgetter(col), rows)))
            ]
            # A run starting inside a cell [low, high) has an odd number of cell bounds
            # at or before its start (C-level maps, no Python step per run).
            firsts = list(map(itemgetter(0), runs))
            outside = [True] * len(runs)
            for col in active:
                cells = _cell_bounds(rows, starts, col)
                inside = list(map((1).__and__, map(bisect_right, repeat(cells), firsts)))
                dropped.setdefault(col, set()).update(compress(firsts, inside))
                outside = list(map(gt, outside, inside))
            return list(compress(runs, outside)) if active else runs

        if self.edm is not None:
            self._edm_rows(batch, roles)
        narrow = bool(id_cols) and self.det.runs_only
        by_row: dict[int, list[tuple[int, Hit]]] = {}
        bare_by_col: dict[int, list[tuple[int, Hit]]] = {}
        rows = batch.rows
        if narrow and blob.isascii() and min(map(len, rows)) > max(id_cols):
            # Fastest: the identifier cells that may hold a run are overwritten with NUL
            # (not a run character) before the runs are looked for (a run
            # never crosses a cell's bounds, so the other runs are unchanged).
            blanked = [
                col
                for col in sorted(id_cols)
                if may_hold_tin("\n".join(map(itemgetter(col), rows)))
            ]
            runs = ascii_runs(_blanked(rows, blanked)) if blanked else None
            found = self.det.tins(blob, runs=runs)
            source = blob.encode("ascii")
            for col in sorted(set(blanked) - self._id_columns):
                cells = _cell_bounds(rows, starts, col)
                bare_by_col[col] = self._column_hits(blob, source, cells, locate)
        else:
            found = self.det.tins(blob, keep=keep if narrow else None)
            for col in sorted(dropped.keys() - self._id_columns):
                bare_by_col[col] = self._id_column_hits(blob, sorted(dropped[col]), locate)
        for hit in found:
            index, col = locate(hit.start)
            by_row.setdefault(index, []).append((col, hit))
            if hit.bare:
                bare_by_col.setdefault(col, []).append((index, hit))
        self._find_id_columns(bare_by_col, roles)
        analysed = set()
        base = _base(batch.where)
        sheet = bool(batch.where.sheet) and "cell" not in base
        # Hits in most rows (an export of people): the rows' evidence by column.
        every = None
        if len(by_row) >= _BY_COLUMN and 4 * len(by_row) >= len(rows):
            every = self._batch_evidence(rows, roles)
        kept: dict[str, list[tuple[int, int, Hit]]] = {}  # rule: (row, column, hit)
        for index, hits in by_row.items():
            row = batch.rows[index]
            evidence: tuple[bool, bool, bool] | None = None  # looked at only when needed
            for col, hit in hits:
                role = roles.get(col)
                if role == "identifier":
                    continue
                if evidence is None:
                    evidence = self._row_evidence(row, roles) if every is None else every[index]
                has_name, has_home, business = evidence
                if hit.bare and role != "tin" and (col in self._id_columns or business):
                    continue
                confirmed = hit.score >= self.det.threshold or role == "tin"
                if not confirmed and not (has_name and has_home):
                    continue
                kept.setdefault(_TIN_RULES[has_name, has_home], []).append((index, col, hit))
                analysed.add(index)
        for rule, items in kept.items():  # each in file order (rows, then columns)
            self._add_row_tins(rule, items, batch, base, sheet)
        if self.provenance:
            for index, row in enumerate(batch.rows):
                if index not in analysed:
                    self._row_name_address(row, roles, batch, index)
        elif len(analysed) < len(batch.rows):
            self.unanalysed = True

    def _add_row_tins(
        self,
        rule: str,
        items: list[tuple[int, int, Hit]],
        batch: Rows,
        base: dict[str, Any],
        sheet: bool,
    ) -> None:
        """The TINs of a batch's rows that reached ``rule``, at once (`add_many`)."""

        def where(item: int) -> dict[str, Any]:
            index, col, _ = items[item]
            loc = base.copy()
            loc["row"] = batch.number(index)
            loc["column"] = col + 1
            if sheet:
                loc["cell"] = f"{column_letters(col + 1)}{loc['row']}"  # Sheet!B12
            return loc

        hits = list(map(itemgetter(2), items))
        self.acc.add_many(
            rule,
            "tin",
            [hit.value for hit in hits],
            {hit.masked for hit in hits},
            {hit.sig.id for hit in hits},
            where,
            position_of(where(0)),
        )

    def _edm_rows(self, batch: Rows, roles: dict[int, str]) -> None:
        """Exact-data-match hits of each row (every hit needs a ZIP: rows of a batch
        without a five-digit group are not looked at)."""
        assert self.edm is not None
        base = _base(batch.where)
        sheet = bool(batch.where.sheet) and "cell" not in base
        row_of = self.edm.row
        for index, row in enumerate(batch.rows):
            for hit in row_of(row, roles):
                where = base.copy()
                where["row"] = batch.number(index)
                where["column"] = hit.start + 1
                if sheet:
                    where["cell"] = f"{column_letters(hit.start + 1)}{where['row']}"
                self._add_edm(hit, where)

    def _quiet(self, text: str, roles: dict[int, str]) -> bool:
        """Whether rows whose text (or raw text: `Rows.raw`) is ``text`` can make no
        finding while no provenance is known, by one pass: no keyword a marking
        starts with, no ZIP when an EDM index is loaded, and no run a TIN signature
        can match (but in a first identifier column's cells, which start the lines);
        False also when that pass cannot tell (identifier columns elsewhere)."""
        if self.provenance or (self.edm is not None and may_hold_zip(text)):
            return False
        ids = sorted(c for c, r in roles.items() if r == "identifier")
        return (not ids or ids[0] == 0) and not self.det.may_hold_anything(text, not ids)

    def _nothing_in(self, text: str, roles: dict[int, str], looked: bool = False) -> bool:
        """Whether rows whose `Rows.text` is ``text`` can make no finding while no
        provenance is known: no provenance keyword, no ZIP when an EDM index is loaded,
        and no run a TIN signature can match but in identifier columns (order and
        invoice numbers, never reported): a first such column by a search that leaves
        out the runs starting a line, more leading ones cut off each line to look
        (C-level maps); any other identifier column means no."""
        if not looked and self._quiet(text, roles):
            return True  # one pass: no keyword, no run (but maybe in the first cells)
        if self.provenance or (self.edm is not None and may_hold_zip(text)):
            return False
        ids = sorted(c for c, r in roles.items() if r == "identifier")
        # Keywords turn up by chance ("6103" among order numbers): the markings
        # themselves decide (kept for `_provenance` of the same text). Without a
        # keyword this is one pass, as a search for keywords alone would be.
        self._seen = (text, self.det.provenance(text))
        if self._seen[1]:
            return False
        if ids and ids[0] == 0:
            if not self.det.may_hold_hit(text, line_starts=False):
                return True  # hits at most in the first cells, an identifier column
        elif not self.det.may_hold_hit(text):
            return True
        if not ids:
            return False
        lines = text.split("\n")
        lead = 0
        while lead < len(ids) and ids[lead] == lead:
            lead += 1
        if lead:  # leading identifier columns (the usual place): cut them off
            rest = lines
            for _ in range(lead):
                rest = list(map(itemgetter(2), map(methodcaller("partition", _SEP), rest)))
            if not self.det.may_hold_hit("\n".join(rest)):
                return True
            if lead == len(ids):
                return False
        cells = list(map(methodcaller("split", _SEP), lines))
        width = min(map(len, cells))
        others = [c for c in range(width) if c not in ids]
        if width <= ids[-1] or max(map(len, cells)) != width or not others:
            return False  # ragged rows: look at them one by one
        if len(others) == 1:
            kept = list(map(itemgetter(others[0]), cells))
        else:
            kept = list(map(_SEP.join, map(itemgetter(*others), cells)))
        return not self.det.may_hold_hit("\n".join(kept))

    def _column_hits(
        self,
        blob: str,
        source: bytes,
        bounds: list[int],
        locate: Callable[[int], tuple[int, int]],
    ) -> list[tuple[int, Hit]]:
        """`_id_column_hits` of the column whose cells lie at ``bounds`` in the ASCII
        ``blob`` (``source``: its bytes). Its runs are found with every other byte
        overwritten: first in its first `_PROBE_ROWS` cells, which usually hold more
        than `_PROBE_RUNS` runs whose hits are not sorted; else in all its cells."""
        if len(bounds) > 2 * _PROBE_ROWS:
            runs = _runs_in_cells(source, bounds[: 2 * _PROBE_ROWS])
            starts = [start for start, _ in runs[0]]
            if len(starts) > _PROBE_RUNS:
                hits = self._id_column_hits(blob, starts[:_PROBE_RUNS], locate, runs)
                if not _sorted([int(hit.value) for _, hit in hits]):
                    return hits  # what `_id_column_hits` gives from all the runs
        runs = _runs_in_cells(source, bounds)
        return self._id_column_hits(blob, [start for start, _ in runs[0]], locate, runs)

    def _id_column_hits(
        self,
        blob: str,
        starts: list[int],
        locate: Callable[[int], tuple[int, int]],
        runs: tuple[list[tuple[int, int]], list[tuple[int, int]]] | None = None,
    ) -> list[tuple[int, Hit]]:
        """The bare hits of one identifier column, from the starts of its digit runs
        (``runs``: runs of the blob holding at least those, when already found).

        When the hits of the first `_PROBE_RUNS` runs are neither ascending nor
        descending, the column is not one of sorted numbers whatever follows: those
        stand for all (`_find_id_columns` decides the same on them).
        """
        hits: list[tuple[int, Hit]] = []
        for wanted in (starts[:_PROBE_RUNS], starts) if len(starts) > _PROBE_RUNS else (starts,):
            picked = _starting_at(set(wanted))
            if runs is None:
                found = self.det.tins(blob, keep=picked)
            else:
                found = self.det.tins(blob, runs=(picked(runs[0]), picked(runs[1])))
            hits = [(locate(hit.start)[0], hit) for hit in found if hit.bare]
            if not _sorted([int(hit.value) for _, hit in hits]):
                break
        return hits

    def _find_id_columns(
        self, bare_by_col: dict[int, list[tuple[int, Hit]]], roles: dict[int, str]
    ) -> None:
        """Columns of sorted 9-digit numbers are invoice or order numbers, not TINs."""
        for col, hits in bare_by_col.items():
            if roles.get(col) == "tin" or len(hits) < _MIN_SORTED_RUN:
                continue
            values = [int(hit.value) for _, hit in hits]
            ascending = all(a < b for a, b in pairwise(values))
            descending = all(a > b for a, b in pairwise(values))
            # Sorted alone happens by chance in a few random SSNs; order numbers are
            # also close together (random SSNs sit ~10^8 apart).
            close = abs(values[-1] - values[0]) <= _MAX_ID_GAP * (len(values) - 1)
            if (ascending or descending) and close:
                self._id_columns.add(col)

    def _evidence_columns(self, roles: dict[int, str]) -> tuple[list[int], list[int]]:
        """The name and street columns of ``roles`` (kept per roles object)."""
        columns = self._columns.get(id(roles))
        if columns is None or columns[0] is not roles:
            name_cols = [i for i, r in roles.items() if r in ("name", "first-name", "last-name")]
            street_cols = [i for i, r in roles.items() if r == "street"]
            columns = self._columns[id(roles)] = (roles, name_cols, street_cols)
        return columns[1], columns[2]

    def _row_evidence(self, row: tuple[str, ...], roles: dict[int, str]) -> tuple[bool, bool, bool]:
        """(person name, home street address, business name) for one row."""
        name_cols, street_cols = self._evidence_columns(roles)
        size = len(row)
        business = any(names.is_business_name(row[i]) for i in name_cols if i < size)
        if name_cols:
            # Without a business name among them, a non-empty name cell is a person's.
            has_name = not business and any(row[i].strip() for i in name_cols if i < size)
        else:
            has_name = self._headerless_name(row)
            # A city before a state ("Salt Lake City", "UT") and a street ("12 Church St",
            # "4 College Ter") are places, not businesses.
            business = business or any(
                names.is_business_name(cell)
                and not _is_city(row, i)
                and not address.is_street(cell)
                for i, cell in enumerate(row)
            )
        if street_cols:
            cells = [row[i] for i in street_cols if i < len(row)]
            has_home = any(
                cell.strip()[:1].isdigit() and not address.is_business_address(cell)
                for cell in cells
            ) or any(address.is_street(cell) for cell in cells)
        else:
            has_home = any(
                address.is_street(cell) and not address.is_business_address(cell) for cell in row
            )
        return has_name, has_home, business

    def _batch_evidence(
        self, rows: list[tuple[str, ...]], roles: dict[int, str]
    ) -> list[tuple[bool, bool, bool]] | None:
        """`_row_evidence` of every row, by column (C-level maps, a search per column)
        when the table has name and street columns, every row holds them and no name
        cell holds a business word nor any street cell a suite or floor (the usual
        export of people); None otherwise (then each row is looked at alone)."""
        name_cols, street_cols = self._evidence_columns(roles)
        if not name_cols or not street_cols or min(map(len, rows)) <= max(*name_cols, *street_cols):
            return None
        has_name: Iterable[bool] = repeat(False)
        for col in name_cols:
            cells = list(map(itemgetter(col), rows))
            if names.may_hold_business_name("\n".join(cells)):
                return None
            has_name = map(or_, has_name, map(bool, map(_STRIP, cells)))
        has_home: Iterable[bool] = repeat(False)
        for col in street_cols:
            cells = list(map(itemgetter(col), rows))
            if address.may_hold_business_address("\n".join(cells)):
                return None
            leads = list(map(str.isdigit, map(_HEAD, map(_STRIP, cells))))
            # Not led by a digit: a street only as a post office box ("PO Box 12").
            for index in compress(range(len(cells)), map(not_, leads)):
                leads[index] = address.is_street(cells[index])
            has_home = map(or_, has_home, leads)
        return list(zip(has_name, has_home, repeat(False, len(rows)), strict=True))

    @staticmethod
    def _headerless_name(row: tuple[str, ...]) -> bool:
        streets = [i for i, cell in enumerate(row) if address.is_street(cell)]
        for i, cell in enumerate(row):
            elsewhere = any(j != i for j in streets)
            if names.is_person_name(cell, street_elsewhere=elsewhere) and not _is_city(row, i):
                return True
            if (
                i + 1 < len(row)
                and names.is_single_name_word(cell)
                and names.is_single_name_word(row[i + 1])
                and not _is_city(row, i + 1)
            ):
                return True
        return False

    def _row_name_address(
        self, row: tuple[str, ...], roles: dict[int, str], batch: Rows, index: int
    ) -> None:
        has_name, has_home, business = self._row_evidence(row, roles)
        if not (has_name and has_home) or business:
            return
        name_parts = [
            row[i] for i, r in sorted(roles.items()) if r.endswith("name") and i < len(row)
        ]
        street_parts = [row[i] for i, r in sorted(roles.items()) if r == "street" and i < len(row)]
        if not street_parts:
            street_parts = [c for c in row if address.is_street(c)]
        if not name_parts:
            name_parts = [
                c
                for i, c in enumerate(row)
                if not _is_city(row, i)
                and c not in street_parts
                and (
                    names.is_person_name(c, street_elsewhere=bool(street_parts))
                    or names.is_single_name_word(c)
                )
            ]
        value = names.normalize_name(" ".join(name_parts)) + "|"
        value += address.normalize_street(" ".join(street_parts))
        where = _where(batch.where, row=batch.number(index))
        self.acc.add("fti.marked-name-address", "na", value, where, "name+street")

    def findings(self, path: str, member: str | None, approved: bool) -> list[dict[str, Any]]:
        return self.acc.findings(path, member, approved)
