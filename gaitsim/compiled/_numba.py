"""numba, when installed (a dependency of gaitsim; the package still imports and runs on numpy
without it): availability check, ``njit``, the backend names and their resolution."""

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
        raise ImportError('the numba backend needs numba: pip install numba (or backend="auto", which falls back '
                          'to numpy)')


#: concrete backends; ``"auto"`` (the default everywhere) resolves to one of them
BACKENDS = ("numpy", "numba")
#: what a ``backend`` argument accepts
BACKEND_CHOICES = ("auto",) + BACKENDS


def row_length(nb: int) -> int:
    """Row length (elements) for a kernel's temporary (rows, batch) arrays: the batch size, plus
    8 when it is a multiple of 64. Rows of 512 walkers are 4096 bytes apart, so the same walker's
    entries in every row fall into the same cache set, and a loop that reads a few dozen rows at
    once evicts its own data (measured: the reflex kernel ran 2.7x slower per walker at B = 512
    than at B = 500). A padded row shifts each row by one cache line."""
    return nb + 8 if nb % 64 == 0 else nb


# the kernels call the compiled form; without numba the name still exists so that every module imports
_row_length = njit(cache=True)(row_length) if numba is not None else row_length


def check_backend(value: str, field: str = "backend") -> None:
    """Raise ValueError naming ``field`` unless ``value`` is one of ``BACKEND_CHOICES``; ImportError
    if ``"numba"`` is asked for without numba installed."""
    if value not in BACKEND_CHOICES:
        raise ValueError(f"{field} must be one of {', '.join(BACKEND_CHOICES)}, got {value!r}")
    if value == "numba":
        require()


def resolve_backend(value: str, field: str = "backend") -> str:
    """The concrete backend for ``value`` (checked by ``check_backend``): ``"auto"`` is ``"numba"``
    when numba imports, else ``"numpy"``; the others stand for themselves."""
    check_backend(value, field)
    if value == "auto":
        return "numba" if available() else "numpy"
    return value


def kernels_cached() -> bool:
    """True when numba's on-disk cache already holds compiled gaitsim kernels (index files
    ``*.nbi`` beside the sources, or in ``NUMBA_CACHE_DIR`` when set), so a run starts without
    compiling. A heuristic for the user-facing "compiling kernels" message only: numba decides."""
    import os
    from pathlib import Path

    places = [Path(__file__).parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        places.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    return any(next(p.rglob("*.nbi"), None) is not None for p in places if p.is_dir())
