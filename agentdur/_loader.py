"""Find the App a command line names as ``module:attribute``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from ._exceptions import UserError
from ._service import App

# The module name a ``__main__.py`` of the current directory is loaded under (see below).
MAIN_FILE_MODULE = "__agentdur_app_main__"
_MISSING = object()


def load_app(target: str) -> App:
    """Import ``module:attribute`` (with the current directory importable) and return the App.

    ``__main__:app`` names the ``__main__.py`` of the current directory (a project run with
    ``python .``), not the running ``agentdur`` command's own ``__main__``. It is loaded under
    another module name, so its ``if __name__ == "__main__":`` block (which usually starts a
    server) does not run.

    Raises:
        UserError: the target is malformed, cannot be imported, or is not an agentdur App.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise UserError(f"expected MODULE:APP (like examples.chat:app), got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = _main_file() if module_name == "__main__" else importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(f"cannot import {module_name!r}: {error}") from error
    # One getattr: a module-level __getattr__ that imports a submodule of the same name (lazy
    # loading) answers correctly only the first time.
    app = getattr(module, attribute, _MISSING)
    if app is _MISSING:
        raise UserError(
            f"module {module_name!r} has no attribute {attribute!r}{_apps_hint(module, module_name)}"
        )
    if not isinstance(app, App):
        raise UserError(
            f"{target!r} is a {type(app).__name__}, not an agentdur.App{_apps_hint(module, module_name)}"
        )
    return app


def _apps_hint(module: ModuleType, module_name: str) -> str:
    """``; did you mean examples.chat:app?`` naming the Apps the module does have, if any."""
    found = sorted(name for name, value in vars(module).items() if isinstance(value, App))
    if not found:
        return " (it defines no agentdur.App)"
    return "; did you mean " + " or ".join(f"{module_name}:{name}" for name in found) + "?"


def _main_file() -> ModuleType:
    """The current directory's ``__main__.py``, imported as :data:`MAIN_FILE_MODULE`."""
    loaded = sys.modules.get(MAIN_FILE_MODULE)
    if loaded is not None:
        return loaded
    path = Path.cwd() / "__main__.py"
    if not path.is_file():
        raise UserError(f"'__main__:...' names {path}, which does not exist: run from the project's folder")
    spec = importlib.util.spec_from_file_location(MAIN_FILE_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MAIN_FILE_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[MAIN_FILE_MODULE]
        raise
    return module
