"""Find the App a command line names as ``module:attribute``."""

from __future__ import annotations

import importlib
import os
import sys

from ._exceptions import UserError
from ._service import App


def load_app(target: str) -> App:
    """Import ``module:attribute`` (with the current directory importable) and return the App.

    Raises:
        UserError: the target is malformed, cannot be imported, or is not an agentdur App.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise UserError(f"expected MODULE:APP (like examples.chat:app), got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(f"cannot import {module_name!r}: {error}") from error
    app = getattr(module, attribute, None)
    if not isinstance(app, App):
        raise UserError(f"{target!r} is not an agentdur.App (found {type(app).__name__})")
    return app
