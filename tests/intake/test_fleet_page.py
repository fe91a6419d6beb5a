"""The fleet page renderer: every value escaped, nothing loaded, the figures shown."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.intake.fleet_html import (
    CSP,
    MAX_CORRELATION_ROWS,
    gap_text,
    render_fleet_html,
)

FP = "hmac-sha256:" + "ab" * 32


def _host(host_id: str, **change: Any) -> dict[str, Any]:
    host: dict[str, Any] = {
        "host_id": host_id,
        "agents": ["cd" * 32],
        "enrolled": "2026-12-01T09:00:00Z",
        "last_report": "2026-12-02T08:00:00Z",
        "last_heartbeat": "2026-12-02T08:30:00Z",
        "stale": False,
        "highest": "critical",
        "records": 47,
        "findings": 3,
        "reports": 9,
        "chain": {"first": 1, "last": 9, "gaps": [[3, 4], [7, 7]], "forks": 1},
        "pack_digest": "sha256:" + "01" * 32,
        "edm_digest": None,
    }
    host.update(change)
    return host


def _fleet(
    hosts: list[dict[str, Any]], correlation: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "generated": "2026-12-02T09:00:00Z",
        "stale_hours": 24.0,
        "hosts": hosts,
        "correlation": correlation or [],
        "totals": {"hosts": len(hosts), "holding": 1, "clean": 1, "stale": 1, "with_gaps": 1},
    }


class Rows(HTMLParser):
    """The data-* attributes of the host rows, the texts, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if tag == "tr" and "data-host" in found:
            self.rows.append(found)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def _parse(page: str) -> Rows:
    parser = Rows()
    parser.feed(page)
    return parser


def test_fleet_page_shows_each_host_severity_records_and_gaps() -> None:
    """A row per host, in the given order, with what a person reads and data-* for scripts."""
    hosts = [
        _host("a.example.gov"),
        _host(
            "b.example.gov",
            highest=None,
            records=0,
            findings=0,
            stale=True,
            last_heartbeat=None,
            chain={"first": 1, "last": 2, "gaps": [], "forks": 0},
        ),
    ]
    page = render_fleet_html(_fleet(hosts, [{"fingerprint": FP, "machines": 2}]))
    parsed = _parse(page)
    assert [
        (r["data-host"], r["data-highest"], r["data-records"], r["data-gaps"], r["data-stale"])
        for r in parsed.rows
    ] == [
        ("a.example.gov", "critical", "47", "3-4, 7", "no"),
        ("b.example.gov", "none", "0", "", "yes"),
    ]
    text = " ".join(parsed.text)
    assert "3-4, 7" in text
    assert "1 fork" in text
    assert "never" in text  # b's heartbeat
    assert FP in text
    assert parsed.tags.isdisjoint({"script", "img", "link", "iframe", "form", "object"})


def test_fleet_page_escapes_hostile_host_ids() -> None:
    """Markup and reordering characters in a host id are shown, never interpreted."""
    hostile = '<script>alert(1)</script>"\u202eevil'
    page = render_fleet_html(_fleet([_host(hostile)]))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "\u202e" not in page
    assert '<span class="esc">\\u202e</span>' in page
    parsed = _parse(page)
    assert "script" not in parsed.tags
    assert parsed.rows[0]["data-host"] == '<script>alert(1)</script>"?evil'


def test_fleet_page_csp_allows_only_its_own_style_by_hash() -> None:
    """The CSP header and meta tag name the SHA-256 of the one inline style sheet."""
    page = render_fleet_html(_fleet([]))
    parsed = _parse(page)
    digest = base64.b64encode(hashlib.sha256(parsed.style.encode("utf-8")).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CSP
    assert "default-src 'none'" in CSP
    assert "script-src 'none'" in CSP
    assert re.search(r'<meta http-equiv="Content-Security-Policy" content="[^"]+">', page)
    assert "No machine has enrolled yet." in page


def test_fleet_page_lists_inventory_gaps() -> None:
    """Machines never enrolled, never reported or outdated are each listed."""
    status = {
        "inventory": 4,
        "never_enrolled": ["c.example.gov"],
        "never_reported": ["d.example.gov"],
        "outdated": [{"host_id": "a.example.gov", "reason": "pack digest is not current"}],
        "current": {"pack_digest": "sha256:" + "01" * 32, "edm_digest": None},
        "since": "2026-11-01T00:00:00Z",
    }
    page = render_fleet_html(_fleet([_host("a.example.gov")]), status)
    assert re.findall(r'data-missing="([a-z_]+)"><td>([^<]+)</td>', page) == [
        ("never_enrolled", "c.example.gov"),
        ("never_reported", "d.example.gov"),
        ("outdated", "a.example.gov"),
    ]
    assert "4 machines in the inventory" in page
    complete = {**status, "never_enrolled": [], "never_reported": [], "outdated": []}
    assert "Every machine has reported." in render_fleet_html(_fleet([]), complete)
    assert "No inventory imported" in render_fleet_html(_fleet([]), {**status, "inventory": 0})


def test_fleet_page_bounds_the_correlation_table() -> None:
    """At most MAX_CORRELATION_ROWS fingerprints are shown; the rest are counted."""
    many = [
        {"fingerprint": f"hmac-sha256:{n:064x}", "machines": 2}
        for n in range(MAX_CORRELATION_ROWS + 7)
    ]
    page = render_fleet_html(_fleet([], many))
    assert page.count("data-fingerprint=") == MAX_CORRELATION_ROWS
    assert "7 more not shown" in page


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10)), max_size=10))
def test_gap_text_names_every_range(pairs: list[tuple[int, int]]) -> None:
    """Every gap appears once, as 'a' or 'a-b', in order."""
    gaps = [[a, a + n] for a, n in pairs]
    parts = gap_text(gaps).split(", ") if gaps else []
    assert parts == [f"{a}" if a == b else f"{a}-{b}" for a, b in gaps]
