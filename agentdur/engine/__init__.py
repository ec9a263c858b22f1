"""The embedded engine: durable execution on a SQLite file, in this process, zero infrastructure.

Its modules, each importing only the ones below it (``tests/test_layers.py`` holds it to that)::

    _engine      Engine: the public facade (start, call, send, attach, resolve, operate, inspect)
      _poison    at start: pause an invocation that was running at several crashes in a row
      _retention removing expired completed invocations (background sweep, purge), reclaiming space
      _recovery  reopening a file: restart unfinished invocations, re-arm timers, rebuild key queues
      _watch     while running: the file's identity (removed, replaced), who blocks the event loop
      _runtime   Runtime: invocations in memory, per-key queues, timers, completions, outcomes
        _faults    what a failed write does to the invocations concerned
        _workflows  workflow runs by key, EmbeddedWorkflowContext, durable promises, retention sweeps
          _promises    the promise writes: resolve/reject once, wake the entries waiting for it
        _context   EmbeddedContext: each context operation as a journal entry
          _requests  calls, sends, awakeable completions, cancellation: caller entry + target, one commit
            _runner    InvocationRunner: one attempt of a handler, replay by (task path, seq), waits
              _replay_order  a replay answers awaits in the order they completed the first time
              _host      the contract: RuntimeHost (the runtime as runners see it), RunnerView (the reverse)
                _futures   EmbeddedFuture: a journal entry's result
                _store     the SQLite file: schema, one group-committing writer thread, reads
                _ops       the write operations, run inside the writer's transaction
                  _lists     list state: item rows, version references, the handler's own changes
                  _workflow_runs  one run per workflow key; purging runs past their retention
                _lock      one owner per database file (an OS lock)
                _ledger    the usage ledger: model calls spent and saved by replay, and their totals
                _records   statuses, entries, outcomes and their public views

The runner never imports the runtime: it calls it through :class:`~agentdur.engine._host.RuntimeHost`,
which the runtime implements.
"""

from ._engine import Engine
from ._records import ErrorDetail, Failure, InvocationInfo, JournalEntry, PendingAwakeable

__all__ = ["Engine", "ErrorDetail", "Failure", "InvocationInfo", "JournalEntry", "PendingAwakeable"]
