"""A full build's parsing and shard writing as Ray tasks spread over a cluster's nodes.

The indexer hands `RayPool.map` the same functions and jobs it hands its local processes
(ingest/reading.py `read_one`, index/writing.py `write_shard`); only where they run changes. Every
node must see the seeds and index folders at the same paths (shared storage): parsed
drafts travel back to the indexing process, which spills them as a local build does, and
each shard's task writes its shard folder in place. Ray is passed in by the caller (what
`connect` returns), so importing this module imports no Ray.

A task is never retried. Writing a shard is not idempotent (a half-written shard folder,
a spill file it deletes), and a crash that repeats is better reported than repeated: the
first task lost fails the build, the others are cancelled, nothing is swapped in.
"""

from __future__ import annotations

import os
import socket
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..index.store import IndexProblem

# What each function the indexer hands over does, for the run's report.
WHAT = {"read_one": "reading seed files", "write_shard": "writing shards"}
IN_FLIGHT_PER_CPU = 2  # chunks queued per CPU of the cluster: enough to keep each one busy
SETTLE_SECONDS = 10  # how long a failed build waits for its cancelled tasks to stop


class BuildFailed(IndexProblem):
    """A task of the build was lost (its worker or node died): the build is abandoned."""


class NotShared(RuntimeError):
    """A folder the build needs is not on a node: the cluster's storage is not shared."""


@dataclass
class Phase:
    """Where one `map` ran: tasks per node id."""

    what: str
    nodes: Counter = field(default_factory=Counter)

    def line(self) -> str:
        spread = ", ".join(f"{node[:8]} {count}" for node, count in sorted(self.nodes.items()))
        return (f"{self.what}: {sum(self.nodes.values())} tasks on {len(self.nodes)} "
                f"node(s) ({spread})")


class RayPool:
    """Runs a full build's two phases as Ray tasks, in the order of their jobs, as
    `Executor.map` does; `phases` says which nodes ran them."""

    def __init__(self, ray, shared: Iterable[Path] = (), cpus_per_task: float = 1.0):
        self._ray = ray
        self.shared = tuple(str(p) for p in shared)
        # Parsing and writing are CPU-bound Python: one task per core; SPREAD, so that a
        # build uses every node rather than filling the one the indexer runs on first.
        self._remote = ray.remote(_run_chunk)
        self._options = dict(num_cpus=cpus_per_task, max_retries=0, scheduling_strategy="SPREAD")
        self.phases: list[Phase] = []

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], chunksize: int = 1
            ) -> Iterator[Any]:
        """fn(job) for every job, `chunksize` jobs to a task, results in job order. A few
        chunks per CPU are in flight at once, so a million files are neither a million
        tasks nor a million results waiting in the object store."""
        ray = self._ray
        name = getattr(fn, "__name__", type(fn).__name__)
        phase = Phase(WHAT.get(name, name))
        self.phases.append(phase)
        window = max(1, int(ray.cluster_resources().get("CPU", 1) * IN_FLIGHT_PER_CPU))
        # Named, so that `ray list tasks`, the dashboard and `ps` say what a task is doing.
        task = self._remote.options(name=f"searchapp: {phase.what}", **self._options)
        pending: deque = deque()
        try:
            for chunk in _chunks(jobs, max(1, chunksize)):
                pending.append(task.remote(fn, chunk, self.shared))
                if len(pending) >= window:
                    yield from self._take(pending.popleft(), phase)
            while pending:
                yield from self._take(pending.popleft(), phase)
        finally:
            if pending:  # failed, or the caller stopped reading: stop the rest
                self._cancel(list(pending))

    def _take(self, ref, phase: Phase) -> list[Any]:
        ray = self._ray
        try:
            node, results = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            # The function's own error, raised as it was raised in the task: the indexer
            # reads an OSError's strerror and filename, which Ray's wrapper lacks.
            cause = getattr(exc, "cause", None)
            if isinstance(cause, NotShared):
                raise IndexProblem(str(cause)) from None
            if isinstance(cause, BaseException):
                raise cause from exc
            raise
        except ray.exceptions.RayError as exc:
            raise BuildFailed(
                f"the full build on the Ray cluster failed while {phase.what}: "
                f"{type(exc).__name__}: {_first_line(exc)}; nothing was swapped in, the "
                "index as it was before this run is untouched and still served") from None
        phase.nodes[node] += 1
        return results

    def _cancel(self, refs: list) -> None:
        ray = self._ray
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # finished meanwhile, or its node is gone
                pass
        # The build folder they write into is garbage the next run removes: let them stop
        # first, so that removal does not race a shard still being written.
        try:
            ray.wait(refs, num_returns=len(refs), timeout=SETTLE_SECONDS)
        except Exception:  # the cluster itself is gone: nothing is left to wait for
            pass


def _run_chunk(fn: Callable[[Any], Any], jobs: list[Any], shared: tuple[str, ...]
               ) -> tuple[str, list[Any]]:
    """One task: fn over a chunk of jobs on whatever node Ray chose; returns that node's
    id with the results. A folder missing here would read as every file gone, or fail
    on a spill file: it is refused by name instead."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    for path in shared:
        if not os.path.isdir(path):
            raise NotShared(
                f"{path} is not there on cluster node {node[:8]} ({socket.gethostname()}): "
                "--cluster needs the seeds and index folders on storage every node shares, "
                "at the same path")
    return node, [fn(job) for job in jobs]


def _chunks(jobs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"
