"""Reports: the payload model, canonical bytes, DSSE signing, chain, verification,
durable writes and renderers (text, JSON, SARIF, HTML)."""

from ftiscan.reports.canonical import CanonicalError, canonical_bytes
from ftiscan.reports.chain import Chain, Link, Problem, check_chain
from ftiscan.reports.dsse import PAYLOAD_TYPE, Verified, VerifyError, key_id, pae, sign, verify
from ftiscan.reports.html import render_html
from ftiscan.reports.render import render_json, render_text
from ftiscan.reports.report import build_report
from ftiscan.reports.sarif import render_sarif
from ftiscan.reports.schema import ReportSchemaError, check_payload, schema_errors
from ftiscan.reports.store import write_durable
from ftiscan.reports.verify import verify_reports

__all__ = [
    "PAYLOAD_TYPE",
    "CanonicalError",
    "Chain",
    "Link",
    "Problem",
    "ReportSchemaError",
    "Verified",
    "VerifyError",
    "build_report",
    "canonical_bytes",
    "check_chain",
    "check_payload",
    "key_id",
    "pae",
    "render_html",
    "render_json",
    "render_sarif",
    "render_text",
    "schema_errors",
    "sign",
    "verify",
    "verify_reports",
    "write_durable",
]
