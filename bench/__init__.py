"""Benchmark harness for agentdur (not installed, not a test).

Run from the repository root::

    python -m bench engine                 # embedded engine vs. the raw SQLite commit, ~30 s
    python -m bench engine --quick         # a few seconds; the figures are rough
    python -m bench engine --json out.json --synchronous NORMAL

Subcommands live in ``bench/__main__.py``; workloads in ``bench/engine.py``; the table and the JSON
in ``bench/_report.py``. A future ``compare`` subcommand adds live Restate and DBOS columns to the
same table (see :class:`bench._report.Column`).
"""
