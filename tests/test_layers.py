"""The layers import each other one way only, and no module imports itself through a loop.

Core API (``agentdur/_*.py``, ``agentdur/client.py``) <- engine (``agentdur/engine``) and Restate backend
(``agentdur/restate``) <- server (``agentdur/server``) <- CLI (``agentdur/_cli.py``). Imports made only
for type checking count too: a loop between modules is a loop for a reader as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agentdur

PACKAGE = Path(agentdur.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] in (("integrations",), ("patterns",)):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules or ({module} & MODULES.keys())
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & MODULES.keys()
    return found - {name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}
# Package facades re-export what their modules define; they are not part of any layer's logic.
FACADES = {
    "agentdur",
    "agentdur.engine",
    "agentdur.restate",
    "agentdur.server",
    "agentdur.testing",
    "agentdur.compat",
}


def _layer(name: str) -> str:
    for layer in ("engine", "restate", "server", "testing", "compat"):
        if name.startswith(f"agentdur.{layer}"):
            return layer
    return "cli" if name in ("agentdur._cli", "agentdur.__main__") else "core"


def test_no_import_loops() -> None:
    graph = {name: deps - FACADES for name, deps in GRAPH.items() if name not in FACADES}
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                loops.append([*trail[trail.index(dep) :], dep] if dep in trail else [name, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert loops == []


def test_layers_import_one_way() -> None:
    allowed = {
        "core": {"core"},
        "engine": {"core", "engine"},
        "restate": {"core", "restate"},
        "server": {"core", "engine", "server"},
        "testing": {"core", "testing", "engine", "server", "restate"},
        "compat": {"core", "restate", "compat"},
        "cli": {"core", "engine", "restate", "server", "testing", "cli"},
    }
    wrong = [
        f"{name} -> {dep}"
        for name, deps in GRAPH.items()
        if name not in FACADES
        for dep in deps
        if _layer(dep) not in allowed[_layer(name)] and dep not in ("agentdur",)
    ]
    assert wrong == []


def test_the_engine_draws_its_modules_in_its_docstring() -> None:
    import agentdur.engine

    doc = agentdur.engine.__doc__ or ""
    engine_modules = {name.rpartition(".")[2] for name in MODULES if name.startswith("agentdur.engine.")}
    assert engine_modules and all(module in doc for module in engine_modules), engine_modules


def test_integrations_import_only_public_names_and_the_kit() -> None:
    root = PACKAGE / "integrations"
    wrong = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] == "kit":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                module, names = "", [alias.name for alias in node.names]
            else:
                continue
            for full in [module] if module else names:
                private_core = full.startswith("agentdur.") and not full.startswith("agentdur.integrations")
                kit_internals = "kit._" in full
                if private_core or kit_internals:
                    wrong.append(f"{relative}: {full}")
    assert wrong == []
