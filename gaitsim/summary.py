"""The summary of a run that the command line prints and writes to ``summary.json``.

Every gait and load figure comes from ``gaitsim.measures.gait_measures`` (the one place that
computes them); this module only picks the headline figures, converts them to the units people
read (m/s, steps/min, %, body weights) and says what they were averaged over. A walker that fell
gets gait figures from the strides it completed before the fall only, and the summary says so;
with fewer than two such strides it gets none.
"""

from __future__ import annotations

import math

import numpy as np

#: (measures key, summary key, factor from the SI value, printed label, printed unit)
GAIT_FIGURES = (
    ("speed", "speed_m_per_s", 1.0, "speed", "m/s"),
    ("cadence", "cadence_steps_per_min", 1.0, "cadence", "steps/min"),
    ("stride_length", "stride_length_m", 1.0, "stride length", "m"),
    ("stance_pct_r", "stance_pct", 1.0, "stance (right)", "% of stride"),
    ("double_support_pct", "double_support_pct", 1.0, "double support (each)", "% of stride"),
)
LOAD_FIGURES = (
    ("lumbar_compression_peak_bw", "lumbar_compression_peak_bw", 1.0, "lumbar compression, peak", "BW"),
    ("lumbar_compression_mean_bw", "lumbar_compression_mean_bw", 1.0, "lumbar compression, mean", "BW"),
    ("psoas_r_impulse_per_m", "psoas_r_impulse_N_s_per_m", 1.0, "psoas (right) force impulse", "N s per m walked"),
    ("erector_spinae_impulse_per_m", "erector_spinae_impulse_N_s_per_m", 1.0, "erector spinae force impulse",
     "N s per m walked"),
    ("ankle_a2_peak_r", "ankle_push_off_peak_W_per_kg", 1.0, "ankle push-off power A2 (right), peak", "W/kg"),
    ("cost_of_transport_with_basal", "cost_of_transport_J_per_kg_m", 1.0, "cost of transport (with basal)",
     "J/(kg m)"),
)
MIN_STRIDES = 2


def _value(x) -> float | None:
    x = float(x)
    return round(x, 4) if math.isfinite(x) else None


def run_summary(results, wall_time: float, walking: bool) -> dict:
    """The JSON-ready summary of a run: ``results`` is the list of ``ScenarioResult`` of its
    walkers (``gaitsim.scenario.run_batch``); ``walking`` adds the gait and load figures."""
    first = results[0]
    scenario, res = first.scenario, first.results
    summary = {
        "scenario": scenario.name,
        "walkers": len(results),
        "duration_s": scenario.duration,
        "simulated_s": round(res.t_end, 6),
        "interrupted": bool(res.interrupted),
        "dt_s": scenario.dt,
        "backend": scenario.backend,
        "integrator": {k: scenario.integrator[k] for k in ("fiber_iterations", "normal_contact", "mechanics_substeps",
                                                           "damping_theta")},
        "wall_time_s": round(wall_time, 3),
        "status": [r.results.status_text()[0] for r in results],
    }
    peak, final, pelvis = [], [], []
    for r in results:
        bw = float(r.model.body_weight[0])
        fy = r.results["grf"][0, :, :, 1].sum(axis=-1) / bw
        t = r.results.time
        settled = t >= min(r.scenario.skip, t[-1]) if t.size else t.astype(bool)
        alive = t < r.results.status_time[0] if r.results.status[0] != 0 else np.ones_like(t, dtype=bool)
        use = settled & alive
        peak.append(_value(fy[use].max()) if use.any() else None)
        late = alive & (t > t[alive][-1] - 0.25) if alive.any() else alive
        final.append(_value(fy[late].mean()) if late.any() else None)
        pelvis.append(_value(r.results.coordinate("pelvis_ty")[0, -1]))
    summary.update(peak_vertical_grf_bw=peak, final_vertical_grf_bw=final, final_pelvis_height_m=pelvis)
    if walking:
        summary["gait"], summary["loads"] = _figures(results, GAIT_FIGURES), _figures(results, LOAD_FIGURES)
    return summary


def _figures(results, table) -> dict:
    """Figures of ``table`` per walker (None where fewer than ``MIN_STRIDES`` strides count), with
    the strides they average and the note on falls."""
    out: dict = {"strides": [], "last_stride_end_s": [], "note": []}
    for _, key, *_ in table:
        out[key] = []
    for r in results:
        m = r.measures
        n = int(m.n_strides[0])
        out["strides"].append(n)
        ends = m.stride_end[0][:n] if n else []
        out["last_stride_end_s"].append(_value(ends[-1]) if n else None)
        fell = not math.isnan(float(m.fell_at[0]))
        note = f"mean of {n} strides after the first {r.scenario.skip:g} s"
        if fell:
            note = f"fell at {float(m.fell_at[0]):.3f} s: {note}, all completed before the fall"
        if n < MIN_STRIDES:
            note += f"; fewer than {MIN_STRIDES}: no figures"
        out["note"].append(note)
        for measure, key, factor, *_ in table:
            value = m.value(measure) * factor if n >= MIN_STRIDES else math.nan
            out[key].append(_value(value))
    return out


def print_summary(summary: dict) -> None:
    """The summary as lines with units, one figure per line (first walker's figures, all walkers'
    status)."""
    print(f"  status: {', '.join(summary['status'])}"
          + (f" (interrupted at t = {summary['simulated_s']:.3f} s)" if summary["interrupted"] else ""))
    print(f"  simulated {summary['simulated_s']:.3f} s of {summary['duration_s']:g} s in {summary['wall_time_s']:.1f} s "
          f"wall time")
    if summary["peak_vertical_grf_bw"][0] is not None:
        print(f"  peak vertical GRF: {summary['peak_vertical_grf_bw'][0]:.3f} BW; final vertical GRF: "
              f"{summary['final_vertical_grf_bw'][0]:.3f} BW; final pelvis height "
              f"{summary['final_pelvis_height_m'][0]:.3f} m")
    for block, table in (("gait", GAIT_FIGURES), ("loads", LOAD_FIGURES)):
        if block not in summary:
            continue
        figures = summary[block]
        print(f"  {block} (walker 0, {figures['note'][0]}):")
        for _, key, _, label, unit in table:
            value = figures[key][0]
            text = "-" if value is None else f"{value:.4g} {unit}"
            print(f"    {label}: {text}")


__all__ = ["GAIT_FIGURES", "LOAD_FIGURES", "print_summary", "run_summary"]
