"""Where does the load go? Every impairment preset at three severities, acute mode.

Acute mode: the shipped (healthy-tuned) controller walks the changed body, as on the day the body
changed; adapted mode (a controller re-tuned for the body) is a separate study. All walkers run as
one batch. For each preset the script prints the headline measures of ``gaitsim.measures`` beside
the healthy walker's, with the change in %, how each walker ended (a fall with its time and the
state it fell in), and for the calf contracture the check that it does not strengthen push-off
through a fibre-length artefact (ankle push-off and the soleus's operating range in stance).

    python examples/load_shift_acute.py                     # 20 s, severities 0.3 0.6 1.0
    python examples/load_shift_acute.py --duration 5 --markdown findings.md

Directions are outcomes of the simulation: nothing here, in the presets or in the physics is
tuned toward an expected shift.
"""

from __future__ import annotations

import argparse
import os
import time

from gaitsim.compare import Comparison
from gaitsim.measures import fall_causes, fiber_operating_range
from gaitsim.scenario import Scenario, run_batch

PRESETS = ("tight_psoas", "psoas_tone", "stiff_calves", "calf_reflex_loss", "weak_dorsiflexors")
#: measures the tables show: gait, the hip flexors, the spine and lumbar load, the ankle, the knee
#: and hip extensors (where the gait literature finds the compensation for lost push-off), energy
MEASURES = (
    "speed", "cadence", "stride_length", "stance_pct_r", "double_support_pct",
    "psoas_r_impulse_per_m", "iliacus_r_impulse_per_m", "rect_fem_r_impulse_per_m", "hip_flexion_moment_impulse_r",
    "hip_h3_work_r", "knee_flexion_peak_swing_r", "min_toe_clearance_r",
    "erector_spinae_impulse_per_m", "erector_spinae_mean_activation", "lumbar_extension_moment_peak",
    "lumbar_compression_peak_bw", "lumbar_compression_mean_bw", "lumbar_shear_peak_anterior_bw",
    "psoas_compression_share",
    "ankle_a2_peak_r", "plantarflexors_r_work_pos", "soleus_r_impulse_per_m",
    "vasti_r_impulse_per_m", "glut_max_r_impulse_per_m", "hamstrings_r_impulse_per_m",
    "cost_of_transport_with_basal",
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quick = os.environ.get("GAITSIM_QUICK") == "1"
    ap.add_argument("--duration", type=float, default=3.0 if quick else 20.0, help="s per walker (default 20)")
    ap.add_argument("--severities", type=float, nargs="+", default=[0.3, 0.6, 1.0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--controller", default="trunk_initiated", choices=["trunk_initiated", "geyer_herr"])
    ap.add_argument("--markdown", default=None, help="also write the tables to this markdown file")
    args = ap.parse_args(argv)

    healthy = Scenario.preset("healthy", controller=args.controller)
    scenarios = [healthy] + [Scenario.preset(p, s, name=f"{p}@{s:g}", controller=args.controller)
                             for p in args.presets for s in args.severities]
    started = time.perf_counter()
    results = run_batch(scenarios, duration=args.duration)
    wall = time.perf_counter() - started
    n_sev = len(args.severities)
    report = [f"# Acute load shift: {args.controller} walker, {args.duration:g} s per walker",
              f"{len(scenarios)} walkers in one batch, {wall:.0f} s wall time. Changes in % of the healthy walker; "
              f"measures per stride (mean over the strides after the first {healthy.skip:g} s and before any fall)."]
    for k, preset in enumerate(args.presets):
        group = [results[0]] + results[1 + k * n_sev: 1 + (k + 1) * n_sev]
        comparison = Comparison(group)
        report.append(f"\n## {preset}: {group[1].scenario.description}\n")
        report.append(comparison.table("markdown", names=MEASURES))
        for r in group[1:]:
            cause = fall_causes(r.results, r.model)[0]
            if cause:
                report.append(f"- {r.scenario.name}: {cause}")
    if "stiff_calves" in args.presets:
        k = args.presets.index("stiff_calves")
        group = [results[0]] + results[1 + k * n_sev: 1 + (k + 1) * n_sev]
        report.append("\n## Calf contracture: push-off and the soleus's working range (stance)\n")
        report.append("| walker | A2 peak (W/kg) | plantarflexor positive work (J) | soleus l/l_opt in stance |")
        report.append("|---|---|---|---|")
        for r in group:
            lo, hi = fiber_operating_range(r.results, r.model, "soleus_r", skip=r.scenario.skip)[0]
            m = r.measures
            report.append(f"| {r.scenario.name} | {m.value('ankle_a2_peak_r'):.3g} | "
                          f"{m.value('plantarflexors_r_work_pos'):.3g} | {lo:.2f}-{hi:.2f} |")
    text = "\n".join(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
