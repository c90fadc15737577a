"""gaitsim's version (one place; the package, saved results and adapted solutions read it here)."""

__version__ = "0.9.0"
