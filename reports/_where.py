"""Where a finding lies, in words: shared by the HTML and SARIF renderers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["location_label", "member_of"]


def location_label(where: Mapping[str, Any], member: object = None) -> str:
    """A short plain-text label for one location of a finding (not yet HTML-escaped).

    ``member`` is the archive member the reader already sees; a location's own member
    is named only when it differs.

    >>> location_label({"row": 3, "column": 2})
    'row 3, col 2'
    >>> location_label({"line": 4})
    'line 4'
    >>> location_label({"sheet": "Sheet1", "cell": "B2", "row": 2})
    'Sheet1!B2'
    >>> location_label({"page": 2, "member": "a.pdf"}, member="b.pdf")
    'a.pdf: page 2'
    """
    parts = []
    sheet, cell = where.get("sheet"), where.get("cell")
    if sheet and cell:
        parts.append(f"{sheet}!{cell}")
    else:
        parts.extend(str(v) for v in (sheet, cell) if v)
        for key, name in (("page", "page"), ("line", "line"), ("row", "row"), ("column", "col")):
            if where.get(key) is not None:
                parts.append(f"{name} {where[key]}")
    if where.get("bytes"):
        parts.append(f"bytes {where['bytes']}")
    label = ", ".join(parts) or "whole file"
    own = where.get("member")
    return f"{own}: {label}" if own and own != member else label


def member_of(finding: Mapping[str, Any]) -> object:
    """The finding's archive member, or the one its first location names."""
    if finding.get("member"):
        return finding["member"]
    locations = finding.get("locations") or []
    return locations[0].get("member") if locations else None
