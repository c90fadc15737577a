"""provenance/tuning_runs: every tuning run is indexed once, and every index row names a file that exists."""

import json
from pathlib import Path

RUNS = Path(__file__).resolve().parents[1] / "provenance" / "tuning_runs"


def test_the_index_lists_every_run_once_and_only_existing_files():
    rows = [line.split("|")[1].strip() for line in (RUNS / "README.md").read_text().splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().endswith(".json")]
    files = sorted(p.name for p in RUNS.glob("*.json"))
    listed = [r for r in rows if not r.startswith("../")]
    assert sorted(listed) == files  # each file once, no row without its file
    for row in rows:
        assert (RUNS / row).is_file(), row


def test_every_run_records_its_objective_and_search():
    for path in RUNS.glob("*.json"):
        prov = json.loads(path.read_text())["provenance"]
        assert "objective" in prov and "search_gains" in prov, path.name
