"""Impairment knobs, each defined by the clinical exam it moves (``gaitsim.exam``).

Every knob has a severity in [0, 1]: 0 is the healthy model (no change), 1 is the impairment
whose exam value is ``Impairment.target_at_full``. Severities may be scalars or per-walker (B,)
arrays. ``impairment_changes`` turns severities into

* ``scale``: {``"muscle.<field>.<muscle>"``: (B,) factor} for ``build_model(scale=...)``;
* ``gain_factors``: {reflex gain name: (B,) factor} to multiply the controller's own gains
  (the scenario multiplies the tuned walker's gains by these);
* ``excitation_offset``: {muscle: (B,) offset} for ``control.ExcitationOffset``.

Knobs (``IMPAIRMENTS``); one-sided forms take the suffix ``_r`` or ``_l`` (``"calf_stiffness_l"``)
or ``impairment_changes(..., side="l")``:

``calf_stiffness``
    Plantarflexor contracture. Fewer sarcomeres in series: ``optimal_fiber_length`` of soleus and
    gastrocnemius times ``f(s) = F_LOPT ** s``; stiffer passive tissue: ``passive_stiffness`` times
    ``K_PASSIVE ** s`` (K_PASSIVE = 2: fibre bundles from contractured muscle are about twice as
    stiff, Smith LR et al. 2011 J Physiol 589:2625). The tendon slack length is never shortened:
    in this model a shorter soleus tendon makes push-off stronger (the soleus works on the
    ascending limb, 0.67-1.0 l_opt). Instead the tendon takes up the fibre length lost
    (contractured calves have shorter bellies and longer tendons: Wren TA et al. 2010 J Pediatr
    Orthop 30:479; Barber L et al. 2011 Dev Med Child Neurol 53:543): all of it for the soleus
    (its rest length, and its optimum angle, unchanged: it only gets a narrower working range, so
    its normalized fibre length at the neutral standing ankle *falls*, 0.88 -> 0.80 at s = 1, and
    its force cannot rise anywhere) and half of it for the gastrocnemius (``GASTROC_TENDON_SHARE``),
    whose rest length therefore shortens: with the knee extended the gastrocnemius is at or past
    optimum in standing (l~ 1.01 -> 1.15 at s = 1, f_L falls), and it is this shift that limits
    dorsiflexion with the knee extended. Result: an equinus that is mostly gastrocnemius
    (Silfverskiold-positive); plantarflexor strength in plantarflexed positions falls as a side
    effect of the shorter fibres. Target at s = 1: 0 deg dorsiflexion with the knee extended.
``psoas_shortening``
    Structural hip flexion contracture: ``optimal_fiber_length`` of psoas and iliacus times
    ``F_PSOAS ** s`` with the tendon unchanged, so the fibres' passive slack moves into flexion.
    Target at s = 1: Thomas test hip angle 15 deg of flexion.
``psoas_tone``
    Neural: raised resting excitation of psoas and iliacus, ``TONE_OFFSET * s`` added by
    ``control.ExcitationOffset``. Target at s = 1: the offset itself (a modelling choice); the
    Thomas test shows it when given ``excitation_offset``.
``calf_reflex_responsiveness``
    Calf stretch reflex removed: ``calf_stretch_gain`` and ``calf_stretch_velocity_gain`` times
    ``1 - s``. No exam moves (a controller gain). Both sides only (the gains are per walker).
    In the shipped trunk-initiated walker (5 s, numba) the soleus never reaches the length
    threshold ``l_off_CS = 1.0`` (late-stance maximum 0.81 l_opt); the gastrocnemius exceeds it in
    about 61-68 % of late stance but by at most 0.023 l_opt (mean length term 0.006); the
    lengthening-velocity term is on in about 26 % (soleus) and 37 % (gastrocnemius) of late
    stance, mean contribution 0.03 / 0.02 excitation, peak 0.54 / 0.23. The knob therefore acts
    almost only through the velocity term.
``weak_dorsiflexors``
    ``max_isometric_force`` of tibialis anterior times ``1 - s (1 - F_TA)``. Target at s = 1:
    peak isometric dorsiflexor moment 35 % of the healthy model's (our choice inside the
    30-40 % band of an MRC grade 3-4 dorsiflexor; MRC grade 3 = full range against gravity only,
    Medical Research Council 1976, Aids to the examination of the peripheral nervous system).

Calibration: the constants ``F_LOPT``, ``F_PSOAS`` and ``F_TA`` were found once by root finding
on the exams for the default 75 kg / 1.75 m body (``_calibrate`` reproduces them); a test checks
that severity 1 hits each target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .muscle_table import reference_lengths
from .names import SIDES

_DEG = np.pi / 180.0

# ----- knob constants (calibrated: see module docstring and ``_calibrate``) ------------------------
#: passive stiffness factor at s = 1 (Smith et al. 2011 J Physiol 589:2625: ~2x stiffer bundles)
K_PASSIVE = 2.0
#: share of the lost gastrocnemius fibre length taken up by its tendon (modelling choice, docstring)
GASTROC_TENDON_SHARE = 0.5
#: l_opt factor of soleus and gastrocnemius at s = 1: knee-extended dorsiflexion range 0 deg
F_LOPT = 0.6396
#: l_opt factor of psoas and iliacus at s = 1: Thomas hip angle +15 deg
F_PSOAS = 0.7699
#: tibialis anterior F_max factor at s = 1: peak dorsiflexor moment 35 % of healthy
F_TA = 0.3851
#: psoas/iliacus excitation offset at s = 1 (modelling choice, the low end of 0.1-0.2: ten times the
#: 0.01 resting floor; in the Thomas test it holds the thigh about 34 deg above the table)
TONE_OFFSET = 0.10
#: dorsiflexor strength fraction at s = 1 (see weak_dorsiflexors)
TA_TARGET_FRACTION = 0.35

# l_opt / l_slack of the default (GH) calf muscles, read from the muscle table (ratios are body-size free)
_FIBER_TO_TENDON = {m: reference_lengths(m)[0] / reference_lengths(m)[1] for m in ("soleus", "gastroc")}
_TENDON_SHARE = {"soleus": 1.0, "gastroc": GASTROC_TENDON_SHARE}


@dataclass(frozen=True)
class Impairment:
    """One knob. ``target_at_full``: (value, unit, source) of its exam at severity 1 (SI)."""

    name: str
    description: str
    exam: str | None
    target_at_full: tuple
    muscles: tuple[str, ...] = ()
    one_sided: bool = True


IMPAIRMENTS: dict[str, Impairment] = {
    "calf_stiffness": Impairment(
        "calf_stiffness", "plantarflexor contracture: shorter soleus/gastroc fibres, stiffer passive tissue",
        "exam.dorsiflexion_range (knee extended)",
        (0.0, "rad", "equinus: no dorsiflexion past neutral with the knee extended (stricter than the < 10 deg "
                     "definition reviewed by Gatt & Chockalingam 2011 J Am Podiatr Med Assoc 101:59)"),
        ("soleus", "gastroc")),
    "psoas_shortening": Impairment(
        "psoas_shortening", "structural hip flexion contracture: shorter psoas and iliacus fibres",
        "exam.thomas_test",
        (15.0 * _DEG, "rad", "positive Thomas test: thigh 15 deg above the table (a hip extension deficit as "
                             "defined by Vigotsky et al. 2016 PeerJ 4:e2325; 15 deg is our choice of a moderate one)"),
        ("psoas", "iliacus")),
    "psoas_tone": Impairment(
        "psoas_tone", "raised resting excitation of psoas and iliacus (neural, 'stuck in contraction')",
        "exam.thomas_test (with excitation_offset)",
        (TONE_OFFSET, "excitation", "modelling choice (no clinical scale of hip flexor tone in excitation units)"),
        ("psoas", "iliacus")),
    "calf_reflex_responsiveness": Impairment(
        "calf_reflex_responsiveness", "calf stretch reflex blunted: calf stretch gains times (1 - severity)",
        None, (0.0, "gain factor", "reflex removed at severity 1 (controller knob; no exam moves)"), (), False),
    "weak_dorsiflexors": Impairment(
        "weak_dorsiflexors", "weak tibialis anterior: lower max isometric force",
        "exam.ankle_strength (dorsiflexor peak)",
        (TA_TARGET_FRACTION, "fraction of healthy peak DF moment",
         "MRC grade 3-4 dorsiflexors (Medical Research Council 1976); 35 % is our choice in the 30-40 % band"),
        ("tib_ant",)),
}

REFLEX_GAINS = ("calf_stretch_gain", "calf_stretch_velocity_gain")


@dataclass(frozen=True)
class ImpairmentChanges:
    """What severities change (all values (B,) arrays). ``scale`` -> ``build_model(scale=)``;
    ``gain_factors`` multiply reflex gains; ``excitation_offset`` -> ``control.ExcitationOffset``."""

    batch_size: int
    scale: dict = field(default_factory=dict)
    gain_factors: dict = field(default_factory=dict)
    excitation_offset: dict = field(default_factory=dict)


def _parse_name(key: str, side: str) -> tuple[str, tuple[str, ...]]:
    """(knob, sides) from a knob key and the default side."""
    if not isinstance(key, str):
        raise ValueError(f"impairment names must be strings; allowed: {_allowed()}")
    for s in SIDES:
        if key.endswith(f"_{s}") and key[:-2] in IMPAIRMENTS:
            return key[:-2], (s,)
    if key not in IMPAIRMENTS:
        raise ValueError(f"unknown impairment {key!r}; allowed: {_allowed()}")
    return key, (SIDES if side == "both" else (side,))


def _allowed() -> str:
    return ", ".join(list(IMPAIRMENTS) + [f"{k}_{s}" for k, v in IMPAIRMENTS.items() if v.one_sided for s in SIDES])


def _severity(key: str, value, batch: int) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"severity of {key}: expected a number or a ({batch},) array in [0, 1]") from None
    if a.shape not in ((), (batch,)):
        raise ValueError(f"severity of {key}: expected a scalar or shape ({batch},), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0.0) or np.any(a > 1.0):
        raise ValueError(f"severity of {key}: values must lie in [0, 1], got {a}")
    return np.broadcast_to(a, (batch,)).astype(float)


def _multiply(d: dict, key: str, factor: np.ndarray) -> None:
    d[key] = d[key] * factor if key in d else factor


def impairment_changes(severities: Mapping[str, object], batch_size: int, side: str = "both") -> ImpairmentChanges:
    """Parameter factors, gain factors and excitation offsets of ``severities`` {knob: s}.

    Knob keys: ``IMPAIRMENTS`` names, or with ``_r``/``_l`` for one side. ``side``: "both"
    (default), "r" or "l" for keys without a suffix. s: scalar or (B,) in [0, 1]. Factors of
    several knobs on one parameter multiply. Raises ``ValueError`` on bad input before any work.
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if side not in ("both",) + SIDES:
        raise ValueError(f"side must be one of {('both',) + SIDES}, got {side!r}")
    if not isinstance(severities, Mapping):
        raise ValueError("severities must be a mapping {impairment name: severity}")
    parsed = []
    for key, value in severities.items():
        name, sides = _parse_name(key, side)
        if not IMPAIRMENTS[name].one_sided and sides != SIDES:
            raise ValueError(f"{key}: {name} acts on both sides only (controller gains); use side='both'")
        parsed.append((name, sides, _severity(key, value, batch_size)))
    scale, gains, offset = {}, {}, {}
    for name, sides, s in parsed:
        for sd in (sides if IMPAIRMENTS[name].one_sided else ("",)):
            _apply(name, sd, s, scale, gains, offset)
    return ImpairmentChanges(batch_size, scale, gains, offset)


def _apply(name: str, sd: str, s: np.ndarray, scale: dict, gains: dict, offset: dict) -> None:
    """Add one knob's changes on side ``sd`` for severities s (B,)."""
    if name == "calf_stiffness":
        f = F_LOPT ** s
        for m in ("soleus", "gastroc"):
            _multiply(scale, f"muscle.optimal_fiber_length.{m}_{sd}", f)
            # the tendon takes up a share of the fibre length lost (docstring); ratio is body-size free
            _multiply(scale, f"muscle.tendon_slack_length.{m}_{sd}", 1.0 + _TENDON_SHARE[m] * (1.0 - f)
                      * _FIBER_TO_TENDON[m])
            _multiply(scale, f"muscle.passive_stiffness.{m}_{sd}", K_PASSIVE ** s)
    elif name == "psoas_shortening":
        for m in ("psoas", "iliacus"):
            _multiply(scale, f"muscle.optimal_fiber_length.{m}_{sd}", F_PSOAS ** s)
    elif name == "psoas_tone":
        for m in ("psoas", "iliacus"):
            key = f"{m}_{sd}"
            offset[key] = offset.get(key, 0.0) + TONE_OFFSET * s
    elif name == "calf_reflex_responsiveness":
        for g in REFLEX_GAINS:
            _multiply(gains, g, 1.0 - s)
    elif name == "weak_dorsiflexors":
        _multiply(scale, f"muscle.max_isometric_force.tib_ant_{sd}", 1.0 - s * (1.0 - F_TA))


# ----- exams of impaired models ------------------------------------------------------------------
def exam_value(name: str, severity, model_kwargs: Mapping | None = None, side: str = "r") -> np.ndarray:
    """(B,) the exam value (SI) that measures knob ``name`` at severities (scalar or (B,)), for
    models built with ``model_kwargs`` (passed to ``build_model``), on ``side``."""
    from . import exam
    from .model import build_model

    imp = _knob(name)
    if imp.exam is None:
        raise ValueError(f"{name} moves no exam (a controller gain knob); allowed: "
                         f"{', '.join(k for k, v in IMPAIRMENTS.items() if v.exam)}")
    s = np.atleast_1d(np.asarray(severity, dtype=float))
    b = s.size
    ch = impairment_changes({name: s}, b)
    kw = dict(model_kwargs or {})
    scale = {**kw.pop("scale", {}), **ch.scale}
    model = build_model(b, scale=scale, **kw)
    if name == "calf_stiffness":
        return exam.dorsiflexion_range(model, side).range_extended
    if name in ("psoas_shortening", "psoas_tone"):
        return exam.thomas_test(model, side, excitation_offset=ch.excitation_offset).hip_angle
    healthy = exam.ankle_strength(build_model(1, **kw), side).dorsiflexor_peak
    return exam.ankle_strength(model, side).dorsiflexor_peak / healthy


def _knob(name: str) -> Impairment:
    if name not in IMPAIRMENTS:
        raise ValueError(f"unknown impairment {name!r}; allowed: {', '.join(IMPAIRMENTS)}")
    return IMPAIRMENTS[name]


def severity_for_exam(name: str, exam_value_target, model_kwargs: Mapping | None = None, n_grid: int = 201) -> float:
    """Severity in [0, 1] at which knob ``name``'s exam equals ``exam_value_target`` (SI: rad for
    ranges and hip angles, a fraction of healthy for ``weak_dorsiflexors``). The exam is evaluated
    at ``n_grid`` severities in one batch and the monotone curve is inverted by linear
    interpolation. ``ValueError`` if the value is outside what severities 0..1 give."""
    _knob(name)
    target = float(exam_value_target)
    s = np.linspace(0.0, 1.0, n_grid)
    v = exam_value(name, s, model_kwargs)
    lo, hi = np.nanmin(v), np.nanmax(v)
    if not (lo <= target <= hi):
        raise ValueError(f"{name}: exam value {target:g} is outside the range {lo:g}..{hi:g} that severities "
                         f"0..1 give")
    order = np.argsort(v)
    return float(np.clip(np.interp(target, v[order], s[order]), 0.0, 1.0))


def _calibrate() -> dict[str, float]:
    """Re-derive F_LOPT, F_PSOAS and F_TA by bisection on the exams (default body). Slow-ish
    (seconds); run by hand, not at import: ``python -c "import gaitsim.impairments as i; print(i._calibrate())"``."""
    from . import exam
    from .model import build_model

    def bisect(fun, lo, hi, iters=40):
        flo = fun(lo)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            if (fun(mid) > 0) == (flo > 0):
                lo, flo = mid, fun(mid)
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def calf(f):
        sc = {}
        for m in ("soleus", "gastroc"):
            sc[f"muscle.optimal_fiber_length.{m}_r"] = f
            sc[f"muscle.tendon_slack_length.{m}_r"] = 1 + _TENDON_SHARE[m] * (1 - f) * _FIBER_TO_TENDON[m]
            sc[f"muscle.passive_stiffness.{m}_r"] = K_PASSIVE
        return exam.dorsiflexion_range(build_model(1, scale=sc)).range_extended[0] - 0.0

    def psoas(f):
        sc = {f"muscle.optimal_fiber_length.{m}_r": f for m in ("psoas", "iliacus")}
        return exam.thomas_test(build_model(1, scale=sc)).hip_angle[0] - 15.0 * _DEG

    healthy = exam.ankle_strength(build_model(1)).dorsiflexor_peak[0]

    def ta(f):
        m = build_model(1, scale={"muscle.max_isometric_force.tib_ant_r": f})
        return exam.ankle_strength(m).dorsiflexor_peak[0] / healthy - TA_TARGET_FRACTION

    return {"F_LOPT": bisect(calf, 0.3, 1.0), "F_PSOAS": bisect(psoas, 0.5, 1.0), "F_TA": bisect(ta, 0.05, 1.0)}


__all__ = ["Impairment", "IMPAIRMENTS", "ImpairmentChanges", "impairment_changes", "severity_for_exam", "exam_value"]


def impaired_gains(changes: ImpairmentChanges, set_gains: Mapping[str, float], base_gains: Mapping[str, float],
                   defaults: Mapping[str, float]) -> dict[str, float]:
    """The reflex gains a body's impairments fix (walker 0 of ``changes``): the scenario's own gain
    overrides ``set_gains`` as given, and each gain an impairment scales at (the set gain, else the
    controller's ``base_gains`` value, else its default) times the impairment's factor."""
    out = {k: float(v) for k, v in set_gains.items()}
    for name, factor in changes.gain_factors.items():
        value = out.get(name, base_gains.get(name, defaults[name]))
        out[name] = float(value) * float(np.asarray(factor).reshape(-1)[0])
    return out

