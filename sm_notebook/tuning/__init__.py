"""Hyperparameter sweeps: ``%%sm_tune`` (issue 15)."""
