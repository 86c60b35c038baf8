"""Joining a Ray cluster, or starting one on this machine, with nothing leaving it.

Ray reports usage statistics to its makers unless told not to, and serves a dashboard on
every address unless told otherwise. Both are switched off here before Ray is imported, in
this process's environment, which the Ray processes `auto` starts inherit; a cluster started
by hand is started with the same switches (docs/cluster.md).

`auto` is a Ray instance of this machine alone, for as long as this process runs:
- **Loopback only.** Ray's gRPC servers (GCS, raylet and object manager, every worker's)
  listen on 127.0.0.1 when the node's address is 127.0.0.1 and on every interface
  otherwise, and Ray turns a node address of 127.0.0.1 into the machine's network address
  unless its local-only switch (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, the default on macOS
  and Windows) is set. It is set for this process, before Ray is imported, and for the
  instance, whose agents then listen on 127.0.0.1 too.
- **A key of its own.** Ray asks every caller for a token when `RAY_AUTH_MODE=token`; a new
  random one (`RAY_AUTH_TOKEN`, in the environment alone, never on disk) keeps other users
  of this machine out of its loopback ports as well.
- **Ended with this process.** The instance runs in a guard process (`guard.py`) that stops
  it, and kills whatever of it is left, when this process ends, `kill -9` included.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import threading

NAMESPACE = "searchapp"
# Read by Ray when it is imported and by every process it starts.
QUIET = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}
LOOPBACK = "127.0.0.1"
LOCAL_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # Ray's node address stays 127.0.0.1
START_TIMEOUT = 120.0  # seconds for `auto`'s Ray instance to start
STOP_TIMEOUT = 30.0  # seconds for it to stop (the guard's own bound is 15)

_lock = threading.Lock()
_guard: subprocess.Popen | None = None
_owner: int | None = None  # the process that started the guard (not a fork of it)


class ClusterUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def quiet_environment() -> None:
    os.environ.update(QUIET)


def connect(address: str, cpus: int | None = None):
    """Ray, joined to the cluster at `address` (`auto`: a cluster of this machine alone,
    started now and stopped with this process; call it from the main thread). Joining twice
    is joining once."""
    quiet_environment()
    with _lock:
        if address == "auto" and "ray" not in sys.modules:  # Ray reads them at import
            os.environ.update(LOCAL_ONLY, RAY_AUTH_MODE="token",
                              RAY_AUTH_TOKEN=secrets.token_hex(32))
        try:
            import ray
        except ImportError:
            raise ClusterUnavailable(
                "--cluster needs Ray: pip install 'searchapp[cluster]'") from None
        if ray.is_initialized():
            return ray
        common = dict(namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False,
                      configure_logging=True)
        try:
            if address == "auto":
                _join_here(ray, cpus or os.cpu_count() or 1, common)
            else:
                ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            _stop_guard()
            raise ClusterUnavailable(f"the Ray cluster at {address} cannot be reached: {exc}") \
                from None
    return ray


def _join_here(ray, cpus: int, common: dict) -> None:
    """Start `auto`'s instance in its guard and join it, as a node of 127.0.0.1."""
    if any(os.environ.get(name) != value for name, value in LOCAL_ONLY.items()) \
            or os.environ.get("RAY_AUTH_MODE") != "token":
        raise RuntimeError("Ray was imported before --cluster auto could set it to listen on "
                           "127.0.0.1 alone, with a key; not starting it")
    gcs = _start_guard(cpus)
    ray.init(address=gcs, _node_ip_address=LOOPBACK, **common)
    if ray.util.get_node_ip_address() != LOOPBACK:
        ray.shutdown()
        raise RuntimeError("Ray joined as a node of the network address, not 127.0.0.1")


def _start_guard(cpus: int) -> str:
    """The guard process, started; the address of the Ray instance it runs."""
    global _guard, _owner
    # PR_SET_PDEATHSIG fires when the forking thread ends: only the main thread's lasts as
    # long as the process (the end of the guard's stdin covers every thread, as a backstop).
    parent = [str(os.getpid())] if threading.current_thread() is threading.main_thread() \
        else []
    _guard = subprocess.Popen(
        [sys.executable, "-m", "searchapp.cluster.guard", str(cpus), *parent],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    _owner = os.getpid()
    ready, _, _ = select.select([_guard.stdout], [], [], START_TIMEOUT)
    line = _guard.stdout.readline() if ready else ""
    try:
        answer = json.loads(line)
    except ValueError:
        answer = {"error": f"it did not start in {START_TIMEOUT:.0f} s" if not ready
                  else "its guard process ended"}
    if "address" not in answer:
        raise RuntimeError(f"Ray could not start here ({answer.get('error')})")
    return answer["address"]


def _stop_guard() -> None:
    """Stop `auto`'s instance: the guard stops Ray when its stdin ends."""
    global _guard
    guard, _guard = _guard, None
    if guard is None or os.getpid() != _owner:
        return
    try:
        guard.stdin.close()
        guard.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait()
    except OSError:
        pass


def disconnect() -> None:
    """Leave the cluster (stopping it, if `connect` started it)."""
    if "ray" not in sys.modules:
        return
    import ray
    with _lock:
        if ray.is_initialized():
            ray.shutdown()
        _stop_guard()
