"""Serving the app on every core: a waitress server in each of several processes, forked from
one that binds the address, starts them again when one dies and stops them together.

Pure-Python search holds the interpreter's lock while it computes, so threads of one process
share one core; several processes each search on their own core, sharing the index files
through the operating system's page cache (segments are read in place), each opening
the index once per generation, on its first request.

Why waitress in our own processes, and not gunicorn: a gthread worker gives a connection a
thread once its first bytes arrive and reads the rest of the request there, so twenty
clients sending a header a byte at a time (slowloris) hold twenty threads and every other
search waits. waitress reads requests in its event loop and hands a thread only a request
that has fully arrived; web/server_patches.py adds what it lacks (a deadline for reading a
request, letting go of a client that stops reading a response, a 414 for an overlong
address), and our own headers on the errors it writes itself.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from dataclasses import dataclass

from .server_patches import waitress_server


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# Seconds a thread may hold the interpreter before another gets its turn (Python's default
# is 0.005): a light search beside heavy ones in the same process gets the core back sooner.
SWITCH_INTERVAL = 0.001
GRACE_S = 10.0  # a stopping server lets requests under way finish for this long
RESTART_PAUSE_S = 1.0  # a worker that keeps dying is started again at most this often


@dataclass(frozen=True)
class ClientLimits:
    """What one client may hold of a server process (settings.py says each one's why)."""

    slow_client_s: float
    request_line_bytes: int
    connections: int


def serve(app, host: str, port: int, workers: int, threads: int, limits: ClientLimits) -> None:
    """Serve `app` until interrupted, in `workers` processes of `threads` threads each."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    _raise_open_files(limits.connections + 256)
    if workers <= 1 or not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
        _stop_on_signals()
        _run_worker(app, _listen(host, port), threads, limits)
        return
    _listen(host, port).close()  # the address is free (a clear error here if it is not)
    Prefork(app, lambda: _listen(host, port, shared=True), workers, threads, limits).run()


def _listen(host: str, port: int, shared: bool = False) -> socket.socket:
    """A listening socket. `shared`: one of each worker's, all on one address, the kernel
    handing each new connection to one of them (Linux's SO_REUSEPORT). A socket the workers
    inherited instead wakes every idle one for each connection and the same one always takes
    it; and a socket of the supervising process would be handed connections it never takes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _run_worker(app, listener: socket.socket, threads: int, limits: ClientLimits) -> None:
    waitress_server(app, listener, threads, limits).run()  # returns on SystemExit or KeyboardInterrupt, threads shut down


class _Stop(Exception):
    """SIGTERM or SIGINT reached the process that supervises the workers."""


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM stop this process, even when a shell started it in the background
    (which sets SIGINT to be ignored, so Python never installs its KeyboardInterrupt)."""
    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


class Prefork:
    """The processes that serve: forked from this one, which only watches over them."""

    def __init__(self, app, listen, workers: int, threads: int, limits: ClientLimits):
        self.app, self.listen, self.threads, self.limits = app, listen, threads, limits
        self.count = workers
        self.children: dict[int, float] = {}  # pid -> when it started

    def run(self) -> None:
        def stop(signum, frame):
            raise _Stop()
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for _ in range(self.count):
                self._start()
            while True:  # only our own children: the watcher's are its supervisor's to reap
                time.sleep(0.2)
                for pid, started in list(self.children.items()):
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if not done:
                        continue
                    del self.children[pid]
                    print(f"a serving process ({pid}) ended ({_how(status)}); starting another",
                          file=sys.stderr, flush=True)
                    time.sleep(max(0.0, started + RESTART_PAUSE_S - time.monotonic()))
                    self._start()
        except (_Stop, ChildProcessError):
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop_all()

    def _start(self) -> None:
        parent = os.getpid()
        # A stop signal arriving mid-fork waits until the parent has recorded the worker (or
        # it would never be told to stop) and the worker has its own handlers.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        pid = os.fork()
        if pid:
            self.children[pid] = time.monotonic()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            return
        code = 0
        try:
            _stop_on_signals()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            _die_with(parent)
            _run_worker(self.app, self.listen(), self.threads, self.limits)
        except SystemExit:
            pass
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _stop_all(self) -> None:
        """SIGTERM to every worker, then SIGKILL to those still there after the grace."""
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self.children.pop(pid, None)
            time.sleep(0.05)
        for pid in self.children:
            _signal(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _die_with(parent: int) -> None:
    """The kernel ends this worker when the process that forked it dies, even by kill -9
    (Linux's PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        raise SystemExit(0)


def _raise_open_files(wanted: int) -> None:
    """Every connection a worker holds is a file descriptor: the soft limit up to `wanted`,
    as far as the hard limit allows."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
