"""HTML renderer: one self-contained, printable page for people (counsel, compliance).

The page carries inline CSS only: no script, no link, no image, no external asset, and
a Content Security Policy that forbids loading anything even if a viewer tried. Every
value from the payload is escaped, because paths and archive member names are chosen
by whoever named the files; control and format characters (a right-to-left override,
a newline) are shown as visible ``\\u202e``-style escapes, so that a name cannot
disguise itself. Like the other renderers it reads the payload only, which never holds
what was matched.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ftiscan.reports._where import location_label, member_of

__all__ = ["MAX_LOCATIONS_SHOWN", "MAX_NOT_READ_ROWS", "render_html"]

MAX_NOT_READ_ROWS = 1000
MAX_LOCATIONS_SHOWN = 5
_ORDER = ("critical", "high", "medium", "low", "info")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi), separators
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
    "form-action 'none'; base-uri 'none'"
)

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa;
  --critical: #8b1a1a; --high: #c2410c; --medium: #a16207; --low: #1d4ed8; --info: #57606a;
  --found: #8b1a1a; --clean: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 32px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { display: flex; gap: 20px; align-items: center; padding: 16px 20px;
  border-radius: 8px; color: #fff; }
header.found { background: var(--found); }
header.clean { background: var(--clean); }
.verdict { font-size: 30px; font-weight: 800; letter-spacing: .08em; padding: 4px 16px;
  border: 3px solid #fff; border-radius: 6px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 2px 0 0; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { min-width: 130px; padding: 10px 14px; border: 1px solid var(--line);
  border-left: 6px solid var(--info); border-radius: 6px; background: var(--band); }
.card .n { display: block; font-size: 24px; font-weight: 700; }
.card .k { color: var(--muted); }
.card.sev-critical { border-left-color: var(--critical); }
.card.sev-high { border-left-color: var(--high); }
.card.sev-medium { border-left-color: var(--medium); }
.card.sev-low { border-left-color: var(--low); }
.card.records { border-left-color: var(--ink); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.path { overflow-wrap: anywhere; }
td.path .member { color: var(--muted); }
td.where { color: var(--muted); font-size: 12.5px; }
table.narrow { width: auto; min-width: 280px; }
.tables { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
code.shape { white-space: nowrap; }
.rule-title { display: block; color: var(--muted); font-size: 12px; }
.badge { display: inline-block; min-width: 64px; padding: 1px 8px; border-radius: 10px;
  color: #fff; font-size: 12px; font-weight: 700; text-align: center; text-transform: uppercase;
  background: var(--info); }
.badge.sev-critical { background: var(--critical); }
.badge.sev-high { background: var(--high); }
.badge.sev-medium { background: var(--medium); }
.badge.sev-low { background: var(--low); }
.esc { padding: 0 2px; border: 1px solid var(--high); border-radius: 3px; color: var(--high);
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
.ok { color: var(--clean); font-weight: 700; }
.bad { color: var(--found); font-weight: 700; }
.note { color: var(--muted); }
footer { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--line);
  color: var(--muted); font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  header, .badge, .card, .esc { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, .card, dl.facts { break-inside: avoid; }
  h2 { break-after: avoid; }
  @page { margin: 14mm; }
}
"""


def _text(value: object) -> str:
    """``value`` as escaped HTML text, with hidden or reordering characters made visible."""
    raw = str(value)
    if all(unicodedata.category(ch) not in _HIDDEN for ch in raw):
        return html.escape(raw)
    parts = []
    for ch in raw:
        if unicodedata.category(ch) in _HIDDEN:
            parts.append(f'<span class="esc">\\u{ord(ch):04x}</span>')
        else:
            parts.append(html.escape(ch))
    return "".join(parts)


def _path(value: object) -> str:
    """A path as escaped HTML, with a line-break opportunity after each separator."""
    return "/<wbr>".join(_text(part) for part in str(value).split("/"))


def _severity_class(severity: object) -> str:
    return f"sev-{severity}" if severity in _ORDER else "sev-unknown"


def _rank(severity: object) -> int:
    return _ORDER.index(str(severity)) if severity in _ORDER else len(_ORDER)


def _size(n: int) -> str:
    """A byte count for people.

    >>> _size(512), _size(2048), _size(5 * 1024**4)
    ('512 B', '2.0 KB', '5.0 TB')
    """
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def _dl(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list; the values are HTML already."""
    rows = "".join(f"<dt>{_text(k)}</dt><dd>{v}</dd>" for k, v in pairs)
    return f'<dl class="facts">{rows}</dl>'


def _digest(value: object) -> str:
    return f"<code>{_text(value)}</code>" if value else '<span class="note">none</span>'


def _head(report: Mapping[str, Any]) -> str:
    verdict = str(report["summary"]["verdict"]).upper()
    host = report.get("host", {}).get("hostname", "")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>ftiscan report: {_text(verdict)} on {_text(host)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
    )


def _lede(report: Mapping[str, Any]) -> str:
    summary, coverage = report["summary"], report["coverage"]
    files = summary["files"]["critical"] + summary["files"]["high"]
    if summary["verdict"] == "found":
        text = (
            f"{summary['records_high_or_critical']} taxpayer record(s) at high or critical "
            f"severity in {files} file(s)"
        )
    else:
        text = "No taxpayer records at high or critical severity"
    unread = coverage["files_skipped"] + coverage["files_partial"]
    if unread:
        text += f"; {unread} file(s) not read or read only in part (see Coverage)"
    if not (report["scan"].get("selftest") or {}).get("passed"):
        text += "; the detection self-test FAILED"
    return _text(text)


def _header(report: Mapping[str, Any]) -> str:
    verdict = "found" if report["summary"]["verdict"] == "found" else "clean"
    return (
        f'<header class="{verdict}"><div class="verdict">{verdict.upper()}</div>'
        f"<div><h1>ftiscan report</h1><p>{_lede(report)}</p></div></header>\n"
    )


def _selftest(selftest: Mapping[str, Any]) -> str:
    detail = _text(
        f"({selftest.get('examples', 0)} examples, {selftest.get('canaries', 0)} canary layouts)"
    )
    if selftest.get("passed"):
        return f'<span class="ok">passed</span> {detail}'
    failures = len(selftest.get("failures") or [])
    return f'<span class="bad">FAILED</span> {detail}, {failures} failure(s)'


def _host(host: Mapping[str, Any]) -> str:
    name = str(host.get("hostname", ""))
    system = " ".join(str(host[k]) for k in ("os", "os_release", "machine") if host.get(k))
    parts = [name]
    if host.get("fqdn") and host["fqdn"] != name:
        parts.append(str(host["fqdn"]))
    parts.extend(p for p in (system, f"user {host['user']}" if host.get("user") else "") if p)
    return " &middot; ".join(_text(p) for p in parts)


def _scan_section(report: Mapping[str, Any]) -> str:
    scan = report["scan"]
    options = scan.get("options") or {}
    pairs = [
        ("Host", _host(report.get("host") or {})),
        ("Roots", "<br>".join(f'<span class="mono">{_path(r)}</span>' for r in scan["roots"])),
        ("Started", _text(scan["start"])),
        ("Ended", _text(f"{scan['end']} ({scan.get('duration_ms', 0)} ms)")),
        ("Tool", _text(f"{scan['tool'].get('name', 'ftiscan')} {scan['tool']['version']}")),
        ("Report id", f"<code>{_text(report['id'])}</code>"),
        ("Pack digest", _digest(scan["pack"].get("digest"))),
        ("Policy digest", _digest(scan.get("policy_digest"))),
        ("EDM index digest", _digest(scan.get("edm_digest"))),
        ("Self-test", _selftest(scan.get("selftest") or {})),
    ]
    for key, name in (("approved", "Approved locations"), ("excludes", "Excluded")):
        if options.get(key):
            pairs.append((name, "<br>".join(_text(v) for v in options[key])))
    return f'<section id="scan"><h2>Scan</h2>{_dl(pairs)}</section>\n'


def _summary_section(summary: Mapping[str, Any]) -> str:
    cards = [
        f'<div class="card {_severity_class(s)}"><span class="n">{summary["findings"][s]}</span>'
        f'<span class="k">{s} &middot; {summary["files"][s]} file(s)</span></div>'
        for s in _ORDER
    ]
    cards.append(
        f'<div class="card records"><span class="n">{summary["records_high_or_critical"]}</span>'
        '<span class="k">records, high or critical</span></div>'
    )
    cards_html = "".join(cards)
    return (
        f'<section id="summary"><h2>Summary</h2><div class="cards">{cards_html}</div></section>\n'
    )


def _locations_cell(finding: Mapping[str, Any], member: object) -> str:
    locations: Sequence[Mapping[str, Any]] = finding.get("locations") or []
    shown = [_text(location_label(w, member)) for w in locations[:MAX_LOCATIONS_SHOWN]]
    more = len(locations) - len(shown)
    if more > 0:
        shown.append(f"+{more} more")
    return "; ".join(shown)


def _finding_row(finding: Mapping[str, Any]) -> str:
    severity = finding["severity"]
    member = member_of(finding)
    path = f'<span class="mono">{_path(finding["path"])}</span>'
    if member:
        path += f' <span class="member mono">[{_path(member)}]</span>'
    masked = " ".join(f'<code class="shape">{_text(m)}</code>' for m in finding.get("masked") or [])
    return (
        f'<tr class="finding {_severity_class(severity)}">'
        f'<td><span class="badge {_severity_class(severity)}">{_text(severity)}</span></td>'
        f'<td class="num">{_text(finding["records"])}</td>'
        f"<td><code>{_text(finding['rule'])}</code>"
        f'<span class="rule-title">{_text(finding.get("title", ""))}</span></td>'
        f'<td class="path">{path}</td>'
        f'<td class="where">{_locations_cell(finding, member)}</td>'
        f"<td>{masked}</td></tr>\n"
    )


def _sort_key(finding: Mapping[str, Any]) -> tuple[int, str, str, str]:
    member = member_of(finding)
    return (
        _rank(finding["severity"]),
        str(finding["path"]),
        "" if member is None else str(member),
        str(finding["rule"]),
    )


def _findings_section(findings: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(_finding_row(f) for f in sorted(findings, key=_sort_key))
    if not rows:
        rows = '<tr class="empty"><td colspan="6">No findings.</td></tr>\n'
    return (
        f'<section id="findings"><h2>Findings ({len(findings)})</h2>'
        '<table class="findings"><thead><tr><th>Severity</th><th class="num">Records</th>'
        "<th>Rule</th><th>Path [member]</th><th>Where (first few)</th><th>Masked</th>"
        f"</tr></thead>\n<tbody>\n{rows}</tbody></table></section>\n"
    )


def _count_table(title: str, head: str, counts: Mapping[str, Any], unit: str = "Files") -> str:
    if not counts:
        return ""
    rows = "".join(
        f'<tr><td class="mono">{_text(k)}</td><td class="num">{_text(v)}</td></tr>'
        for k, v in counts.items()
    )
    return (
        f'<div><h3>{_text(title)}</h3><table class="narrow reasons"><thead><tr>'
        f'<th>{_text(head)}</th><th class="num">{_text(unit)}</th></tr></thead>'
        f"<tbody>{rows}</tbody>"
        "</table></div>\n"
    )


def _outcome(entry: Mapping[str, Any]) -> str:
    if entry.get("member"):
        return "part not read"
    return "read in part" if entry.get("partial") else "not read"


def _not_read(coverage: Mapping[str, Any]) -> str:
    entries: Sequence[Mapping[str, Any]] = coverage.get("not_read") or []
    if not entries:
        return ""
    rows = "".join(
        f'<tr class="unread"><td class="path mono">{_path(e.get("path", ""))}'
        + (f' <span class="member">[{_path(e["member"])}]</span>' if e.get("member") else "")
        + f'</td><td class="mono">{_text(e.get("reason", ""))}</td>'
        f"<td>{_outcome(e)}</td></tr>\n"
        for e in entries[:MAX_NOT_READ_ROWS]
    )
    more = len(entries[MAX_NOT_READ_ROWS:]) + int(coverage.get("not_read_unlisted") or 0)
    tail = f'<p class="note more">and {more} more not listed</p>' if more else ""
    return (
        '<h3>Files not read, or read in part</h3><table class="not-read"><thead><tr>'
        "<th>Path</th><th>Reason</th><th>Outcome</th></tr></thead>"
        f"<tbody>\n{rows}</tbody></table>{tail}\n"
    )


def _coverage_section(coverage: Mapping[str, Any]) -> str:
    pairs = [
        ("Files seen", _text(coverage["files_seen"])),
        ("Files scanned", _text(coverage["files_scanned"])),
        ("Files not read", _text(coverage["files_skipped"])),
        ("Files read in part", _text(coverage["files_partial"])),
        ("Bytes seen", _text(f"{_size(coverage['bytes_seen'])} ({coverage['bytes_seen']})")),
        (
            "Bytes scanned",
            _text(f"{_size(coverage['bytes_scanned'])} ({coverage['bytes_scanned']})"),
        ),
    ]
    return (
        f'<section id="coverage"><h2>Coverage</h2>{_dl(pairs)}\n<div class="tables">'
        + _count_table("Not read, by reason", "Reason", coverage.get("skipped") or {})
        + _count_table("Read in part, by reason", "Reason", coverage.get("partial") or {})
        + _count_table(
            "Parts not read (members, attachments, pages)",
            "Reason",
            coverage.get("members_unread") or {},
            "Parts",
        )
        + _count_table("Files scanned, by type", "Type", coverage.get("kinds") or {})
        + "</div>\n"
        + _not_read(coverage)
        + "</section>\n"
    )


def _chain_section(report: Mapping[str, Any]) -> str:
    chain = report.get("chain")
    if not isinstance(chain, Mapping):
        return ""
    pairs = [
        ("Agent key id", _digest(chain.get("key_id"))),
        ("Sequence", _text(chain.get("sequence", ""))),
        ("Previous report", _digest(chain.get("previous"))),
    ]
    return f'<section id="chain"><h2>Report chain</h2>{_dl(pairs)}</section>\n'


def _footer(report: Mapping[str, Any]) -> str:
    return (
        "<footer>This page shows no matched data: only rules, counts, locations and masked "
        "shapes. It is a rendering, not evidence: check the signed report with "
        f"<code>ftiscan verify</code>. Report <code>{_text(report['id'])}</code>.</footer>\n"
    )


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML5 page (inline CSS, no scripts, no assets)."""
    return (
        _head(report)
        + _header(report)
        + _scan_section(report)
        + _summary_section(report["summary"])
        + _findings_section(report["findings"])
        + _coverage_section(report["coverage"])
        + _chain_section(report)
        + _footer(report)
        + "</body>\n</html>\n"
    )
