"""Keeping `searchapp serve`'s watcher alive: a process of its own, restarted when it dies.

The watcher is `searchapp index --watch` run as a child process, not a fork of the server:
a process of its own may use process pools (a daemonic fork may not, which once killed the
watcher the first time a run touched two shards), starts with no server threads or locks
inherited, and is the very command a user can run alone. A thread of the server waits on
it; when it dies for any reason (kill -9 included) the thread says so in the watcher's
state, which the status page reads at once, and starts it again, waiting longer each time
it dies young. The child asks the kernel to stop it when the server's process ends
(`die_with_parent`), so kill -9 of the server leaves no watcher behind either.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from . import beacon, lifeline, store

PARENT = "SEARCHAPP_WATCH_PARENT"  # set for the child: the pid of the server it serves
YOUNG = 10.0  # seconds: a watcher that dies sooner is restarted after a longer pause
FIRST_PAUSE, LONGEST_PAUSE = 0.2, 30.0
STOP_WAIT = 10.0  # seconds a watcher is given to finish its run when the server stops


def refusal(root: Path, seeds: Path) -> str | None:
    """Why a server must not watch `seeds` for the index in `root`, or None: watching
    another folder than the one the index was built from would index it over this one,
    deleting what it lacks."""
    try:
        live = store.live(root)
    except store.IndexProblem:
        live = None
    built_from = store.seeds_of(live.build) if live is not None else None
    if built_from is not None and built_from != seeds.resolve():
        return (f"not watching {seeds}: the index was built from {built_from} "
                f"(serve with --seeds {built_from} to watch it)")
    if live is not None and built_from is None:
        return (f"not watching {seeds}: the index does not say which seeds folder it was "
                "built from (any `searchapp index --seeds DIR` run records it)")
    return None


def watch_command(seeds: Path, root: Path, config: Path | None) -> list[str]:
    """`searchapp index --watch` for these folders, as the child a Supervisor runs."""
    return [sys.executable, "-m", "searchapp", *(["--config", os.fspath(config)] if config else []),
            "index", "--watch", "--seeds", os.fspath(seeds.resolve()),
            "--index", os.fspath(root.resolve())]


class Supervisor:
    """Runs `command` (the watcher) until `stop`, starting it again whenever it ends."""

    def __init__(self, command: list[str], root: Path, say: Callable[[str], None]):
        self.command, self.root, self.say = command, Path(root), say
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._owner = os.getpid()  # forks of the server (its workers) must not stop it
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Supervisor":
        # PR_SET_PDEATHSIG fires when the thread that forked the child ends: this thread
        # lives as long as the server's process.
        self._thread = threading.Thread(target=self._keep, name="searchapp-watch-supervisor",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the watcher between runs (SIGTERM), or at once if it will not."""
        if os.getpid() != self._owner or self._stopping.is_set():
            return
        self._stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()

    def _keep(self) -> None:
        pause = FIRST_PAUSE
        env = {**os.environ, PARENT: str(os.getpid())}
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.process = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL)
            except OSError as exc:
                self._stopped(f"the watcher could not start ({exc.strerror or exc})")
            else:
                code = self.process.wait()
                if self._stopping.is_set():
                    return
                self._stopped(f"the watcher stopped ({_how(code)})")
            pause = pause * 2 if time.monotonic() - started < YOUNG else FIRST_PAUSE
            pause = min(pause, LONGEST_PAUSE)
            self.restarts += 1
            if self._stopping.wait(pause):
                return

    def _stopped(self, why: str) -> None:
        message = f"{why}; starting it again"
        self.say(message)
        beacon.note(self.root, pid=None, stopped=message, stopped_at=time.time())


def _how(code: int) -> str:
    """How a child ended, in words. A server that reaps every child (gunicorn's arbiter
    does) may take the status first: then only "it ended" is known."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    if code > 0:
        return f"it exited with status {code}; the server's log says why"
    return "it ended"


def die_with_parent() -> None:
    """In the watcher a Supervisor started: stop (SIGTERM, between runs) when the server's
    process ends, however it ends. Linux's PR_SET_PDEATHSIG; elsewhere nothing."""
    parent = os.environ.pop(PARENT, None)
    if parent is None or not lifeline.on_parent_death(signal.SIGTERM):
        return
    if str(os.getppid()) != parent:  # the server ended before the line above
        os.kill(os.getpid(), signal.SIGTERM)
