"""numba, when installed (the optional extra ``fast``): availability check and ``njit``."""

from __future__ import annotations

try:  # numba is an optional dependency
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without the extra
    numba = None
    njit = None


def available() -> bool:
    """True when numba is installed."""
    return numba is not None


def require() -> None:
    """Raise a clear ImportError when numba is missing."""
    if numba is None:
        raise ImportError('the numba backend needs numba: pip install "gaitsim[fast]" (or pip install numba)')


BACKENDS = ("numpy", "numba")


def check_backend(value: str, field: str = "backend") -> None:
    """Raise ValueError naming ``field`` unless ``value`` is a known backend; ImportError if
    ``"numba"`` is asked for without numba installed."""
    if value not in BACKENDS:
        raise ValueError(f"{field} must be 'numpy' or 'numba', got {value!r}")
    if value == "numba":
        require()
