"""The agent: command line, keys, progress (the daemon and state come later)."""

__all__: list[str] = []
