"""Match signatures against text: TINs (pattern + validator + context) and provenance.

A `Hit` keeps the compact value only in memory, for keyed fingerprints and distinct
counts; nothing here is ever written out. Context words raise a hit's score but never
create a hit on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftiscan.scanner.packs import PackSet, Signature

_MASK = str.maketrans("0123456789", "**********")
_COMPACT = str.maketrans("", "", "- ")


def mask(text: str) -> str:
    """Shape only: every digit becomes ``*``; separators stay."""
    return text.translate(_MASK)


@dataclass(slots=True)
class Hit:
    """One validated match. ``value`` is the compact identifier (memory only)."""

    sig: Signature
    start: int
    end: int
    value: str
    score: int
    masked: str
    bare: bool


class Detector:
    """Compiled view of a pack set, ready to run over many texts."""

    def __init__(self, packs: PackSet) -> None:
        self.packs = packs
        self.threshold = packs.threshold
        self.tin_sigs = packs.of_kind("tin")
        self.provenance_sigs = packs.of_kind("marking") + packs.of_kind("irs-field")
        self.headers = packs.of_kind("header")
        identifier_words = [w for s in self.headers if s.entity == "identifier" for w in s.words]
        self.identifier_words = tuple(sorted(set(identifier_words), key=len, reverse=True))
        keywords = {kw for sig in self.provenance_sigs for kw in sig.keywords}
        self._provenance_keywords = tuple(sorted(keywords))

    # -- TINs ---------------------------------------------------------------------------

    def tins(self, text: str, only: Signature | None = None) -> list[Hit]:
        """Every TIN-shaped match that its validator accepts, with its context score.

        Where signatures overlap (an ITIN also has the SSN shape; a local pack may
        refine a built-in one) a span is reported once, by the highest score.
        ``only`` runs a single signature (its examples are tested that way).
        """
        best: dict[int, Hit] = {}
        lowered: str | None = None
        for sig in (only,) if only is not None else self.tin_sigs:
            pattern, check = sig.pattern, sig.validator
            assert pattern is not None
            assert check is not None
            for match in pattern.finditer(text):
                start, end = match.span(sig.group)
                raw = match.group(sig.group)
                if not check(raw):
                    continue
                score = sig.score
                if sig.context_words:
                    if lowered is None:
                        lowered = text.lower()
                    before = lowered[max(0, start - sig.before_chars) : start]
                    if any(word in before for word in sig.context_words):
                        score = min(100, score + sig.boost)
                seen = best.get(start)
                if seen is None or seen.score < score:
                    compact = raw.translate(_COMPACT)
                    bare = len(raw) == len(compact)
                    best[start] = Hit(sig, start, end, compact, score, mask(raw), bare)
        return [best[start] for start in sorted(best)]

    def after_identifier_word(self, text: str, start: int, span: int = 30) -> bool:
        """True when an invoice/order/account word stands just before ``start``."""
        before = text[max(0, start - span) : start].lower()
        return any(word in before for word in self.identifier_words)

    # -- markings and IRS fields --------------------------------------------------------

    def provenance(self, text: str) -> list[Hit]:
        """Markings and IRS record fields in ``text`` (keyword prefilter, then pattern)."""
        lowered = text.lower()
        if not any(kw in lowered for kw in self._provenance_keywords):
            return []
        hits: list[Hit] = []
        for sig in self.provenance_sigs:
            if not any(kw in lowered for kw in sig.keywords):
                continue
            assert sig.pattern is not None  # guaranteed by the schema
            for match in sig.pattern.finditer(text):
                raw = match.group(sig.group)
                if sig.validator is not None and not sig.validator(raw):
                    continue
                start, end = match.span(sig.group)
                hits.append(Hit(sig, start, end, "", sig.score, "", bare=False))
        return hits

    # -- headers ------------------------------------------------------------------------

    def header_roles(self, header: tuple[str, ...]) -> dict[int, str]:
        """Column index -> entity named by its header cell (``tin``, ``name``, ...)."""
        priority = (
            *("identifier", "tin", "irs-field", "first-name", "last-name", "name"),
            *("street", "city", "state", "zip"),
        )
        roles: dict[int, str] = {}
        for index, cell in enumerate(header):
            norm = " ".join(cell.lower().replace("_", " ").replace("-", " ").split())
            norm = norm.strip(" :.")
            if not norm:
                continue
            tokens = set(norm.split())
            found: set[str] = set()
            for sig in self.headers:
                for word in sig.words:
                    if norm == word or (" " in word and word in norm) or word in tokens:
                        found.add(sig.entity)
                        break
            for entity in priority:
                if entity in found:
                    roles[index] = entity
                    break
        return roles
