"""One owner per database: an exclusive OS lock on a sidecar file next to the SQLite file.

The lock is ``flock(LOCK_EX | LOCK_NB)`` on ``<db>.lock``, held by an open file descriptor for the
engine's lifetime. The operating system drops it when the descriptor is closed or the process dies,
so an owner killed with SIGKILL never blocks the next start. ``flock`` locks belong to an open file
description, so a second engine in the same process is refused too. The file says who holds it
(pid, host, start time, command line) so that the refusal can name the owner.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from pathlib import Path

from .._exceptions import DatabaseLockedError

if sys.platform != "win32":
    import fcntl


def lock_path_of(db_path: str | os.PathLike[str]) -> Path:
    """The sidecar lock file of a database: ``x.db`` -> ``x.db.lock`` (symlinks resolved)."""
    return Path(os.path.realpath(db_path) + ".lock")


class DatabaseLock:
    """The exclusive lock of one database file, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.db_path = os.fspath(db_path)
        self.path = lock_path_of(db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and write who holds it.

        Raises:
            DatabaseLockedError: another engine (in this process or another one) holds it.
        """
        if self._fd is not None or sys.platform == "win32":
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseLockedError(self.db_path, describe_owner(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        owner = (
            f"pid {os.getpid()}\nhost {socket.gethostname()}\n"
            f"started {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n"
            f"command {_command_line(os.getpid()) or ' '.join(sys.argv)}\n"
        ).encode()
        # Write first, then cut: a reader never sees an empty file, at worst a stale tail.
        os.pwrite(fd, owner, 0)
        os.ftruncate(fd, len(owner))

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases it); the file stays for the next owner."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def check_unlocked(db_path: str | os.PathLike[str]) -> None:
    """Fail early when another process owns ``db_path`` (the engine's own start checks again).

    Raises:
        DatabaseLockedError: the database is owned by another engine.
    """
    if not lock_path_of(db_path).exists():
        return
    probe = DatabaseLock(db_path)
    probe.acquire()
    probe.release()


def describe_owner(lock_file: Path) -> str:
    """Who holds a lock, as written in its file: ``pid 123 on host h (started ...): command``."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in lock_file.read_text().splitlines():
            name, _, value = line.partition(" ")
            fields[name] = value
    pid = fields.get("pid", "")
    if not pid:
        return "another process"
    command = fields.get("command", "")
    if fields.get("host") == socket.gethostname() and pid.isdigit():
        command = _command_line(int(pid)) or command
    where = f" on host {fields['host']}" if fields.get("host") else ""
    since = f", started {fields['started']}" if fields.get("started") else ""
    return f"process {pid}{where}{since}" + (f": {command}" if command else "")


def _command_line(pid: int) -> str:
    """The command line of a local process from ``/proc`` ("" where it cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
