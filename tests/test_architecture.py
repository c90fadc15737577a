"""Layers import downward only: the import graph of ``gaitsim`` (every import statement, also those
inside functions) has no cycle, and no module imports one of a higher layer."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gaitsim"

#: the layers, lowest first; a module may import its own layer (without cycles) and lower ones
LAYERS = (
    ("vocabulary", {"version", "names", "params", "_fixed", "trig", "data", "data.emg_onoff",
                    "data.reference_gait"}),
    ("signals", {"analysis"}),  # gait events and cycle normalization of plain arrays
    ("body", {"anthropometry", "muscle_table", "skeleton", "muscles", "contact", "joint_limits"}),
    ("model", {"model"}),
    ("physics", {"state", "dynamics", "results", "compiled._numba", "compiled.records", "compiled.physics",
                 "compiled.contact_set", "compiled.fibers", "compiled.substeps", "compiled.update"}),
    ("controllers", {"control", "reflex_gains", "compiled.reflex", "compiled", "reflex", "profiles",
                     "walking_start"}),
    ("integrator", {"integrate"}),
    ("analysis", {"loads", "measures", "exam", "impairments", "tuned"}),
    ("studies", {"optimize", "adapt", "scenario", "compare", "sweep", "validate", "summary", "export"}),
    ("presentation", {"style", "animate", "plot"}),
    ("interface", {"cli", "__main__", ""}),  # "" is the package itself (gaitsim/__init__.py)
)
LAYER_OF = {m: k for k, (_, mods) in enumerate(LAYERS) for m in mods}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the gaitsim modules it imports (relative names, "" for the package)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".") if here else []
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                elif node.module and node.module.startswith("gaitsim"):
                    module = node.module[len("gaitsim."):] if node.module != "gaitsim" else ""
                else:
                    continue
                for alias in node.names:
                    sub = f"{module}.{alias.name}" if module else alias.name
                    targets.add(sub if sub in files else module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "gaitsim" or alias.name.startswith("gaitsim."):
                        targets.add(alias.name[len("gaitsim."):] if alias.name != "gaitsim" else "")
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def test_every_module_has_a_layer():
    missing = sorted(set(import_graph()) - set(LAYER_OF))
    assert not missing, f"modules without a layer in tests/test_architecture.py: {missing}"


def test_no_module_imports_a_higher_layer():
    graph = import_graph()
    upward = [f"{m} ({LAYERS[LAYER_OF[m]][0]}) imports {t} ({LAYERS[LAYER_OF[t]][0]})"
              for m, targets in graph.items() for t in targets if LAYER_OF[t] > LAYER_OF[m]]
    assert not upward, "\n".join(sorted(upward))


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):  # depth-first search; a grey node met again closes a cycle
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
