"""Gait events and normalization against the measured subject01 trial and synthetic gaits."""

from pathlib import Path

import numpy as np
import pytest

from gaitsim import analysis

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "opensim_gait10dof18musc_subject01"


def _read_mot(path):
    lines = path.read_text().splitlines()
    end = next(i for i, l in enumerate(lines) if l.strip() == "endheader")
    names = lines[end + 1].split("\t")
    data = np.array([[float(v) for v in l.split("\t")] for l in lines[end + 2:] if l.strip()])
    return {n.strip(): data[:, i] for i, n in enumerate(names)}


@pytest.mark.skipif(not SHARED.exists(), reason="reference data folder ../shared not present")
def test_events_of_measured_trial():
    grf = _read_mot(SHARED / "subject01_walk_grf.mot")
    bw = 72.6 * 9.80665  # subject01, 72.6 kg (reference README)
    ev = analysis.gait_events(grf["time"], grf["ground_force_vy"], bw)
    # the reference README lists right heel strikes at 0.618 and 1.853 s and toe-off at 1.41 s
    # (20 N threshold); at 5 % BW (36 N) the onsets come a few ms later, the offset a few ms earlier
    assert any(abs(s - 0.618) < 0.02 for s in ev.strikes)
    assert any(abs(s - 1.853) < 0.02 for s in ev.strikes)
    assert any(abs(o - 1.41) < 0.02 for o in ev.offs)
    ev_l = analysis.gait_events(grf["time"], grf["1_ground_force_vy"], bw)
    rows = analysis.stride_table(ev, ev_l)
    assert len(rows) == 1
    assert rows[0]["stride_time"] == pytest.approx(1.235, abs=0.02)
    assert rows[0]["stance_pct"] == pytest.approx(64.1, abs=2.0)
    assert 8 < rows[0]["double_support_1_pct"] < 18 and 8 < rows[0]["double_support_2_pct"] < 18


def _synthetic(n_strides=6, T=1.1, stance=0.6, dt=0.001, speed=1.3):
    t = np.arange(0, n_strides * T, dt)
    phase_r = (t % T) / T
    phase_l = ((t + T / 2) % T) / T
    fy_r = np.where(phase_r < stance, 700.0 * np.sin(np.pi * phase_r / stance) + 50, 0.0)
    fy_l = np.where(phase_l < stance, 700.0 * np.sin(np.pi * phase_l / stance) + 50, 0.0)
    return t, speed * t, fy_r, fy_l


def test_spatiotemporal_of_synthetic_gait():
    t, x, fr, fl = _synthetic()
    out = analysis.spatiotemporal(t, x, fr, fl, body_weight=750.0)
    assert out["strides"] >= 4
    assert out["speed"] == pytest.approx(1.3, rel=1e-3)
    assert out["stride_time"] == pytest.approx(1.1, abs=2e-3)
    assert out["cadence"] == pytest.approx(120 / 1.1, rel=3e-3)
    assert out["stance_pct"] == pytest.approx(60.0, abs=0.5)
    assert out["double_support_pct"] == pytest.approx(10.0, abs=0.5)
    assert out["stride_time_cv_pct"] < 0.5


def test_debounce_removes_flicker():
    t = np.arange(0, 1, 0.001)
    fy = np.where((t > 0.2) & (t < 0.8), 500.0, 0.0)
    fy[(t > 0.5) & (t < 0.51)] = 0.0  # a 10 ms dropout inside stance
    ev = analysis.gait_events(t, fy, 700.0)
    assert ev.strikes.size == 1 and ev.offs.size == 1


def test_normalize_cycle_101_points():
    t = np.linspace(0, 2, 2001)
    sig = np.stack([np.sin(2 * np.pi * t), t], axis=1)
    c = analysis.normalize_cycle(t, sig, 0.5, 1.5)
    assert c.shape == (101, 2)
    np.testing.assert_allclose(c[:, 0], np.sin(2 * np.pi * np.linspace(0.5, 1.5, 101)), atol=1e-5)
    cyc = analysis.cycles(t, sig, [0.0, 1.0, 2.0])
    m, sd = analysis.mean_sd(cyc)
    assert cyc.shape == (2, 101, 2) and np.allclose(sd[:, 0], 0, atol=1e-5)


def test_bad_body_weight():
    with pytest.raises(ValueError, match="body_weight"):
        analysis.contact_mask([1.0], -1.0)


def test_onoff_agreement():
    from gaitsim.data.emg_onoff import ON_WINDOWS_PCT

    pct = analysis.PERCENT
    sol = ON_WINDOWS_PCT["soleus"]
    exact = np.where((pct >= 7) & (pct <= 51), 0.8, 0.05)
    assert analysis.onoff_agreement(exact, sol) == 1.0
    shifted = np.where((pct >= 17) & (pct <= 61), 0.8, 0.05)  # 10 % late on and off
    assert analysis.onoff_agreement(shifted, sol) == pytest.approx(1 - 20 / 101, abs=0.02)
    assert analysis.onoff_agreement(1 - exact, sol) == 0.0


def test_onoff_timing_finds_the_lag():
    pct = analysis.PERCENT
    es = [(0.0, 15.0), (50.0, 65.0)]  # two bursts a half cycle apart, as the erector spinae windows
    exact = np.where(analysis.onoff_mask(es, pct.size), 0.6, 0.02)
    assert analysis.onoff_timing(exact, es) == (0.0, 1.0)
    late = np.where(analysis.onoff_mask([(12.0, 27.0), (62.0, 77.0)], pct.size), 0.6, 0.02)  # 12 % late
    lag, agree = analysis.onoff_timing(late, es)
    assert lag == pytest.approx(12.0) and agree == pytest.approx(1.0, abs=0.02)
    assert analysis.onoff_agreement(late, es) < 0.8  # what the plain agreement sees
    wrapped = np.where(analysis.onoff_mask([(0.0, 5.0), (90.0, 100.0)], pct.size), 0.6, 0.02)  # around heel strike
    lag, _ = analysis.onoff_timing(wrapped, [(10.0, 25.0)])  # 15 % wide window 20 % later than (90, 105)
    assert lag == pytest.approx(-20.0)  # early
    sol = [(7.0, 51.0)]
    lag, agree = analysis.onoff_timing(np.full(pct.size, 0.3), sol)  # flat: never on, no shift helps
    assert lag == 0.0 and agree == pytest.approx(analysis.onoff_agreement(np.full(pct.size, 0.3), sol), abs=0.011)


def test_shipped_reference_stride_is_the_shared_one():
    from gaitsim.data.reference_gait import reference_stride

    ref = reference_stride()
    assert ref["pct_cycle"].shape == (101,) and ref["pct_cycle"][-1] == 100.0
    shared = SHARED / "subject01_right_stride_normalized.csv"
    if shared.exists():
        data = np.genfromtxt(shared, delimiter=",", names=True, skip_header=1)
        for name in ("hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg", "grf_vertical_BW"):
            np.testing.assert_array_equal(ref[name], data[name])


def test_angle_agreement_of_the_reference_itself_and_a_shifted_copy():
    from gaitsim.data.reference_gait import reference_stride

    ref = reference_stride()
    T = 1.2
    t = np.arange(0.0, 3 * T + 1e-9, 0.002)
    phase = 100.0 * (t % T) / T

    def coord(column, sign, shift=0.0):
        return sign * np.radians(np.interp((phase + shift) % 100.0, ref["pct_cycle"], ref[column], period=100.0))

    strikes = np.array([0.0, T, 2 * T, 3 * T])
    same = {j: coord(c, s) for j, (c, s) in analysis.REFERENCE_ANGLES.items()}
    out = analysis.angle_agreement(t, same, strikes)
    for j in ("hip", "knee", "ankle"):
        assert out[f"{j}_r"] > 0.999 and out[f"{j}_rmse_deg"] < 0.3
    assert out["knee_range_deg"] == pytest.approx(np.ptp(ref["knee_flexion_deg"]), abs=0.5)
    shifted = {j: coord(c, s, shift=25.0) for j, (c, s) in analysis.REFERENCE_ANGLES.items()}
    out = analysis.angle_agreement(t, shifted, strikes)
    assert out["knee_r"] < 0.5 and out["knee_rmse_deg"] > 10.0
    empty = analysis.angle_agreement(t, same, strikes[:1])
    assert np.isnan(empty["hip_r"])


def test_events_are_interpolated_between_samples():
    # a force ramp crossing 5 % of 700 N (35 N) between samples: the event lands at the crossing
    t = np.arange(0.0, 1.0, 0.01)
    fy = np.where(t < 0.5, 0.0, 100.0)
    fy[50] = 70.0  # at t = 0.50 s; the crossing of 35 N is halfway from 0.49 s
    fy[70:] = 0.0  # off: 100 N at 0.69 s to 0 at 0.70 s crosses 35 N at 0.6965 s
    ev = analysis.gait_events(t, fy, 700.0)
    assert ev.strikes == pytest.approx([0.495], abs=1e-12)
    assert ev.offs == pytest.approx([0.6965], abs=1e-12)
    # the same signal sampled ten times finer gives the same events to within the finer sample
    tf = np.arange(0.0, 1.0, 0.001)
    ev_f = analysis.gait_events(tf, np.interp(tf, t, fy), 700.0)
    assert ev_f.strikes == pytest.approx(ev.strikes, abs=1e-3)
    assert ev_f.offs == pytest.approx(ev.offs, abs=1e-3)


def test_angle_agreement_reports_a_constant_offset():
    from gaitsim.data.reference_gait import reference_stride

    ref = reference_stride()
    T = 1.2
    t = np.arange(0.0, 3 * T + 1e-9, 0.002)
    phase = 100.0 * (t % T) / T
    angles = {j: s * np.radians(np.interp(phase, ref["pct_cycle"], ref[c], period=100.0) + (10.0 if j == "hip" else 0.0))
              for j, (c, s) in analysis.REFERENCE_ANGLES.items()}
    out = analysis.angle_agreement(t, angles, np.array([0.0, T, 2 * T, 3 * T]))
    assert out["hip_offset_deg"] == pytest.approx(10.0, abs=0.3)  # +10 deg more flexed, clinical sign
    assert abs(out["knee_offset_deg"]) < 0.3 and out["hip_rmse_deg"] < 0.3  # the offset is removed from the RMSE


def test_loading_response_peaks_find_each_strike_transient():
    """Three stances of a 1.0-BW plateau, the second with a 1.8-BW spike 30 ms after its strike and
    the third with a spike late in stance (outside the first 20 %): peaks 1.0, 1.8, 1.0 BW;
    strikes before ``start`` and stances that end after ``until`` are left out."""
    bw = 700.0
    t = np.arange(0.0, 3.6, 0.001)
    cyc = t % 1.2
    fy = np.where(cyc < 0.7, bw, 0.0)
    fy = fy + np.where(np.abs(t - 1.23) < 0.005, 0.8 * bw, 0.0) + np.where(np.abs(t - 3.0) < 0.005, 0.8 * bw, 0.0)
    peaks = analysis.loading_response_peaks(t, fy, bw)
    np.testing.assert_allclose(peaks, [1.8, 1.0], atol=1e-9)  # the stance at t = 0 has no strike onset
    assert analysis.loading_response_peaks(t, fy, bw, start=2.0).tolist() == pytest.approx([1.0])
    assert analysis.loading_response_peaks(t, fy, bw, until=2.0).tolist() == pytest.approx([1.8])


def test_emg_agreements_of_the_normative_windows_themselves():
    from gaitsim.data.emg_onoff import ON_WINDOWS_PCT

    profiles = {stem: analysis.onoff_mask(w).astype(float) for stem, w in ON_WINDOWS_PCT.items()}
    assert all(v == 1.0 for v in analysis.emg_agreements(profiles).values())
    flipped = {stem: 1.0 - p for stem, p in profiles.items()}
    assert all(v == 0.0 for v in analysis.emg_agreements(flipped).values())
    assert set(analysis.EMG_MUSCLES) == set(ON_WINDOWS_PCT)
