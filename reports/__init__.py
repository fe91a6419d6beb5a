"""Reports: the payload model, canonical bytes, durable writes and renderers."""

from ftiscan.reports.canonical import CanonicalError, canonical_bytes
from ftiscan.reports.render import render_json, render_text
from ftiscan.reports.report import build_report
from ftiscan.reports.store import write_durable

__all__ = [
    "CanonicalError",
    "build_report",
    "canonical_bytes",
    "render_json",
    "render_text",
    "write_durable",
]
