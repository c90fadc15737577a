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


def row_length(nb: int) -> int:
    """Row length (elements) for a kernel's temporary (rows, batch) arrays: the batch size, plus
    8 when it is a multiple of 64. Rows of 512 walkers are 4096 bytes apart, so the same walker's
    entries in every row fall into the same cache set, and a loop that reads a few dozen rows at
    once evicts its own data (measured: the reflex kernel ran 2.7x slower per walker at B = 512
    than at B = 500). A padded row shifts each row by one cache line."""
    return nb + 8 if nb % 64 == 0 else nb


if numba is not None:
    _row_length = njit(cache=True)(row_length)


def check_backend(value: str, field: str = "backend") -> None:
    """Raise ValueError naming ``field`` unless ``value`` is a known backend; ImportError if
    ``"numba"`` is asked for without numba installed."""
    if value not in BACKENDS:
        raise ValueError(f"{field} must be 'numpy' or 'numba', got {value!r}")
    if value == "numba":
        require()
