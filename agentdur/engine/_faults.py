"""What the runtime does when the store cannot write: stop the invocations concerned, pause them later.

An invocation one of whose writes failed must not go on: the entry it lost would leave a gap in its
journal, and what it does next would be recorded after that gap. So it is stopped at once (its waiting
callers are answered with the error) and marked ``paused`` with the reason as soon as the store can
write again. A restart before then resumes it by replay instead: the file holds an unbroken prefix of
its journal, because a failed write fails every write queued behind it too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from .._exceptions import StoreWriteError
from . import _ops
from . import _records as r
from ._host import RunnerView, RuntimeHost

log = logging.getLogger("agentdur.engine")


class WriteFaults:
    """The invocations one runtime stopped because of failed writes, and work to redo after recovery."""

    def __init__(self, runtime: RuntimeHost) -> None:
        self.runtime = runtime
        # Stopped invocations, with the reason they are paused with once the store can write again.
        self.stopped: dict[str, str] = {}
        # Work that failed only because the store could not write (timers that could not fire).
        self.redo: list[Callable[[], None]] = []

    def __contains__(self, inv_id: str) -> bool:
        return inv_id in self.stopped

    def stop(self, runner: RunnerView, error: BaseException) -> None:
        """A write of ``runner``'s invocation failed: stop it and answer its callers."""
        rt = self.runtime
        inv_id = runner.inv.id
        runner.suspending = True  # its task ends quietly
        runner.stop()
        if rt.runners.get(inv_id) is runner:
            del rt.runners[inv_id]
        if inv_id in self.stopped:
            return
        reason = f"stopped because a journal write failed: {error}"
        self.stopped[inv_id] = reason
        log.warning("invocation %s %s", inv_id, reason)
        for waiter in rt.attachers.pop(inv_id, []):
            if not waiter.done():
                waiter.set_exception(self.answer(inv_id))

    def answer(self, inv_id: str) -> StoreWriteError:
        """What a caller waiting for a stopped invocation is told."""
        reason = self.stopped.get(inv_id, "stopped because a journal write failed")
        return StoreWriteError(
            f"invocation {inv_id} {reason}; it is paused once the journal can be written again,"
            f" then 'agentdur resume {inv_id}' continues it"
        )

    def recovered(self) -> None:
        """The store can write again: pause the stopped invocations and redo what could not run."""
        if self.runtime.closing:
            return
        if self.stopped:
            self.runtime.spawn(self._pause_stopped())
        redo, self.redo = self.redo, []
        for callback in redo:
            callback()

    async def _pause_stopped(self) -> None:
        store = self.runtime.store
        for inv_id, reason in list(self.stopped.items()):
            del self.stopped[inv_id]  # from here on, ``resume`` may take it up again
            try:
                await store.write(
                    partial(
                        _ops.set_status, inv_id=inv_id, status=r.PAUSED, now=time.time(), last_error=reason
                    )
                )
            except StoreWriteError:
                self.stopped.setdefault(inv_id, reason)  # failed again: the next recovery pauses it
                continue
            log.warning("invocation %s paused: %s", inv_id, reason)
