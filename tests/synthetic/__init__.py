"""Synthetic data generators with ground truth (no real people; written at test time)."""
