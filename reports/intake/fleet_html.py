"""The fleet page: counsel's view of every machine, server-rendered HTML, no script.

`render_fleet_html` turns `Intake.fleet()` (and, when given, `Intake.inventory_status()`)
into one self-contained page: totals, a row per host (last report, last heartbeat,
highest severity, records held, chain range and gaps, stale or not), the machines of
the inventory that never enrolled, never reported or are outdated, and the
correlation table (how many machines hold the same record, by keyed fingerprint).
Nothing on it is plaintext: fingerprints are HMACs under the fleet key.

Every value is escaped (host ids and host names are chosen by whoever enrolls a
machine), and control or reordering characters are shown as visible ``\\u202e``
escapes. The page loads nothing: its Content-Security-Policy (`CSP`, sent as a header
and repeated in a meta tag) allows only the one inline style sheet, by its hash.

Each host row carries ``data-host``, ``data-highest``, ``data-records`` and
``data-gaps`` attributes so that a script (or a test) reads the same values a person
sees without parsing the layout.
"""

from __future__ import annotations

import base64
import hashlib
import html
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["CSP", "MAX_CORRELATION_ROWS", "render_fleet_html"]

MAX_CORRELATION_ROWS = 500
_ORDER = ("critical", "high", "medium", "low", "info")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa;
  --critical: #8b1a1a; --high: #c2410c; --medium: #a16207; --low: #1d4ed8; --info: #57606a;
  --clean: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 24px 32px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
.note { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 16px; }
.card { min-width: 120px; padding: 10px 14px; border: 1px solid var(--line);
  border-left: 6px solid var(--info); border-radius: 6px; background: var(--band); }
.card .n { display: block; font-size: 24px; font-weight: 700; }
.card .k { color: var(--muted); }
.card.holding { border-left-color: var(--critical); }
.card.clean { border-left-color: var(--clean); }
.card.stale, .card.gaps { border-left-color: var(--high); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; overflow-wrap: anywhere; }
.badge { display: inline-block; min-width: 64px; padding: 1px 8px; border-radius: 10px;
  color: #fff; font-size: 12px; font-weight: 700; text-align: center; text-transform: uppercase;
  background: var(--info); }
.badge.sev-critical { background: var(--critical); }
.badge.sev-high { background: var(--high); }
.badge.sev-medium { background: var(--medium); }
.badge.sev-low { background: var(--low); }
.badge.sev-none { background: var(--clean); }
.bad { color: var(--critical); font-weight: 700; }
.warn { color: var(--high); font-weight: 700; }
.ok { color: var(--clean); }
.esc { padding: 0 2px; border: 1px solid var(--high); border-radius: 3px; color: var(--high);
  font-family: ui-monospace, monospace; font-size: 11px; }
tr.stale td:first-child { border-left: 4px solid var(--high); }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .badge, .card, .esc { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, .card { break-inside: avoid; }
}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; "
    "script-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _text(value: object) -> str:
    """``value`` as escaped HTML text, hidden or reordering characters made visible."""
    raw = str(value)
    if all(unicodedata.category(ch) not in _HIDDEN for ch in raw):
        return html.escape(raw)
    return "".join(
        f'<span class="esc">\\u{ord(ch):04x}</span>'
        if unicodedata.category(ch) in _HIDDEN
        else html.escape(ch)
        for ch in raw
    )


def _attr(value: object) -> str:
    """``value`` for a quoted attribute (quotes and controls escaped)."""
    raw = "".join(ch if unicodedata.category(ch) not in _HIDDEN else "?" for ch in str(value))
    return html.escape(raw, quote=True)


def _when(value: object) -> str:
    if not value:
        return '<span class="note">never</span>'
    return f'<time datetime="{_attr(value)}">{_text(value)}</time>'


def _severity(value: object) -> str:
    if value in _ORDER:
        return f'<span class="badge sev-{value}">{_text(value)}</span>'
    return '<span class="badge sev-none">none</span>'


def gap_text(gaps: Sequence[Sequence[int]]) -> str:
    """Chain gaps as people read them.

    >>> gap_text([[3, 5], [9, 9]])
    '3-5, 9'
    >>> gap_text([])
    ''
    """
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in gaps)


def _short(value: object, size: int = 12) -> str:
    if not value:
        return '<span class="note">none</span>'
    text = str(value)
    return f'<code title="{_attr(text)}">{_text(text[:size] if len(text) > size else text)}</code>'


def _table(head: Sequence[tuple[str, bool]], rows: Iterable[str], css: str = "") -> str:
    cells = "".join(f"<th{' class=num' if num else ''}>{_text(h)}</th>" for h, num in head)
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _host_row(host: Mapping[str, Any]) -> str:
    chain = host.get("chain") or {}
    gaps = chain.get("gaps") or []
    forks = int(chain.get("forks") or 0)
    highest = host.get("highest")
    stale = bool(host.get("stale"))
    agents = host.get("agents") or []
    span = f"{int(chain.get('first') or 0)}-{int(chain.get('last') or 0)}" if chain else ""
    gap_cell = (
        f'<span class="bad">{_text(gap_text(gaps))}</span>'
        if gaps
        else '<span class="ok">none</span>'
    )
    if forks:
        gap_cell += f' <span class="bad">{forks} fork{"s" if forks != 1 else ""}</span>'
    stale_cell = ' <span class="warn">stale</span>' if stale else ""
    records = int(host.get("records") or 0)
    attrs = (
        f'data-host="{_attr(host.get("host_id", ""))}" '
        f'data-highest="{_attr(highest or "none")}" data-records="{records}" '
        f'data-gaps="{_attr(gap_text(gaps))}" data-stale="{"yes" if stale else "no"}"'
    )
    css = ' class="stale"' if stale else ""
    return (
        f"<tr{css} {attrs}>"
        f"<td><strong>{_text(host.get('host_id', ''))}</strong></td>"
        f"<td>{_severity(highest)}</td>"
        f'<td class="num">{records}</td>'
        f'<td class="num">{int(host.get("findings") or 0)}</td>'
        f"<td>{_when(host.get('last_report'))}</td>"
        f"<td>{_when(host.get('last_heartbeat'))}{stale_cell}</td>"
        f'<td class="num">{int(host.get("reports") or 0)}</td>'
        f"<td>{_text(span)}</td>"
        f"<td>{gap_cell}</td>"
        f"<td>{' '.join(_short(a) for a in agents) or _short(None)}</td>"
        f"<td>{_short(host.get('pack_digest'), 19)}<br>{_short(host.get('edm_digest'), 19)}</td>"
        "</tr>"
    )


def _hosts(fleet: Mapping[str, Any]) -> str:
    hosts = fleet.get("hosts") or []
    if not hosts:
        return '<h2>Hosts</h2><p class="note">No machine has enrolled yet.</p>'
    head = [
        ("Host", False),
        ("Highest", False),
        ("Records", True),
        ("Findings", True),
        ("Last report", False),
        ("Last heartbeat", False),
        ("Reports", True),
        ("Chain", False),
        ("Gaps", False),
        ("Agent keys", False),
        ("Pack / index digest", False),
    ]
    rows = (_host_row(h) for h in hosts)
    return f"<h2>Hosts</h2>{_table(head, rows, 'hosts')}"


def _cards(fleet: Mapping[str, Any]) -> str:
    totals = fleet.get("totals") or {}
    cards = [
        ("hosts", "hosts", "machines enrolled"),
        ("holding", "holding", "hold taxpayer data"),
        ("clean", "clean", "clean"),
        ("stale", "stale", "stale (no heartbeat)"),
        ("with_gaps", "gaps", "with chain gaps"),
    ]
    body = "".join(
        f'<div class="card {css}" data-total="{_attr(key)}">'
        f'<span class="n">{int(totals.get(key) or 0)}</span>'
        f'<span class="k">{_text(label)}</span></div>'
        for key, css, label in cards
    )
    return f'<div class="cards">{body}</div>'


def _inventory(status: Mapping[str, Any] | None) -> str:
    if status is None:
        return ""
    if not status.get("inventory"):
        return (
            '<h2>Inventory</h2><p class="note">No inventory imported: '
            "<code>ftiscan intake inventory import FILE.csv</code>.</p>"
        )
    rows: list[str] = []
    for kind, label in (("never_enrolled", "never enrolled"), ("never_reported", "never reported")):
        rows.extend(
            f'<tr data-missing="{_attr(kind)}"><td>{_text(h)}</td><td>{_text(label)}</td></tr>'
            for h in status.get(kind) or []
        )
    rows.extend(
        f'<tr data-missing="outdated"><td>{_text(o.get("host_id", ""))}</td>'
        f"<td>outdated: {_text(o.get('reason', ''))}</td></tr>"
        for o in status.get("outdated") or []
    )
    current = status.get("current") or {}
    since = status.get("since")
    lede = (
        f"<p>{int(status['inventory'])} machines in the inventory; current pack "
        f"{_short(current.get('pack_digest'), 19)}, index {_short(current.get('edm_digest'), 19)}"
        f"{', since ' + _text(since) if since else ''}.</p>"
    )
    if not rows:
        return f'<h2>Inventory</h2>{lede}<p class="ok">Every machine has reported.</p>'
    return f"<h2>Inventory</h2>{lede}{_table([('Host', False), ('Missing', False)], rows)}"


def _correlation(fleet: Mapping[str, Any]) -> str:
    entries = fleet.get("correlation") or []
    if not entries:
        return '<h2>Correlation</h2><p class="note">No record is held on more than one machine.</p>'
    shown = entries[:MAX_CORRELATION_ROWS]
    rows = (
        f'<tr data-fingerprint="{_attr(e.get("fingerprint", ""))}">'
        f"<td><code>{_text(e.get('fingerprint', ''))}</code></td>"
        f'<td class="num">{int(e.get("machines") or 0)}</td></tr>'
        for e in shown
    )
    more = (
        f'<p class="note">{len(entries) - len(shown)} more not shown (GET /v1/fleet has all).</p>'
        if len(entries) > len(shown)
        else ""
    )
    return (
        "<h2>Correlation</h2><p class=note>Records (keyed fingerprints, never the data) "
        "held on two or more machines.</p>"
        f"{_table([('Fingerprint', False), ('Machines', True)], rows, 'correlation')}{more}"
    )


def render_fleet_html(fleet: Mapping[str, Any], status: Mapping[str, Any] | None = None) -> str:
    """The fleet page for ``fleet`` (`Intake.fleet()`) and ``status``
    (`Intake.inventory_status()`, optional)."""
    generated = fleet.get("generated", "")
    hours = fleet.get("stale_hours", 24.0)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_attr(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>ftiscan fleet</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        "<h1>ftiscan fleet</h1>"
        f'<p class="note">Generated {_when(generated)}; a host is stale after '
        f"{_text(f'{float(hours):g}')} hours without a heartbeat.</p>"
        f"{_cards(fleet)}{_hosts(fleet)}{_inventory(status)}{_correlation(fleet)}"
        "\n</body>\n</html>\n"
    )
