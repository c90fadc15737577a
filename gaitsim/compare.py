"""Comparison of scenarios: every measure of ``gaitsim.measures.gait_measures`` side by side, with
its change from the first scenario (the reference): in % for magnitudes (forces, impulses, work,
speed), as a difference in degrees for angles and in percentage points (pp) for % of the gait
cycle, asymmetries and shares (``gaitsim.measures.change_unit``).

``compare(["healthy", "tight_psoas", Scenario(...)], duration=20)`` runs the scenarios (as one
batch when they share controller, step and duration) and returns a ``Comparison``: ``table()`` as
text, markdown or CSV, ``rows()`` as dicts, and the results for overlaid curves
(``gaitsim.plot``). A scenario whose walker fell is reported with its fall time; its measures
come from the strides it completed before the fall, and the table marks them.

Adapted mode (``mode="adapted"``) runs each scenario with the controller re-tuned for it by each
of ``seeds`` (``gaitsim.adapt``; at least 3 seeds). A measure's value is then the mean over the
seeds and its spread the range over them (the optimizer's noise floor); a change from the
reference no larger than the larger of the two spreads is marked "no change". Acute runs are
deterministic: their spread is 0.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from .scenario import Scenario, ScenarioResult, batch_groups, run_batch


def _as_scenario(item, severity: float | None) -> Scenario:
    if isinstance(item, Scenario):
        return item
    if isinstance(item, str):
        if item.endswith(".toml"):
            return Scenario.load(item)
        return Scenario.preset(item, severity)
    raise ValueError(f"compare: expected a Scenario, a preset name or a .toml path, got {type(item).__name__}")


def _run_all(scenarios: list[Scenario], duration: float | None, progress) -> list[ScenarioResult]:
    """One batch when the scenarios can share one (same controller, step, integrator ...), else
    one batch per group of compatible scenarios; results in the order given."""
    timed = [s if duration is None else s.replace(duration=duration) for s in scenarios]
    out: list = [None] * len(scenarios)
    for members in batch_groups(timed):
        for i, res in zip(members, run_batch([scenarios[i] for i in members], duration, progress=progress)):
            out[i] = res
    return out


@dataclass
class Comparison:
    """Scenario results side by side; the first is the reference of every change.

    results: one ``ScenarioResult`` per scenario (the first seed's in adapted mode: what plots
    overlay). replicates: per scenario, its results over seeds (adapted mode); None: one each."""

    results: list[ScenarioResult]
    replicates: list[list[ScenarioResult]] | None = None

    @property
    def names(self) -> list[str]:
        """The scenarios' names, made unique (a repeated name gets ``#2``, ``#3`` ...)."""
        out: list[str] = []
        for r in self.results:
            name, k = r.scenario.name, 2
            while name in out:
                name, k = f"{r.scenario.name}#{k}", k + 1
            out.append(name)
        return out

    def _groups(self) -> list[list[ScenarioResult]]:
        return self.replicates if self.replicates is not None else [[r] for r in self.results]

    def value(self, key: str, k: int) -> tuple[float, float]:
        """(mean over seeds, range over seeds) of measure ``key`` of scenario ``k`` (SI). Over seeds,
        only the walkers that walked count (a seed whose walker fell is kept out: NaN when none
        walked); a single result (acute mode) reports its strides before any fall, as its status
        says."""
        group = self._groups()[k]
        if len(group) > 1:
            group = [r for r in group if int(r.results.status[0]) == 0]
        values = [r.measures.value(key) for r in group]
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return math.nan, math.nan
        return sum(finite) / len(finite), max(finite) - min(finite)

    def rows(self, names="headline") -> list[dict]:
        """One dict per measure: ``measure``, ``unit``, then per scenario its mean over seeds
        (``<name>``, in the unit shown: degrees, %), its spread over seeds (``<name> spread``), its
        change from the reference (``<name> change``, in the row's ``change unit``: "%" relative,
        or "deg", "pp" ... as a difference; None where undefined) and ``<name> verdict``: "no
        change" when the change is within the larger spread, else "changed". ``names``:
        ``"headline"`` (``measures.HEADLINE``), ``"all"`` or a list of measure names."""
        from .measures import HEADLINE, change_unit, display_unit

        units = {k: u for group in self._groups() for r in group for k, u in r.measures.units.items()}
        keys = list(HEADLINE) if names == "headline" else (list(units) or list(HEADLINE)) if names == "all" \
            else list(names)
        unknown = [k for k in keys if k not in units and k not in HEADLINE]
        if unknown:
            raise ValueError(f"unknown measure(s) {unknown}; see gaitsim.measures (GaitMeasures.mean) for the names")
        rows = []
        for key in keys:
            factor, unit = display_unit(key, units.get(key, ""))
            shown = change_unit(key, units.get(key, ""))
            relative = shown == "%"
            row = {"measure": key, "unit": unit, "change unit": shown}
            base, base_spread = self.value(key, 0)
            for k, name in enumerate(self.names):
                value, spread = self.value(key, k)
                row[name] = value * factor
                row[f"{name} spread"] = spread * factor
                ok = math.isfinite(value) and math.isfinite(base) and (base != 0.0 or not relative)
                change = 100.0 * (value - base) / abs(base) if relative else (value - base) * factor
                row[f"{name} change"] = change if ok else None
                noise = max(spread, base_spread)
                row[f"{name} verdict"] = None if not ok else ("no change" if abs(value - base) <= noise else "changed")
            rows.append(row)
        return rows

    def status_line(self) -> str:
        """Per scenario: its status and the strides its measures average."""
        parts = []
        for name, r, group in zip(self.names, self.results, self._groups()):
            if len(group) > 1:
                walked = sum(int(g.results.status[0]) == 0 for g in group)
                parts.append(f"{name}: {walked} of {len(group)} seeds walked")
                continue
            parts.append(f"{name}: {r.status}, {int(r.measures.n_strides[0])} strides")
        return "; ".join(parts)

    def table(self, fmt: str = "text", names="headline") -> str:
        """The measures (``rows(names)``) with their value per scenario and change from the first,
        as ``"text"``, ``"markdown"`` or ``"csv"``."""
        if fmt not in ("text", "markdown", "csv"):
            raise ValueError(f"table format must be 'text', 'markdown' or 'csv', got {fmt!r}")
        rows = self.rows(names)
        names = self.names
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["measure"])
            writer.writeheader()
            writer.writerows(rows)
            return buf.getvalue()
        header = ["measure", "unit", names[0]] + [f"{n} (change)" for n in names[1:]]
        body = []
        for row in rows:
            cells = [row["measure"], row["unit"], _fmt(row[names[0]]) + _spread(row[f"{names[0]} spread"])]
            for n in names[1:]:
                change, verdict = row[f"{n} change"], row[f"{n} verdict"]
                text = "-" if change is None else ("no change" if verdict == "no change" and
                                                   row[f"{n} spread"] + row[f"{names[0]} spread"] > 0
                                                   else _change(change, row["change unit"]))
                cells.append(f"{_fmt(row[n])}{_spread(row[f'{n} spread'])} ({text})")
            body.append(cells)
        if fmt == "markdown":
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(c) + " |" for c in body]
            return "\n".join(lines) + f"\n\n{self.status_line()}\n"
        widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [header] + body]
        return "\n".join(lines) + f"\n{self.status_line()}\n"


def _change(change: float, unit: str) -> str:
    """A change as printed: "+12.3 %"; a difference with three significant digits, "+2.2 deg",
    "-0.0412 BW" (one decimal would print a small shear change as "-0.0 BW")."""
    return f"{change:+.1f} %" if unit == "%" else f"{change:+.3g} {unit}"


def _spread(value: float) -> str:
    """' +/- half the range' when there is a spread over seeds, else nothing."""
    return f" +/- {_fmt(value / 2)}" if value is not None and math.isfinite(value) and value > 0 else ""


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-2):
        return f"{value:.3g}"
    return f"{value:.4g}"


def compare(scenarios, duration: float | None = None, *, severity: float | None = None, mode: str = "acute",
            seeds=(1, 2, 3), progress=None) -> Comparison:
    """Run the scenarios (``Scenario`` objects, preset names or ``.toml`` paths; the first is the
    reference) and compare their measures. ``duration`` (s) replaces the scenarios' own;
    ``severity`` sets the presets named by string. ``mode="adapted"``: each scenario runs with the
    controller re-tuned for it by each seed (``gaitsim.adapt``; at least 3 seeds, module
    docstring)."""
    items = [_as_scenario(s, severity) for s in scenarios]
    if len(items) < 2:
        raise ValueError("compare: give at least two scenarios (the first is the reference)")
    if mode == "acute":
        return Comparison(_run_all([s.replace(mode="acute") for s in items], duration, progress))
    if mode != "adapted":
        raise ValueError(f"compare: mode must be 'acute' or 'adapted', got {mode!r}")
    seeds = tuple(seeds)
    if len(seeds) < 3:
        raise ValueError(f"compare: adapted mode needs at least 3 seeds for its noise floor, got {list(seeds)}")
    flat = [s.replace(mode="adapted", seed=int(k)) for s in items for k in seeds]
    done = _run_all(flat, duration, progress)
    groups = [done[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(items))]
    return Comparison([g[0] for g in groups], groups)


__all__ = ["Comparison", "compare"]
