"""The wheel ships every module, integrations/patterns only under agentdur, and type checkers see them.

The wheel is built from a copy of the checkout (so the build writes nothing into it), installed into a
fresh venv, and imported from a temporary directory, so nothing can come from the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a build needs from the checkout; agentdur/integrations and agentdur/patterns are symlinks.
BUILD_INPUTS = ["pyproject.toml", "README.md", "LICENSE", "agentdur", "integrations", "patterns"]
PUBLIC = [
    "agentdur",
    "agentdur.engine",
    "agentdur.server",
    "agentdur.client",
    "agentdur.testing",
    "agentdur.testing.model_server",
    "agentdur.restate",
    "agentdur.integrations",
    "agentdur.patterns",
]


def source_modules() -> set[str]:
    """Every module of the package as the checkout has it, following the two symlinks."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(ROOT / "agentdur", followlinks=True):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        relative = Path(dirpath).relative_to(ROOT)
        found |= {
            ".".join([*relative.parts, name.removesuffix(".py")])
            for name in filenames
            if name.endswith(".py")
        }
    return found


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
        out,
    )
    (built,) = out.glob("agentdur-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this test's environment."""
    root = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(root)], root)
    python = root / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        root,
    )
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root).strip()
    )
    # A plain path line: the dependencies become importable, but this environment's own .pth files
    # (the editable install of the checkout) are not run, so agentdur can only come from the wheel.
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return root


def test_wheel_ships_every_module_under_agentdur_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.removesuffix(".py").replace("/", ".") for n in names if n.endswith(".py")}
    assert shipped == source_modules()
    tops = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert tops == {"agentdur"}, f"unexpected top-level entries in the wheel: {sorted(tops - {'agentdur'})}"
    assert "agentdur/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "the wheel lost the LICENSE file"
    for asset in ("index.html", "console.js", "console.css"):  # the web console needs no build step
        assert f"agentdur/server/console/{asset}" in names


def test_every_module_imports_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    modules = sorted(m.removesuffix(".__init__") for m in source_modules() if not m.endswith("__main__"))
    assert set(PUBLIC) <= set(modules)
    script = (
        "import importlib, importlib.util, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import agentdur\n"
        "print(agentdur.__file__)\n"
        "print(importlib.util.find_spec('integrations'), importlib.util.find_spec('patterns'))\n"
    )
    out = run([str(venv / "bin" / "python"), "-c", script], tmp_path, clean_env()).splitlines()
    assert Path(out[0]).resolve().is_relative_to(venv.resolve()), out[0]
    assert out[1] == "None None", "a top-level integrations or patterns package is importable"


@pytest.mark.parametrize("install", ["wheel", "editable"])
def test_type_checkers_resolve_integrations_and_patterns(install: str, venv: Path, tmp_path: Path) -> None:
    """mypy, run outside the checkout, finds the modules under their real names in both installs."""
    python = venv / "bin" / "python" if install == "wheel" else Path(sys.executable)
    program = "import agentdur.integrations.litellm\nimport agentdur.patterns.approval\n"
    args = [sys.executable, "-m", "mypy", "--python-executable", str(python), "--no-incremental"]
    args += ["--follow-imports=skip", "-c", program]
    run(args, tmp_path, clean_env())
