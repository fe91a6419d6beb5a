"""The scan engine: walk, identify, extract, detect, assemble records, findings.

Nothing here knows about click, watchdog, HTTP or SQLite; the CLI and the daemon
call `ftiscan.scanner.engine.run_scan`.
"""

from ftiscan.scanner.errors import (
    ExtractError,
    FtiscanError,
    InvalidComponent,
    InvalidFormat,
    LimitExceeded,
    PackError,
    SelfTestError,
)
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = [
    "ExtractError",
    "FtiscanError",
    "InvalidComponent",
    "InvalidFormat",
    "LimitExceeded",
    "Limits",
    "Location",
    "PackError",
    "Rows",
    "Segment",
    "SelfTestError",
    "Unread",
]
