"""gait_measures on simulated walking (numba backend, a few seconds each)."""

import dataclasses

import numpy as np
import pytest

import gaitsim as gs
from gaitsim import analysis
from gaitsim.measures import HEADLINE, GaitMeasures, gait_measures
from gaitsim.results import STATUS_FELL, STATUS_OK, Results

pytest.importorskip("numba")

DURATION = 5.0  # s: three right strides after the 1-s start-up of the shipped walker


def _simulate(model):
    from gaitsim.tuned import healthy_walker, tuned_integration

    ctrl, x0 = healthy_walker(model, backend="numba")
    return gs.simulate(model, ctrl, duration=DURATION, initial_state=x0, save=gs.SaveEvery(4),
                       **tuned_integration("trunk_initiated", backend="numba"))


@pytest.fixture(scope="module")
def healthy():
    model = gs.build_model(batch_size=1)
    return model, _simulate(model)


@pytest.fixture(scope="module")
def pair():
    """Walker 0 healthy, walker 1 with tibialis anterior at 5 % strength (falls)."""
    model = gs.build_model(batch_size=2, scale={"muscle.max_isometric_force.tib_ant_*": [1.0, 0.05]})
    return model, _simulate(model)


def _select(res: Results, idx) -> Results:
    """A Results of a subset of walkers (index array)."""
    return dataclasses.replace(res, data={k: v[idx] for k, v in res.data.items()}, status=res.status[idx],
                               status_time=res.status_time[idx], final_state=res.final_state[idx],
                               params={k: v[idx] for k, v in res.params.items()})


def test_healthy_measures_finite_and_consistent_with_spatiotemporal(healthy):
    model, res = healthy
    g = gait_measures(res, model, skip=1.0)
    assert isinstance(g, GaitMeasures) and g.status[0] == STATUS_OK and np.isnan(g.fell_at[0])
    n = g.n_strides[0]
    assert n >= 2
    for k in HEADLINE:
        assert np.all(np.isfinite(g.per_stride[k][0, :n])), k
        assert np.isfinite(g.mean[k][0]) and np.isfinite(g.sd[k][0]), k
        assert k in g.units
    keep = res.time >= 1.0
    st = analysis.spatiotemporal(res.time[keep], res["q"][0, keep, 0], res["grf"][0, keep, 0, 1],
                                 res["grf"][0, keep, 1, 1], float(model.body_weight[0]))
    assert st["strides"] == n
    np.testing.assert_allclose(g.mean["speed"][0], st["speed"], rtol=2e-3)
    np.testing.assert_allclose(g.mean["stride_length"][0], st["stride_length"], rtol=1e-9)
    np.testing.assert_allclose(g.mean["stance_pct_r"][0], st["stance_pct"], rtol=1e-9)
    np.testing.assert_allclose(g.mean["double_support_pct"][0], st["double_support_pct"], rtol=1e-9)
    # loads per second and per metre are the per-stride values over stride time and length
    ps = g.per_stride
    np.testing.assert_allclose(ps["psoas_r_impulse_per_s"], ps["psoas_r_impulse"] / ps["stride_time"])
    np.testing.assert_allclose(ps["erector_spinae_impulse_per_m"], ps["erector_spinae_impulse"] / ps["stride_length"])
    # physical sanity: compression above the trunk's own weight share, cascade in order
    torso_bw = model.params["body.segment_mass"][0, 1] / model.skeleton.mass_total[0]
    assert g.mean["lumbar_compression_mean_bw"][0] > 0.5 * torso_bw
    assert g.mean["lumbar_compression_peak_bw"][0] >= g.mean["lumbar_compression_mean_bw"][0]
    assert 0.0 < g.mean["psoas_compression_share"][0] < 1.0
    # the causes of the compression (torso, erector spinae, abdominals, psoas) add up to all of it
    shares = sum(ps[f"{part}_compression_share"] for part in ("body", "erector_spinae", "abdominals", "psoas"))
    np.testing.assert_allclose(shares[np.isfinite(shares)], 1.0, rtol=1e-9)
    assert g.mean["cascade_psoas_onset_pct"][0] < g.mean["cascade_knee_flexion_pct"][0] < 100.0
    assert g.mean["cascade_foot_off_pct"][0] < g.mean["cascade_knee_flexion_pct"][0]
    assert g.mean["metabolic_rate_with_basal"][0] == pytest.approx(g.mean["metabolic_rate"][0] + 1.2)
    # fibre work: positive and negative parts have their signs
    assert g.mean["psoas_r_work_pos"][0] > 0 > g.mean["psoas_r_work_neg"][0]
    for name, curve in g.curves.items():
        assert curve.shape[:2] == (1, 101) and np.all(np.isfinite(curve)), name
    d = g.to_dict(0)
    assert d["n_strides"] == n and d["speed"]["unit"] == "m/s" and len(d["speed"]["per_stride"]) == n
    text = g.table(0, HEADLINE)
    assert "lumbar_compression_peak_bw" in text and "deg" in g.table(0, ["hip_extension_peak_r"])


def test_fall_part_way_excludes_later_strides(healthy):
    """The same walk marked as fallen keeps only the strides completed at least a stride time
    before the fall (the last one before it is the stumble), with the same values; later entries
    are NaN."""
    model, res = healthy
    ok = gait_measures(res, model)
    fall = float(ok.stride_end[0, 2]) + 0.01  # just after the 3rd stride ends
    fell = dataclasses.replace(res, status=np.array([STATUS_FELL], dtype=res.status.dtype),
                               status_time=np.array([fall]))
    g = gait_measures(fell, model)
    n = g.n_strides[0]
    stride = np.median(ok.stride_end[0, :3] - ok.stride_start[0, :3])
    assert 1 <= n < 3 and g.fell_at[0] == fall  # the 3rd stride ends 0.01 s before the fall: dropped
    assert n == np.sum(ok.stride_end[0, :3] <= fall - stride)
    for k in ("lumbar_compression_peak", "psoas_r_impulse", "metabolic_energy", "stride_time"):
        np.testing.assert_allclose(g.per_stride[k][0, :n], ok.per_stride[k][0, :n], rtol=1e-12)
    assert np.all(np.isnan(g.per_stride["speed"][0, n:]))


def test_fallen_walker_in_batch_and_batch_equals_singles(pair, healthy):
    model, res = pair
    assert res.status[0] == STATUS_OK and res.status[1] == STATUS_FELL
    g = gait_measures(res, model)
    assert g.n_strides[1] == 0 or np.all(g.stride_end[1, :g.n_strides[1]] < res.status_time[1])
    assert np.all(np.isnan(g.per_stride["speed"][1, g.n_strides[1]:]))
    assert np.isfinite(g.fell_at[1]) and np.isnan(g.fell_at[0])
    # each walker measured alone gives the same numbers as in the batch
    for i in range(2):
        gi = gait_measures(_select(res, [i]), gs.select_walkers(model, i))
        assert gi.n_strides[0] == g.n_strides[i]
        for k in gi.per_stride:
            np.testing.assert_array_equal(gi.per_stride[k][0, :gi.n_strides[0]], g.per_stride[k][i, :g.n_strides[i]])
    # the healthy walker is unaffected by its fallen neighbour (same as the single run)
    h_model, h_res = healthy
    gh = gait_measures(h_res, h_model)
    assert gh.n_strides[0] == g.n_strides[0]
    for k in HEADLINE:
        np.testing.assert_allclose(g.per_stride[k][0, :g.n_strides[0]], gh.per_stride[k][0, :gh.n_strides[0]],
                                   rtol=1e-9, atol=1e-12)


def test_missing_fields_are_named(healthy):
    model, res = healthy
    slim = dataclasses.replace(res, data={k: res.data[k] for k in ("q", "grf")})
    with pytest.raises(KeyError, match="muscle_force"):
        gait_measures(slim, model)


def test_qddot_by_dynamics_agrees_with_differences(healthy):
    model, res = healthy
    a = gait_measures(res, model)
    b = gait_measures(res, model, qddot_method="dynamics")
    for k in ("lumbar_compression_mean", "lumbar_compression_peak", "lumbar_shear_mean_bw"):
        np.testing.assert_allclose(b.mean[k], a.mean[k], rtol=0.02)
    with pytest.raises(ValueError, match="qddot_method"):
        gait_measures(res, model, qddot_method="magic")
