"""Keystroke to rendered results, in Chromium, against `searchapp serve` on a given index.

A person types queries a key at a time (60 ms apart) into the search page; for each request
htmx sends, the page records when it was sent and when its results were swapped in and
settled (htmx events, performance.now()). Printed: request -> rendered p50/p95, and last
keystroke -> rendered (which includes the 200 ms typing pause the page waits for).

    .venv/bin/python bench/browser_latency.py --index bench/out/index-100k
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

TYPED = ["police technology", "oil prices", "government budget", "privacy court", "drone ban",
         "market energy", "election vote", "hospital data"]
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RECORDER = """
window.__times = [];
document.body.addEventListener('htmx:beforeRequest', e => {
  if (e.detail.target && e.detail.target.id === 'results') window.__sent = performance.now(); });
document.body.addEventListener('htmx:afterSettle', e => {
  if (e.detail.target && e.detail.target.id === 'results' && window.__sent)
    window.__times.push([window.__sent, performance.now(), window.__lastKey]); });
document.getElementById('q').addEventListener('keydown', () => { window.__lastKey = performance.now(); });
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "searchapp"), "serve", "--index",
                               str(args.index), "--port", str(port), "--no-watch"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                records = urllib.request.urlopen(base + "/healthz", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            request_to_render, key_to_render = [], []
            for round_no in range(args.rounds + 1):
                for text in TYPED:
                    page.goto(base + "/")
                    page.evaluate(RECORDER)
                    page.locator("#q").press_sequentially(text, delay=60)
                    page.wait_for_timeout(1200)  # the last request lands
                    times = page.evaluate("window.__times")
                    if round_no == 0:
                        continue  # warm-up
                    request_to_render += [done - sent for sent, done, _ in times]
                    if times:
                        sent, done, key = times[-1]
                        key_to_render.append(done - key)
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"index: {args.index} ({records})")
    for name, values in [("request sent -> results rendered", request_to_render),
                         ("last keystroke -> results rendered (incl. 200 ms pause)", key_to_render)]:
        p50, p95 = np.percentile(values, [50, 95])
        print(f"{name:58} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
