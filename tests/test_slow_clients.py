"""No client can stall the site: `searchapp serve` as `make run` starts it (two processes),
over the real news records, while clients send a header a byte at a time, ask for exports
and batches they never read, or send an address of megabytes; a light search sent meanwhile
is answered, and what held on is let go. `--slow` runs each with more clients and rounds;
the default run keeps one of each kind. Tallies go to test-output/hardening.txt."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import free_port, record, wait_for

BIN = Path(sys.executable).parent
SLOW_CLIENT_S = 2  # the server's setting here: how long a slow client is waited for
LIGHT = "/api/search?" + urlencode({"q": "oil prices"})


class Served:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc, self.port = proc, port
        self.base = f"http://127.0.0.1:{port}"

    def connect(self, rcvbuf: int | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # a client that reads nothing fills a small window at once
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect(("127.0.0.1", self.port))
        return sock


def serve(index: Path, seeds: Path, *extra: str, env: dict | None = None,
          **popen) -> Served:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "searchapp"), "serve", "--index", str(index), "--seeds", str(seeds),
         "--port", str(port), "--no-watch", "--threads", "4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SEARCHAPP_SLOW_CLIENT_S": str(SLOW_CLIENT_S),
             "SEARCHAPP_STREAMS": "2", **(env or {})}, **popen)
    served = Served(proc, port)
    wait_for(lambda: proc.poll() is not None or urllib.request.urlopen(
        served.base + "/healthz", timeout=2).read(), "the server to answer", ignore=(OSError,))
    assert proc.poll() is None, proc.stderr.read()
    return served


@pytest.fixture(scope="module")
def served(news_index):
    seeds, index = news_index
    served = serve(index, seeds, "--workers", "2")
    yield served
    served.proc.terminate()
    served.proc.wait(timeout=30)


def light_searches(served: Served, seconds: float) -> tuple[list[float], list[str]]:
    """Light searches one after another for `seconds`: their times (ms) and their failures.
    A search that takes 10 s is a failure: a user has given up by then."""
    times, failures = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(served.base + LIGHT, timeout=10) as response:
                assert json.loads(response.read())["total"] > 0
            times.append((time.perf_counter() - began) * 1000)
        except (OSError, urllib.error.URLError) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
    return times, failures


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[int(len(ordered) * 0.95)] if ordered else float("nan")


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` seconds (what it sent is drained)."""
    sock.settimeout(0.5)
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            if sock.recv(1 << 20) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def test_clients_sending_a_header_a_byte_at_a_time_hold_up_no_one(served, slow):
    clients = 60 if slow else 20
    socks = []
    for _ in range(clients):
        sock = served.connect()
        sock.sendall(b"GET /search?q=court HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    dripping = threading.Event()

    def drip():  # a header line every half second, for ever
        while not dripping.wait(0.5):
            for sock in socks:
                try:
                    sock.send(b"X: y\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        times, failures = light_searches(served, 4 if not slow else 10)
        assert failures == [] and times, failures
        # Nor are they kept: a request must arrive whole within the server's patience.
        let_go = sum(closed_by_server(s, SLOW_CLIENT_S * 4) for s in socks)
        assert let_go == clients
    finally:
        dripping.set()
        for sock in socks:
            sock.close()
    record(f"slow clients: {clients} sending headers a byte at a time: {len(times)} light "
           f"searches, 0 failed, p95 {p95(times):.0f} ms; all {clients} let go")


def test_clients_that_never_read_an_export_hold_up_no_one(served, slow):
    clients = 40 if slow else 20
    socks = []
    for _ in range(clients):
        sock = served.connect(rcvbuf=4096)
        sock.sendall(b"GET /export.csv?q=said HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sock)
    try:
        times, failures = light_searches(served, 4 if not slow else 10)
        assert failures == [] and times, failures
        # Each was refused at once (too many streams: 503, with when to try again) or let
        # go once it stopped reading: the server closes every one.
        answers = []
        for sock in socks:
            assert closed_by_server(sock, SLOW_CLIENT_S * 6)
        for sock in socks:
            sock.close()
        socks = []
        # And the places they held are free again: a whole export, as many rows as the
        # count of the search.
        total = json.loads(urllib.request.urlopen(
            served.base + "/api/search?q=said", timeout=30).read())["total"]
        with urllib.request.urlopen(served.base + "/export.jsonl?q=said", timeout=120) as r:
            answers = r.read().decode("utf-8").splitlines()
        assert len(answers) == total > 10_000
    finally:
        for sock in socks:
            sock.close()
    record(f"slow clients: {clients} never reading an export of 'said': {len(times)} light "
           f"searches, 0 failed, p95 {p95(times):.0f} ms; all let go, a full export after")


def test_streams_past_the_limit_are_refused_at_once_with_a_time_to_retry(served):
    socks = [served.connect(rcvbuf=4096) for _ in range(12)]
    try:
        for sock in socks:
            sock.sendall(b"GET /export.csv?q=said HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(served.base + "/api/batch?" + urlencode(
                {"queries": "oil\ncourt", "format": "csv"}), timeout=20)
        assert refused.value.code == 503
        assert refused.value.headers["Retry-After"]
        assert "Try again" in refused.value.read().decode("utf-8")
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.skipif("not config.getoption('--slow')", reason="--slow: the batch series")
def test_batches_nobody_reads_do_not_keep_other_batches_out(served):
    queries = "\n".join(f"{w} {v}" for w in ("oil", "court", "trade", "iran", "police")
                        for v in ("prices", "ruling", "deal", "talks", "report", "vote"))
    body = urlencode({"queries": queries, "format": "csv"}).encode()
    socks = []
    for _ in range(2):
        sock = served.connect(rcvbuf=4096)
        sock.sendall(b"POST /api/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                     b"x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        socks.append(sock)
    began = time.monotonic()
    try:
        def answered():
            try:
                with urllib.request.urlopen(served.base + "/api/batch", data=body,
                                            timeout=30) as response:
                    return response.status == 200 and len(response.read().splitlines()) > 30
            except urllib.error.HTTPError as exc:
                assert exc.code == 503, exc.code
                return False
        wait_for(answered, "another batch to be answered", timeout=SLOW_CLIENT_S * 10 + 30)
    finally:
        for sock in socks:
            sock.close()
    record(f"slow clients: 2 batches never read: another batch answered after "
           f"{time.monotonic() - began:.1f} s")


def test_an_address_longer_than_any_search_is_a_414_read_no_further(served):
    for size in (150_000, 8_000_000):  # the app's limit, and one the server refuses unread
        request = b"GET /search?q=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        sock = served.connect()
        began = time.monotonic()
        got = b""
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent: what it said is still there to read
        sock.settimeout(10)
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except OSError:
            pass
        sock.close()
        status, _, rest = got.decode("latin-1").partition("\r\n")
        assert " 414 " in status, (size, status)
        assert "longer than the longest search" in rest, rest[-500:]
        assert "content-security-policy:" in rest.lower()
        record(f"slow clients: a {size:,}-byte address: 414 after "
               f"{time.monotonic() - began:.2f} s")
    times, failures = light_searches(served, 1)
    assert failures == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_a_server_started_in_the_background(news_index, workers):
    """A shell without job control starts `cmd &` with SIGINT ignored: the server still
    stops on Ctrl-C's signal (waitress alone never did)."""
    seeds, index = news_index
    served = serve(index, seeds, "--workers", workers,
                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        served.proc.send_signal(signal.SIGINT)
        served.proc.wait(timeout=20)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
    with pytest.raises(OSError):
        urllib.request.urlopen(served.base + "/healthz", timeout=2)
