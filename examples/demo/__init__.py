"""The Quickstart demo (``python -m examples.demo``): a claim agent survives SIGKILL; chat sessions per user.

Its app, ``examples.demo.app:app``, serves the claim pipeline and the chat sessions together.
``python -m examples.demo --workdir DIR`` keeps what a run leaves in ``DIR`` (named below), so that
what the demo claims can be checked from the files rather than from its own output.
"""

DB_FILE = "demo.db"  # the SQLite file both server processes run on
LEDGER_FILE = "payments.ledger"  # one line per payment really made
REQUEST_LOG_FILE = "model-requests.jsonl"  # every request the scripted model server received
SERVER_LOG_FILE = "server-{start}.log"  # the output of the first (1) and the restarted (2) server
