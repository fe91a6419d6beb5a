"""Exact data match (EDM): counsel's list as keyed hashes, and lookups against it.

`ftiscan.scanner.edm.normalize` turns fields into keys (the same way for building and
scanning), `ftiscan.scanner.edm.build` makes the signed index from a CSV list,
`ftiscan.scanner.edm.index` reads and verifies it (its docstring is the design note:
what the index reveals, to whom, at what cost), and `ftiscan.scanner.edm.match`
finds listed records in table rows and prose.
"""

from ftiscan.scanner.edm.build import BuildError, BuildStats, Built, EdmBuilder, build_csv
from ftiscan.scanner.edm.index import EdmError, EdmIndex, load_index, read_index
from ftiscan.scanner.edm.match import EdmHit, EdmMatcher

__all__ = [
    "BuildError",
    "BuildStats",
    "Built",
    "EdmBuilder",
    "EdmError",
    "EdmHit",
    "EdmIndex",
    "EdmMatcher",
    "build_csv",
    "load_index",
    "read_index",
]
