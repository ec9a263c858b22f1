"""A claim-processing agent killed mid-run with SIGKILL, then resumed from its journal.

Run it from the repository root: ``python -m examples.durable_pipeline``. The app itself is
``examples.durable_pipeline.app:app``.
"""
