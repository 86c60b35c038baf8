"""Processes that end when the process they serve ends, however it ends (kill -9 included).

Linux's PR_SET_PDEATHSIG, through libc's prctl: the kernel sends a signal to a process when
the thread that forked it ends. Elsewhere there is no such call, and these do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

PR_SET_PDEATHSIG = 1
_FORK_HOOKED = False


def _prctl():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


def on_parent_death(signum: int) -> bool:
    """Have the kernel send `signum` to this process when its parent ends; False where it
    cannot (then the caller checks the parent itself)."""
    prctl = _prctl()
    if prctl is None:
        return False
    prctl(PR_SET_PDEATHSIG, signum)
    return True


def forks_die_with_parent() -> None:
    """Make the processes this one forks from now on (parsers, Whoosh's writers) end when it
    does: without it, a `kill -9` of the indexer leaves its workers waiting forever on a
    queue nobody will write to again. The signal fires when the forking thread ends; the
    pools of the indexer fork from the caller's thread."""
    global _FORK_HOOKED
    if _FORK_HOOKED:
        return
    prctl = _prctl()
    if prctl is None:
        return
    forking = {"parent": 0}

    def before() -> None:
        forking["parent"] = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != forking["parent"]:  # the parent died before the line above ran
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=in_child)
    _FORK_HOOKED = True
