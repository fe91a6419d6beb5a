"""Reports: the payload model, canonical bytes, DSSE signing, chain, verification,
durable writes and renderers (text, JSON, SARIF, HTML).

The names below are imported from their modules on first use (PEP 562): a scan
needs the model, signing and the JSON renderer, not the schema checks, the HTML
renderer or verification, and each command starts faster for it. The DSSE check is
`ftiscan.reports.dsse.verify`: ``ftiscan.reports.verify`` is the module of
`verify_reports`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftiscan.reports.canonical import CanonicalError, canonical_bytes
    from ftiscan.reports.chain import Chain, Link, Problem, check_chain
    from ftiscan.reports.dsse import PAYLOAD_TYPE, Verified, VerifyError, key_id, pae, sign
    from ftiscan.reports.html import render_html
    from ftiscan.reports.render import render_json, render_text
    from ftiscan.reports.report import build_report
    from ftiscan.reports.sarif import render_sarif
    from ftiscan.reports.schema import ReportSchemaError, check_payload, schema_errors
    from ftiscan.reports.store import write_durable
    from ftiscan.reports.verify import verify_reports

_MODULE_OF = {
    "CanonicalError": "canonical",
    "canonical_bytes": "canonical",
    "Chain": "chain",
    "Link": "chain",
    "Problem": "chain",
    "check_chain": "chain",
    "PAYLOAD_TYPE": "dsse",
    "Verified": "dsse",
    "VerifyError": "dsse",
    "key_id": "dsse",
    "pae": "dsse",
    "sign": "dsse",
    "render_html": "html",
    "render_json": "render",
    "render_text": "render",
    "build_report": "report",
    "render_sarif": "sarif",
    "ReportSchemaError": "schema",
    "check_payload": "schema",
    "schema_errors": "schema",
    "write_durable": "store",
    "verify_reports": "verify",
}

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
    "verify_reports",
    "write_durable",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
