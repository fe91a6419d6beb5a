"""Extractors: one module per format family, each yielding `Segment` and `Rows`."""
