"""The agent: command line, keys, the chain journal, progress (the daemon comes later)."""

from ftiscan.agent.journal import Journal, Signed
from ftiscan.agent.keys import KeyFileError, agent_key, fingerprint_key, trusted_keys

__all__ = ["Journal", "KeyFileError", "Signed", "agent_key", "fingerprint_key", "trusted_keys"]
