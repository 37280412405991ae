"""The package version (its own module, so any module can name it without a cycle)."""

__version__ = "0.1.0"
