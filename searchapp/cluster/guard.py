"""The Ray instance of `--cluster auto`, in a process that ends it when the server ends.

`connect("auto")` runs this as `python -m searchapp.cluster.guard CPUS [PARENT]`. It starts
Ray on this machine (`ray.init`: a new local instance, listening on 127.0.0.1 alone, since
`connect` set Ray's local-only switch in the environment it passes on), prints
`{"address": GCS}` as one line, and waits. It stops Ray when the server closes its end of
stdin, which the kernel does when the server ends however it ends, or when the kernel sends
it SIGTERM because its parent died (PR_SET_PDEATHSIG, for a PARENT that forked it from a
thread that lives as long as it does). Ray's own fate-sharing misses processes its raylet
starts (its agents outlived a `kill -9` of the server), so this process is their subreaper
(PR_SET_CHILD_SUBREAPER): whatever Ray leaves when it stops, or orphans, is a descendant of
this process. Stopping is Ray's own shutdown, then SIGTERM and at last SIGKILL to every
descendant left, until none is, then the guard exits.

A stop signal never raises: its handler does nothing, and the byte the interpreter writes to
the wakeup pipe ends the wait. A `kill -9` of the server closes stdin and sends SIGTERM at
the same instant; an exception raised by the second of the two, inside the cleanup the first
began, once cut the cleanup short and left Ray's agents running.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SHUTDOWN_WAIT = 10.0  # seconds for Ray to stop its processes before they are signalled
GRACE = 5.0  # seconds Ray's processes get to end on SIGTERM before they are killed
GIVE_UP = 10.0  # seconds more for SIGKILL to land (a process stuck in the kernel may not)
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def main(argv: list[str]) -> None:
    cpus, parent = int(argv[0]), int(argv[1]) if len(argv) > 1 else None
    wakeup = _on_stop_signals()
    try:
        if _tie_to(parent):
            # Its own process group: a Ctrl-C in the server's terminal stops the server, which
            # stops Ray through here, instead of reaching Ray's processes in the middle.
            os.setpgid(0, 0)
            address = _start_ray(cpus)
            _on_stop_signals(wakeup)  # Ray's core worker installs handlers of its own
            if not _signalled(wakeup):
                print(json.dumps({"address": address}), flush=True)
                _wait(wakeup)
    except Exception as exc:  # Ray would not start: the server says why
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        _on_stop_signals(wakeup)  # ray.init may have put its own (raising) handlers in place
        _stop_ray()
        end_descendants()
        os._exit(0)


def _ignore(signum, frame) -> None:
    """Nothing here: the wakeup pipe carries the signal to `_wait`."""


def _on_stop_signals(wakeup: int | None = None) -> int:
    """Stop signals handled without raising, each waking the pipe whose read end is returned."""
    if wakeup is None:
        wakeup, write = os.pipe()
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    for signum in STOPS:
        signal.signal(signum, _ignore)
    return wakeup


def _signalled(wakeup: int) -> bool:
    ready, _, _ = select.select([wakeup], [], [], 0)
    return bool(ready)


def _wait(wakeup: int) -> None:
    """Until the server closes stdin (or ends) or a stop signal arrives."""
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin, wakeup], [], [])
        if wakeup in ready or (stdin in ready and not os.read(stdin, 4096)):
            return


def _tie_to(parent: int | None) -> bool:
    """SIGTERM here when `parent` ends; orphans of Ray's processes adopted here, not by init.
    False when the parent has already ended."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the end of stdin alone stops Ray
        return True
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    if parent is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # it ended before the kernel was asked to tell us
            return False
    return True


def _start_ray(cpus: int) -> str:
    import ray

    from .connect import NAMESPACE
    # "local": a new instance, never one another program started here.
    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
             num_cpus=cpus, namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False,
             configure_logging=True)
    return ray.get_runtime_context().gcs_address


def _stop_ray() -> None:
    """Ray's own shutdown, in its own order (SIGTERM to all at once left the raylet and GCS
    waiting on each other for seconds); should it hang, the rest is killed all the same."""
    if "ray" not in sys.modules:
        return
    import ray

    def give_up() -> None:
        end_descendants()
        os._exit(0)
    watchdog = threading.Timer(SHUTDOWN_WAIT, give_up)
    watchdog.daemon = True
    watchdog.start()
    ray.shutdown()
    watchdog.cancel()


def end_descendants() -> None:
    """SIGTERM to every descendant, SIGKILL to those still there after GRACE, until none is
    left (a process whose parent is killed is adopted here, and killed in turn)."""
    started = time.monotonic()
    _signal(descendants(), signal.SIGTERM)
    while (left := descendants()) and time.monotonic() < started + GRACE + GIVE_UP:
        if time.monotonic() > started + GRACE:
            _signal(left, signal.SIGKILL)
        time.sleep(0.05)


def _signal(pids: set[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def descendants() -> set[int]:
    """The living descendants of this process, reaping those of its children that ended."""
    while True:  # as a subreaper, ours to reap: an adopted orphan that ends stays a zombie
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    parents, zombies = {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        parents[int(entry.name)] = int(ppid)
        if state == "Z":
            zombies.add(int(entry.name))
    found, grew = set(), {os.getpid()}
    while grew:
        grew = {pid for pid, ppid in parents.items() if ppid in grew} - found
        found |= grew
    return found - zombies


if __name__ == "__main__":
    main(sys.argv[1:])
