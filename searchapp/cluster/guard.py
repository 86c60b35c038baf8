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
"""

from __future__ import annotations

import ctypes
import json
import os
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


class Stop(Exception):
    """A signal to stop arrived."""


def _stop(signum, frame):
    raise Stop


def main(argv: list[str]) -> None:
    cpus, parent = int(argv[0]), int(argv[1]) if len(argv) > 1 else None
    _on_stop_signals()
    try:
        _tie_to(parent)
        # Its own process group: a Ctrl-C in the server's terminal stops the server, which
        # stops Ray through here, instead of reaching Ray's processes in the middle.
        os.setpgid(0, 0)
        address = _start_ray(cpus)
        _on_stop_signals()  # Ray's core worker installs handlers of its own
        print(json.dumps({"address": address}), flush=True)
        sys.stdin.buffer.read()  # until the server closes it, or ends
    except Stop:
        pass
    except Exception as exc:  # Ray would not start: the server says why
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        for signum in STOPS:
            signal.signal(signum, signal.SIG_IGN)
        _stop_ray()
        end_descendants()
        os._exit(0)


def _on_stop_signals() -> None:
    for signum in STOPS:
        signal.signal(signum, _stop)


def _tie_to(parent: int | None) -> None:
    """SIGTERM here when `parent` ends; orphans of Ray's processes adopted here, not by init."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the end of stdin alone stops Ray
        return
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    if parent is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # it ended before the kernel was asked to tell us
            raise Stop


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
