"""results: save and load round trip, status text, per-walker selection."""

import numpy as np

import gaitsim as gs


def test_save_load_round_trip(tmp_path):
    model = gs.build_model(batch_size=2)
    res = gs.simulate(model, gs.PoseHold(), duration=0.01, save=gs.SaveEvery(2))
    res.save(tmp_path / "r.npz")
    back = gs.Results.load(tmp_path / "r.npz")
    for k in res.data:
        np.testing.assert_array_equal(back[k], res[k])
    np.testing.assert_array_equal(back.final_state, res.final_state)
    assert back.status_text() == res.status_text() == ["ok", "ok"]
    assert back.units("grf") == "N" and back.dt == res.dt


def test_summary_policy_keeps_running_statistics():
    res = gs.simulate(gs.build_model(), gs.PoseHold(), duration=0.01, save=gs.SaveSummary(("q",)))
    assert set(res.data) == {"q/mean", "q/min", "q/max", "samples"}
    assert np.all(res["q/min"] <= res["q/mean"]) and np.all(res["q/mean"] <= res["q/max"])
