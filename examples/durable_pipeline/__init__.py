"""A model-free claim pipeline killed with SIGKILL in the middle of a step, then resumed from its journal.

Run it from the repository root: ``python -m examples.durable_pipeline``. The app itself is
``examples.durable_pipeline.app:app``.
"""
