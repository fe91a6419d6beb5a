"""HTML renderer: escaped, self-contained, complete (findings, coverage, chain)."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports._where import location_label
from ftiscan.reports.html import MAX_NOT_READ_ROWS, render_html
from ftiscan.scanner.findings import FileFindings
from tests.reports.test_sarif import coverage, finding, make_report, mixed_report

TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2", "h3", "p",
    "section", "dl", "dt", "dd", "span", "code", "br", "wbr", "table", "thead", "tbody", "tr",
    "th", "td", "footer",
}  # fmt: skip
ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "class", "colspan", "id"}
HIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")


class Page(HTMLParser):
    """Collects the start tags (with attributes) and the text of a page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    @property
    def text(self) -> str:
        return "".join(self.data)

    def with_class(self, tag: str, name: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and name in (a.get("class") or "").split()]


def test_html_escapes_hostile_path() -> None:
    """Markup, ampersands and quotes in paths and members reach the page as text only."""
    path = "/srv/scan/<script>alert('x')</script> & \"q\".csv"
    member = "<img src=x onerror=alert(1)>.csv"
    page_html = render_html(make_report([finding(path, member=member)]))
    assert "<script" not in page_html
    assert "<img" not in page_html
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/<wbr>script&gt; &amp; &quot;q&quot;.csv"
        in page_html
    )
    page = Page(page_html)
    assert path in page.text
    assert f"[{member}]" in page.text


def test_html_has_no_active_or_remote_content() -> None:
    """No script, link, image, URL or unknown attribute: the page loads nothing."""
    page_html = render_html(mixed_report())
    lowered = page_html.lower()
    for needle in ("http://", "https://", "<script", "<link", "<img", "url(", "@import", "src="):
        assert needle not in lowered
    page = Page(page_html)
    assert {t for t, _ in page.tags} <= TAGS
    assert {a for _, attrs in page.tags for a in attrs} <= ATTRIBUTES
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp[0]["content"] is not None
    assert csp[0]["content"].startswith("default-src 'none'")
    assert "@media print" in page_html


def test_html_findings_table_row_count() -> None:
    """The findings table has exactly one row per finding."""
    report = mixed_report()
    page = Page(render_html(report))
    assert len(page.with_class("tr", "finding")) == len(report["findings"]) == 8
    assert page.with_class("tr", "empty") == []
    assert len(page.with_class("span", "badge")) == 8


def test_html_clean_report_says_clean() -> None:
    """No findings: the CLEAN verdict and a single "No findings." row."""
    page = Page(render_html(make_report([])))
    assert page.with_class("header", "clean")
    assert page.with_class("tr", "finding") == []
    assert len(page.with_class("tr", "empty")) == 1
    assert "CLEAN" in page.text
    assert "No findings." in page.text


def test_html_findings_sorted_by_severity_then_path() -> None:
    """Critical first, then by path within a severity."""
    findings = [
        finding("/srv/scan/z.csv", "low", records=0),
        finding("/srv/scan/b.csv", "critical"),
        finding("/srv/scan/m.csv", "high"),
        finding("/srv/scan/a.csv", "critical"),
        finding("/srv/scan/c.csv", "info", records=0),
    ]
    page_html = render_html(make_report(findings))
    rows = re.findall(r'<tr class="finding sev-(\w+)">.*?/<wbr>(\w)\.csv', page_html)
    assert rows == [
        ("critical", "a"),
        ("critical", "b"),
        ("high", "m"),
        ("low", "z"),
        ("info", "c"),
    ]


def test_html_unknown_severity_sorts_last_without_style() -> None:
    """A severity the renderer does not know still shows, last, with a neutral badge."""
    report = make_report([finding(f"/srv/scan/{c}.csv", "info", records=0) for c in "az"])
    report["findings"][0]["severity"] = "<odd>"  # after build_report, which would refuse it
    page_html = render_html(report)
    assert page_html.index("sev-info") < page_html.index('<tr class="finding sev-unknown">')
    assert '<span class="badge sev-unknown">&lt;odd&gt;</span>' in page_html


def test_html_header_facts() -> None:
    """Verdict, host, roots, times, tool version, report id, pack digest and self-test show."""
    report = mixed_report()
    report["scan"]["options"]["approved"] = ["/srv/approved"]
    report["host"]["fqdn"] = "ws-17"
    text = Page(render_html(report)).text
    assert "ws-17 · Linux 6.1 x86_64 · user audit" in text
    assert "/srv/approved" in text
    for fact in (
        "FOUND",
        "ws-17",
        "/srv/scan",
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:14:02Z",
        "ftiscan 9.8.7",
        report["id"],
        "sha256:" + "0f" * 32,
        "passed (3 examples, 2 canary layouts)",
    ):
        assert fact in text
    report["scan"]["selftest"] = {"passed": False, "examples": 3, "canaries": 2, "failures": ["x"]}
    assert "FAILED (3 examples, 2 canary layouts), 1 failure(s)" in Page(render_html(report)).text


def test_html_lists_locations_and_masked_shapes() -> None:
    """The first few locations of a finding and its masked shapes are in its row."""
    locations = [{"row": n, "column": 2} for n in range(2, 10)]
    page_html = render_html(make_report([finding("/srv/scan/a.csv", locations=locations)]))
    assert "row 2, col 2; row 3, col 2; row 4, col 2; row 5, col 2; row 6, col 2; +3 more" in (
        page_html
    )
    assert '<code class="shape">***-**-****</code>' in page_html


def test_html_coverage_lists_reasons_and_caps_not_read() -> None:
    """Reasons are counted, and the not-read list stops at the cap with an exact remainder."""
    unread = [{"path": f"/srv/scan/locked/{n}.db", "reason": "permission"} for n in range(1003)]
    unread.append({"path": "/srv/scan/big.zip", "reason": "limit:members", "partial": True})
    page_html = render_html(make_report([], coverage(unread, unlisted=5)))
    page = Page(page_html)
    reasons = re.findall(r'<tr><td class="mono">([^<]+)</td><td class="num">(\d+)</td>', page_html)
    assert ("permission", "1003") in reasons
    assert ("limit:members", "1") in reasons
    assert len(page.with_class("tr", "unread")) == MAX_NOT_READ_ROWS
    assert "and 9 more not listed" in page.text


def test_html_chain_only_when_present() -> None:
    """The chain section appears only for a report that has a chain."""
    assert 'id="chain"' not in render_html(make_report([]))
    text = Page(render_html(mixed_report())).text
    assert "Report chain" in text
    assert "ab12" * 16 in text
    assert "sha256:" + "cd" * 32 in text


def test_html_shows_hidden_characters_visibly() -> None:
    """A right-to-left override or newline in a name is shown as an escape, not obeyed."""
    page_html = render_html(make_report([finding("/srv/scan/report\u202egpj.csv\nx")]))
    assert "\u202e" not in page_html
    assert '<span class="esc">\\u202e</span>' in page_html
    assert '<span class="esc">\\u000a</span>' in page_html


def test_html_never_shows_matched_values() -> None:
    """Values fed to the real accumulator appear nowhere in the page."""
    acc = FileFindings(random.randbytes(32))
    values = []
    for row in range(2, 6):
        digits = (
            f"{random.randint(100, 665):03d}{random.randint(10, 99)}{random.randint(1000, 9999)}"
        )
        values += [digits, f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"]
        acc.add("fti.taxpayer-record", "tin", digits, {"row": row, "column": 1}, "***-**-****")
    page_html = render_html(make_report(acc.findings("/srv/scan/x.csv", None, approved=False)))
    assert [v for v in values if v in page_html] == []


@pytest.mark.parametrize(
    ("where", "member", "label"),
    [
        ({"row": 3, "column": 2}, None, "row 3, col 2"),
        ({"row": 3}, None, "row 3"),
        ({"line": 4, "column": 7}, None, "line 4, col 7"),
        ({"sheet": "Sheet1", "cell": "B2", "row": 2}, None, "Sheet1!B2"),
        ({"page": 2}, None, "page 2"),
        ({"cell": "/records", "row": 1, "column": 2}, None, "/records, row 1, col 2"),
        ({"row": 2, "member": "in.csv"}, "in.csv", "row 2"),
        ({"row": 2, "member": "in.csv"}, "other.csv", "in.csv: row 2"),
        ({"bytes": "10-20"}, None, "bytes 10-20"),
        ({}, None, "whole file"),
    ],
)
def test_location_label_formats(where: dict[str, Any], member: str | None, label: str) -> None:
    """Each kind of location gets the short label a reader expects."""
    assert location_label(where, member) == label


_SPAN_CLASSES = {"ok", "bad", "note", "esc", "mono", "member mono", "rule-title", "n", "k"}
_SPAN_CLASSES |= {f"badge sev-{s}" for s in ("critical", "high", "medium", "low", "info")}


@given(path=st.text(min_size=1), member=st.text(min_size=1))
def test_html_arbitrary_names_stay_text(path: str, member: str) -> None:
    """Whatever a path or member holds, it adds no tag or attribute to the page."""
    page = Page(render_html(make_report([finding(path, member=member)])))
    assert {t for t, _ in page.tags} <= TAGS
    assert {a for _, attrs in page.tags for a in attrs} <= ATTRIBUTES
    assert not [a for t, a in page.tags if t == "span" and a.get("class") not in _SPAN_CLASSES]


_visible = st.text(alphabet=st.characters(blacklist_categories=HIDDEN), min_size=1)


@given(path=_visible, member=_visible)
def test_html_arbitrary_names_round_trip_as_text(path: str, member: str) -> None:
    """A name without hidden characters reads back exactly from the page's text."""
    page = Page(render_html(make_report([finding(path, member=member)])))
    assert f"{path} [{member}]" in page.text
