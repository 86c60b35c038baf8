"""Keystroke to its results on screen, in Chromium, against `searchapp serve` on a given index.

A person types real words a key at a time, 90 to 260 ms apart (drawn at random, seeded), into
the search page. For every keystroke the page records when the box changed; for every
answer htmx swaps into the results, the text it answers (from its URL) and the frame that
paints it. A keystroke's latency is from the key to the first painted answer for its text,
or for a later text (a key the next key overtook is answered by the next key's results):
what the person sees. A spinner is not an answer. Printed beside: how many requests the
page sent per typed query (searches, and all requests with the lazy views), and how many
answers were thrown away (an older text's answer never paints over a newer one).

    .venv/bin/python bench/browser_latency.py --index /work/benchwork/news/index
"""

from __future__ import annotations

import argparse
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

TYPED = ["police technology", "oil prices", "government budget", "privacy court", "drone ban",
         "market energy", "election vote", "hospital data", "coffee brazil", "interest rates"]
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RECORDER = """
window.__keys = []; window.__painted = []; window.__searches = 0;
document.getElementById('q').addEventListener('input', e => {
  window.__keys.push([e.target.value, performance.now()]); });
document.body.addEventListener('htmx:beforeRequest', e => {
  if (e.detail.target && e.detail.target.id === 'results') window.__searches++; });
document.body.addEventListener('htmx:afterSwap', e => {
  if (!e.detail.target || e.detail.target.id !== 'results' || !e.detail.xhr) return;
  const q = new URL(e.detail.xhr.responseURL).searchParams.get('q') || '';
  requestAnimationFrame(() => setTimeout(() => window.__painted.push([q, performance.now()]), 0));
});
"""


def latencies(keys: list, painted: list) -> list[float]:
    """Each keystroke's wait: until an answer for its text, or a later key's text, is painted."""
    out = []
    for i, (_, at) in enumerate(keys):
        later = {text for text, _ in keys[i:]}
        done = [t for q, t in painted if t >= at and q in later]
        if done:
            out.append(min(done) - at)
    return out


def overtaken(keys: list, painted: list) -> int:
    """Answers painted after the answer to a newer text: what must never happen."""
    order = {text: i for i, (text, _) in enumerate(keys)}
    newest, count = -1, 0
    for q, _ in painted:
        i = order.get(q, -1)
        count += i < newest
        newest = max(newest, i)
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "searchapp"), "serve", "--index",
                               str(args.index), "--port", str(port), "--no-watch"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    waits, searches, requests, stale, queries = [], 0, 0, 0, 0
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
            sent = []
            page.on("request", lambda r: sent.append(r.url) if "/static/" not in r.url else None)
            for round_no in range(args.rounds + 1):
                for text in TYPED:
                    page.goto(base + "/")
                    page.evaluate(RECORDER)
                    sent.clear()
                    page.locator("#q").focus()
                    for ch in text:
                        page.keyboard.type(ch)
                        page.wait_for_timeout(rng.uniform(90, 260))
                    page.wait_for_timeout(1500)  # the last answers land
                    keys, painted, n = page.evaluate(
                        "[window.__keys, window.__painted, window.__searches]")
                    if round_no == 0:
                        continue  # warm-up
                    waits += latencies(keys, painted)
                    searches += n
                    requests += len(sent)
                    stale += overtaken(keys, painted)
                    queries += 1
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    p50, p95 = np.percentile(waits, [50, 95])
    print(f"index: {args.index} ({records})")
    print(f"keystroke -> its results painted   p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
          f"(n={len(waits)} keys, 90-260 ms apart)")
    print(f"per typed query ({queries} queries): {searches / queries:.1f} searches, "
          f"{requests / queries:.1f} requests in all; older answers painted over newer: {stale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
