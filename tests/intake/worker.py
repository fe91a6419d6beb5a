"""A separate intake process for the concurrency and crash tests.

``python -m tests.intake.worker DB KEY OUT ENVELOPE...`` opens `Intake` on ``DB``,
waits until the file ``OUT.go`` exists (so that several workers start at once), then
accepts each envelope file in the order given and writes one JSON line per envelope
to ``OUT``: ``{"file", "stored", "receipt"}`` or ``{"file", "code"}``.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

from ftiscan.reports.intake.service import Intake, IntakeError


def main(argv: list[str]) -> int:
    db, key, out = argv[0], Path(argv[1]), Path(argv[2])
    files = [Path(name) for name in argv[3:]]
    intake = Intake.open(db, key, busy_timeout=30.0)
    go = out.with_name(out.name + ".go")
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    lines = []
    for path in files:
        try:
            stored, receipt = intake.accept(path.read_bytes())
        except IntakeError as exc:
            lines.append({"file": path.name, "code": exc.code})
        else:
            lines.append(
                {
                    "file": path.name,
                    "stored": stored,
                    "receipt": base64.b64encode(receipt).decode("ascii"),
                }
            )
    intake.close()
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
