"""Small data tables shipped with gaitsim (each module states its source and licence)."""
