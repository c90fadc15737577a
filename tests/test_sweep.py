"""Parameter sweeps (gaitsim.sweep): same numbers on every executor, interruption-safe store,
definitions refused before any work, fallen points kept and masked, files and samples."""

from __future__ import annotations

import json
import multiprocessing
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from gaitsim import sweep as sw
from gaitsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
DURATION = 3.0
#: weak_dorsiflexors = 1 alone makes the acute trunk-initiated walker fall within 2 s (1.51 s with the
#: stage-16 walker; stiff calves no longer do); healthy dorsiflexors walk, with psoas shortening 0.3 too
#: (0.5 falls at 2.9 s with stage 16)
GRID = {"psoas_shortening": [0.0, 0.3], "weak_dorsiflexors": [0.0, 1.0]}
#: the interrupted sweeps: two walking points, one batch each (a part of GRID)
SMALL = {"psoas_shortening": [0.0, 0.3], "weak_dorsiflexors": [0.0]}


@pytest.fixture(scope="module")
def base():
    return Scenario.preset("healthy")


@pytest.fixture(scope="module")
def reference(base):
    return sw.sweep(base, GRID, duration=DURATION, batch_size=2, progress=False)


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    xr.testing.assert_equal(a, b)  # values, dims and coordinates; NaN == NaN; attrs aside


def test_dataset_layout(reference):
    ds = reference
    assert ds["status"].dims == ("psoas_shortening", "weak_dorsiflexors")
    assert list(ds["weak_dorsiflexors"].values) == [0.0, 1.0]
    assert ds["speed"].attrs["units"] == "m/s" and "speed_sd" in ds
    assert ds["curve_activation"].dims == ("psoas_shortening", "weak_dorsiflexors", "cycle_pct", "muscle")
    assert ds["curve_joint_moment"].dims[-1] == "coordinate" and ds.sizes["cycle_pct"] == 101
    assert ds.attrs["mode"] == "acute" and ds.attrs["interrupted"] is False
    assert Scenario.from_dict(tomllib.loads(ds.attrs["base_scenario"])).duration == DURATION
    assert json.loads(ds.attrs["sweep_definition"])["grid"] == GRID


def test_fallen_point_keeps_status_and_walking_masks_it(reference):
    ds = reference
    fallen = dict(psoas_shortening=0.0, weak_dorsiflexors=1.0)
    assert str(ds["status"].sel(fallen).values) == "fell"
    assert str(ds["fall_cause"].sel(fallen).values).startswith("fell at")
    assert float(ds["status_time"].sel(fallen)) < DURATION
    assert set(ds["status"].sel(weak_dorsiflexors=0.0).values) == {"ok"}
    w = sw.walking(ds)
    not_ok = (ds["status"] != "ok").values
    assert np.isnan(w["speed"].values[not_ok]).all() and np.isnan(w["curve_activation"].values[not_ok]).all()
    strided = ((ds["status"] == "ok") & (ds["n_strides"] > 0)).values  # walking points with measured strides
    assert strided.sum() >= 2  # the healthy point and at least one impaired one
    assert np.isfinite(w["speed"].values[strided]).all() and (w["speed"].values[strided] > 0.5).all()
    assert np.isnan(w["speed"].values[(ds["status"] == "ok").values & ~strided]).all()  # no stride: no speed
    assert (w["status"] == ds["status"]).all()


def test_batches_give_the_same_numbers(base, reference):
    one_batch = sw.sweep(base, GRID, duration=DURATION, progress=False)
    _same(reference, one_batch)


def test_process_pool_same_numbers(base, reference):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        ds = sw.sweep(base, GRID, duration=DURATION, batch_size=2, executor=pool, progress=False)
    _same(reference, ds)


def test_dask_cluster_same_numbers(base, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ds = sw.sweep(base, GRID, duration=DURATION, batch_size=2, scheduler=client, progress=False)
        by_address = sw.sweep(base, SMALL, duration=DURATION, batch_size=1, scheduler=cluster.scheduler_address,
                              progress=False)
    _same(reference, ds)
    _same(reference.sel(weak_dorsiflexors=[0.0]), by_address)


@pytest.fixture
def no_work(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a batch ran although the definition is bad")

    monkeypatch.setattr(sw, "run_points", refuse)


@pytest.mark.parametrize("grid, words", [
    ({"psoas_shortnening": [0.0, 0.5]}, ["psoas_shortnening", "impairment"]),
    ({"psoas_shortening": []}, ["psoas_shortening", "empty"]),
    ({"psoas_shortening": [0.0, "a lot"]}, ["psoas_shortening", "numbers"]),
    ({"psoas_shortening": [0.0, 1.5]}, ["psoas_shortening", "[0, 1]"]),
    ({"controller": ["trunk_initiated", "geyer_herr"]}, ["controller", "one sweep per controller"]),
    ({"psoas_shortening": [0.5, 0.5]}, ["psoas_shortening", "repeat"]),
    ({}, ["non-empty grid"]),
])
def test_bad_definitions_refused_before_any_work(base, no_work, tmp_path, grid, words):
    with pytest.raises(ValueError) as e:
        sw.sweep(base, grid, duration=DURATION, store=tmp_path / "store", progress=False)
    for w in words:
        assert w in str(e.value)
    assert not (tmp_path / "store").exists()


def test_adapted_sweep_warm_starts_from_neighbours_and_keeps_each_seed(base, tmp_path, monkeypatch):
    from gaitsim.adapt import AdaptSettings, _base_name, adapted_key, load_adapted

    monkeypatch.setenv("GAITSIM_CACHE", str(tmp_path / "cache"))
    settings = AdaptSettings(generations=1, popsize=2, seeds=(1, 2),
                             objective=(("duration", 0.4), ("also_dt", ()), ("settle", 0.2)))
    grid = {"weak_dorsiflexors": [0.0, 0.3], "psoas_tone": [0.0, 0.3]}
    ds = sw.sweep(base, grid, mode="adapted", duration=2.0, adapt_settings=settings, progress=False)
    assert ds.attrs["mode"] == "adapted" and list(ds["seed"].values) == [1, 2]
    assert dict(ds["status"].sizes) == {"seed": 2, "weak_dorsiflexors": 2, "psoas_tone": 2}
    point = lambda w, t: base.with_settings({"weak_dorsiflexors": w, "psoas_tone": t})  # noqa: E731
    origin = min((load_adapted(point(0.0, 0.0), k) for k in (1, 2)), key=lambda s: s["provenance"]["best_cost"])
    after = load_adapted(point(0.0, 0.3), 1)  # one step along the last axis from the origin
    assert after["provenance"]["base"].split()[0] == adapted_key(point(0.0, 0.0)) == origin["provenance"]["adapted_key"]
    assert after["provenance"]["base"] == _base_name(origin, point(0.0, 0.3))  # the best seed's solution
    corner = load_adapted(point(0.3, 0.3), 2)  # its neighbour back along the last axis it moved on
    assert corner["provenance"]["base"].split()[0] == adapted_key(point(0.3, 0.0))


def test_waves_of_a_grid_and_of_samples():
    plan = sw._plan({"psoas_tone": [0.0, 0.1, 0.2], "calf_stiffness": [0.0, 0.5]})
    waves = sw._waves(plan)
    assert [len(w) for w in waves] == [1, 2, 2, 1]
    assert waves[0] == [(0, None)] and (1, 0) in waves[1] and (2, 0) in waves[1]
    samples = sw._plan(sw.latin_hypercube({"psoas_tone": (0.0, 1.0), "calf_stiffness": (0.0, 1.0)}, 9, seed=3))
    waves = sw._waves(samples)
    assert sum(len(w) for w in waves) == 9 and all(p is None for _, p in waves[0])
    seen = {i for i, _ in waves[0]}
    for wave in waves[1:]:
        assert all(p in seen for _, p in wave)  # each continues from a finished point
        seen |= {i for i, _ in wave}


def test_store_of_another_definition_refused(base, tmp_path, no_work):
    store = tmp_path / "store"
    store.mkdir()
    manifest = {"format": sw.STORE_FORMAT, "definition_hash": "0123456789abcdef", "definition": {"kind": "grid"},
                "batch_size": 1, "batches": [[0]], "done": {}, "log": []}
    (store / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="holds another sweep"):
        sw.sweep(base, GRID, duration=DURATION, store=store, progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a sweep store"):
        sw.sweep(base, GRID, duration=DURATION, store=tmp_path / "other", progress=False)


_SCRIPT = textwrap.dedent("""
    import sys
    from gaitsim import sweep as sw
    from gaitsim.scenario import Scenario
    ds = sw.sweep(Scenario.preset("healthy"), {grid!r}, duration={duration}, batch_size=1, store=sys.argv[1],
                  progress=False)
    print("interrupted", ds.attrs["interrupted"], flush=True)
""")


def _start_and_stop(store: Path, sig: int) -> subprocess.Popen:
    """Run the sweep in a subprocess and send it ``sig`` once a batch (not all) is in the store."""
    script = _SCRIPT.format(grid=SMALL, duration=DURATION)
    proc = subprocess.Popen([sys.executable, "-c", script, str(store)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_manifest(store).get("done", {})) >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    proc.send_signal(sig)
    proc.wait(60)
    return proc


def _manifest(store: Path) -> dict:
    try:
        return json.loads((store / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_sweep_resumes_to_the_same_result(base, reference, tmp_path, sig):
    store = tmp_path / "store"
    proc = _start_and_stop(store, sig)
    out, err = proc.communicate()
    if sig == signal.SIGINT:
        assert proc.returncode == 0, err
        assert "interrupted True" in out and "rerun the same call to resume" in err
    assert len(_manifest(store)["done"]) == 1
    expected = reference.sel(weak_dorsiflexors=[0.0])
    ds = sw.sweep(base, SMALL, duration=DURATION, store=store, progress=False)
    assert ds.attrs["interrupted"] is False
    _same(expected, ds)
    log = _manifest(store)["log"]
    assert sorted({e["batch"] for e in log}) == [0, 1]
    assert len(log) <= 2 + 1  # at most the interrupted batch computed twice
    again = sw.sweep(base, SMALL, duration=DURATION, store=store, progress=False)  # all done: nothing computed
    assert len(_manifest(store)["log"]) == len(log)
    _same(expected, again)


def test_save_load_round_trip(reference, tmp_path):
    path = sw.save(reference, tmp_path / "sweep.nc")
    back = sw.load(path)
    _same(reference, back)
    assert back.attrs["interrupted"] is False and back.attrs["definition_hash"] == reference.attrs["definition_hash"]


def test_samples(base):
    lhs = sw.latin_hypercube({"psoas_shortening": (0.0, 0.6), "body_mass": (65.0, 80.0)}, 3, seed=4)
    again = sw.latin_hypercube({"psoas_shortening": (0.0, 0.6), "body_mass": (65.0, 80.0)}, 3, seed=4)
    np.testing.assert_array_equal(lhs.values, again.values)
    assert lhs.values.shape == (3, 2) and (lhs.values[:, 1] >= 65.0).all() and (lhs.values[:, 1] <= 80.0).all()
    ds = sw.sweep(base, lhs, duration=2.0, progress=False, curves=False)
    assert ds["status"].dims == ("point",) and ds.sizes["point"] == 3
    np.testing.assert_array_equal(ds["body_mass"].values, lhs.values[:, 1])
    assert "curve_activation" not in ds
    with pytest.raises(ValueError, match="low < high"):
        sw.random_samples({"psoas_shortening": (0.5, 0.1)}, 3)


def test_sweep_file():
    scenario, grid = sw.load_sweep(ROOT / "examples" / "sweeps" / "psoas_x_calf.toml")
    assert scenario.duration == 20.0 and scenario.controller == "trunk_initiated"
    assert list(grid) == ["psoas_shortening", "calf_stiffness"]
    assert len(grid["psoas_shortening"]) == 11 and grid["calf_stiffness"][-1] == 1.0


def test_default_batch_size():
    assert sw.default_batch_size(9, 3.0, 0.002, cpus=2) == 9  # small sweep: one batch
    b = sw.default_batch_size(121, 20.0, 0.002, cpus=2)
    assert b * 10000 * sw._BYTES_PER_SAMPLE <= sw.BATCH_MEMORY and -(-121 // b) >= 2
    assert sw.default_batch_size(100000, 0.1, 0.002, cpus=2) <= sw.MAX_BATCH


def test_integer_knobs_stay_integers(base):
    plan = sw._plan({"mechanics_substeps": [2, 4], "psoas_tone": [0.1]})
    assert all(isinstance(p["mechanics_substeps"], int) for p in plan.points)
    scenarios = sw._point_scenarios(base, plan)
    assert [s.integrator["mechanics_substeps"] for s in scenarios] == [2, 4]
