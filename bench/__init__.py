"""Benchmark harness for agentdur (not installed, not a test).

Run from the repository root::

    python -m bench engine                 # embedded engine vs. the raw SQLite commit, ~30 s
    python -m bench engine --quick         # a few seconds; the figures are rough
    python -m bench engine --json out.json --synchronous NORMAL
    python -m bench compare                # agentdur embedded / on Restate, restate-sdk, DBOS, raw SQLite, ~2-3 min
    python -m bench compare --quick --json out.json
    python -m bench agents                 # an ADK agent: plain, agentdur, dbos-google-adk, restate.ext.adk
    python -m bench agents --runs 2 --json out.json

Subcommands live in ``bench/__main__.py``. ``engine``: workloads in ``bench/engine.py``, table and JSON
in ``bench/_report.py``. ``compare``: the run in ``bench/compare.py`` (reusing the workloads and raw
commit sampling of ``engine.py``), its systems in ``_chat.py`` (the chat object), ``_restate.py`` and
``_deployment.py`` (restate-server and the two deployments), ``_plain_restate.py`` (the hand-written
restate-sdk baseline) and ``_dbos.py`` (needs ``pip install -e ".[bench]"``); its table and JSON in
``bench/_compare_report.py``. ``agents``: ``bench/agents.py`` (the agents, agentdur's app, the run, table
and JSON), ``_dbos_adk.py`` (dbos-google-adk, bench extra) and ``_restate_adk.py`` (restate-sdk's
``restate.ext.adk``, served by ``_deployment.py``).
"""
