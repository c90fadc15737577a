"""Virtual clinical exams: each impairment's exam beside the healthy body's, and the inverse
(give the exam result, get the severity).

    python examples/clinical_exam.py
"""

import gaitsim as gs

print(gs.Scenario.preset("healthy").exam().table())
for name in ("stiff_calves", "tight_psoas", "weak_dorsiflexors"):
    print(f"\n{name} at severity 1:")
    print(gs.Scenario.preset(name, 1.0).exam().table())
patient = gs.Scenario().with_settings({"dorsiflexion_range_deg": 5.0, "thomas_hip_angle_deg": 0.0})
print("\nA patient with 5 deg of dorsiflexion (knee extended) and a hip that just reaches the table:",
      patient.impairments)
