"""The JSON Schema of the report payload (``reports/report.schema.json``) and its checks.

The schema ships in the package and is what counsel's tools validate a verified
payload against. ``schema_errors`` lists every violation as ``$.path: message``;
``check_payload`` raises `ReportSchemaError` with the first few.

Two things are stricter than a stock Draft 2020-12 validator:

* ``integer`` means a Python ``int``: JSON Schema counts ``3.0`` as an integer, but
  canonical JSON has no floats, so a float is refused wherever a count goes;
* ``date-time`` is always checked (stock jsonschema checks it only when the optional
  ``rfc3339-validator`` is installed, and silently passes otherwise).

Messages never quote a long value or any digit of a string from the payload: a
string is shown with its digits masked (``***-**-****``) and cut at 80 characters,
arrays and objects by their size. A payload should hold no plaintext, but an error
about one that does must not repeat it (DESIGN.md non-negotiable 1).

>>> schema_errors({"schema": "ftiscan.report/1"})[:2]
["$: 'chain' is a required property", "$: 'coverage' is a required property"]
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import fastjsonschema

from ftiscan.scanner.errors import FtiscanError

if TYPE_CHECKING:  # imported where a payload fails the fast check (about 70 ms)
    import jsonschema

__all__ = [
    "MAX_MESSAGE",
    "MAX_QUOTED",
    "MAX_RAISED",
    "SCHEMA_ID",
    "SCHEMA_RESOURCE",
    "ReportSchemaError",
    "check_payload",
    "load_schema",
    "schema_errors",
]

SCHEMA_ID = "https://ftiscan.invalid/schemas/ftiscan.report-1.json"
SCHEMA_RESOURCE = "report.schema.json"

#: Longest string (in characters) an error message quotes before cutting it.
MAX_QUOTED = 80
#: Longest message (in characters) one error gives.
MAX_MESSAGE = 240
#: How many errors `check_payload` puts in its message.
MAX_RAISED = 5

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DIGITS = str.maketrans("0123456789", "**********")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class ReportSchemaError(FtiscanError):
    """A report payload does not match ``reports/report.schema.json``."""

    def __init__(self, errors: list[str]) -> None:
        shown = "; ".join(errors[:MAX_RAISED])
        more = len(errors) - MAX_RAISED
        tail = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"report payload does not match {SCHEMA_ID}: {shown}{tail}")
        self.errors = errors


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("ftiscan.reports").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


def load_schema() -> dict[str, Any]:
    """The report schema, read once from the installed package (a copy each call)."""
    return copy.deepcopy(_schema())


def _is_int(checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True  # formats constrain strings only
    if _RFC3339.fullmatch(instance) is None:
        return False
    try:
        dt.datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30, hour 24, ...
        return False
    return True


def _format_checker() -> jsonschema.FormatChecker:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=("uuid",))
    checker.checks("date-time")(_is_date_time)
    return checker


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema
    import jsonschema.validators

    base = jsonschema.Draft202012Validator
    # jsonschema.validators.extend has no type information in types-jsonschema.
    extend = cast(
        Callable[..., type[jsonschema.Draft202012Validator]], jsonschema.validators.extend
    )
    strict = extend(base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_int))
    return strict(_schema(), format_checker=_format_checker())


@cache
def _fast() -> Callable[[Any], Any]:
    """The schema compiled to Python by fastjsonschema (draft-07 keywords only: the
    schema uses no 2020-12 keyword), about ten times faster than jsonschema."""
    compiled = fastjsonschema.compile(
        _schema(),
        formats={"date-time": _is_date_time, "uuid": _is_uuid},
    )
    return cast(Callable[[Any], Any], compiled)


def _is_uuid(instance: object) -> bool:
    return not isinstance(instance, str) or _UUID.fullmatch(instance) is not None


def _has_float(value: Any) -> bool:
    """fastjsonschema counts 3.0 as an integer, jsonschema here does not."""
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_float(item) for item in value)
    return False


def _fast_accepts(payload: Any) -> bool:
    """True only for a payload both validators accept; anything else is left to
    jsonschema, which lists every error (tests check that the two agree)."""
    try:
        _fast()(payload)
    except fastjsonschema.JsonSchemaException:
        return False
    return not _has_float(payload)


def _quote(value: str) -> str:
    head = value[:MAX_QUOTED]
    shown = head.translate(_DIGITS)
    masked = " (digits masked)" if shown != head else ""
    cut = f"... ({len(value)} characters)" if len(value) > MAX_QUOTED else ""
    return repr(shown) + cut + masked


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _shown(instance: object) -> str:
    if isinstance(instance, str):
        return _quote(instance)
    if isinstance(instance, dict):
        return f"an object with {len(instance)} keys"
    if isinstance(instance, list):
        return f"an array of {len(instance)} items"
    return _cut(repr(instance), MAX_QUOTED)


def _path(parts: Iterable[str | int]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}"
        else:
            out += f"[{_cut(repr(part), MAX_QUOTED)}]"
    return out


def _order(parts: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in parts)


def _message(error: jsonschema.ValidationError) -> str:
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = schema.get("properties", {})
        extra = ", ".join(_quote(str(key)) for key in sorted(instance) if key not in known)
        return f"additional properties are not allowed ({extra})"
    return _cut(error.message.replace(repr(instance), _shown(instance)), MAX_MESSAGE)


def schema_errors(payload: Any) -> list[str]:
    """Every violation of the report schema, as ``$.path.to.field: message``.

    Sorted by path (the root first, list items by index: ``[2]`` before ``[10]``),
    then by message.

    An empty list means the payload matches. What the schema cannot say is not
    checked here: that counts add up, that ``end`` follows ``start``, that the
    chain's ``previous`` is the digest of the report before this one.
    """
    if _fast_accepts(payload):
        return []
    found = [
        (_order(error.absolute_path), f"{_path(error.absolute_path)}: {_message(error)}")
        for error in _validator().iter_errors(payload)
    ]
    return [text for _, text in sorted(found)]


def check_payload(payload: Any) -> None:
    """Raise `ReportSchemaError` (naming the first few violations) unless it matches."""
    errors = schema_errors(payload)
    if errors:
        raise ReportSchemaError(errors)
