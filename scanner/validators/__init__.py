"""Validators: one small module per identifier or address part.

Each identifier module has ``compact``, ``validate`` (the compact form, or
`InvalidFormat` / `InvalidComponent` naming the failing part, never the value),
``is_valid`` and ``mask``; the TIN modules add a hot-path ``is_valid_digits``.
`states`, `zipcode` and `usps` also hold the address tables the detector and the
EDM normaliser share.
"""

from ftiscan.scanner.validators import (
    dln,
    ein,
    itin,
    mft,
    name_control,
    ssn,
    states,
    tax_period,
    usps,
    zipcode,
)

__all__ = [
    "dln",
    "ein",
    "itin",
    "mft",
    "name_control",
    "ssn",
    "states",
    "tax_period",
    "usps",
    "zipcode",
]
