"""Joining a Ray cluster, or starting one on this machine, with nothing leaving it.

Ray reports usage statistics to its makers unless told not to, and serves a dashboard on
every address unless told otherwise. Both are switched off here before Ray is imported, in
this process's environment, which the Ray processes `auto` starts inherit; a cluster started
by hand is started with the same switches (README, "Running on several machines").
"""

from __future__ import annotations

import os
import threading

NAMESPACE = "searchapp"
# Read by Ray when it is imported and by every process it starts.
QUIET = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}

_lock = threading.Lock()
_started_here = False


class ClusterUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def quiet_environment() -> None:
    os.environ.update(QUIET)


def connect(address: str, cpus: int | None = None):
    """Ray, joined to the cluster at `address` (`auto`: a cluster of this machine alone,
    started now and stopped with this process). Joining twice is joining once."""
    global _started_here
    quiet_environment()
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable(
            "--cluster needs Ray: pip install 'searchapp[cluster]'") from None
    with _lock:
        if ray.is_initialized():
            return ray
        common = dict(namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False,
                      configure_logging=True)
        try:
            if address == "auto":
                # "local": a new instance, never one another program started here.
                ray.init(address="local", include_dashboard=False,
                         num_cpus=cpus or os.cpu_count() or 1, **common)
                _started_here = True
            else:
                ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterUnavailable(f"the Ray cluster at {address} cannot be reached: {exc}") \
                from None
    return ray


def disconnect() -> None:
    """Leave the cluster (stopping it, if `connect` started it)."""
    global _started_here
    try:
        import ray
    except ImportError:
        return
    with _lock:
        if ray.is_initialized():
            ray.shutdown()
        _started_here = False
