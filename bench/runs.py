"""Benchmark (not a test): runs per second from enqueue to done, with one worker.

The app runs in-process on a temporary SQLite database and SQLite queue; one
`flask --app app worker --workers 1` process executes the runs; the provider stub answers
at once over HTTP on 127.0.0.1. The stub's own calls per second are measured in the same
run (direct HTTP calls to its chat endpoint), and the ratio is printed.

    .venv/bin/python -m bench.runs [--runs 200]
"""

from __future__ import annotations

import argparse
import logging
import signal
import tempfile
import time

import requests

from app import create_app
from tests.processes import start_worker
from tests.scenario import user_with_key_on_prod
from tests.stub_provider import serve_stub
from tracore import runs
from tracore.models import Run, db, migrate

KEY = "bench-openai-key-0001"


def stub_calls_per_second(stub, count: int) -> float:
    session = requests.Session()
    url = stub.base_url("openai") + "/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    started = time.perf_counter()
    for _ in range(count):
        session.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    stub, served = serve_stub()
    stub.accept(KEY)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"TRACORE_INSTANCE_PATH": instance, **stub.config()})
        logging.getLogger("tracore").setLevel(logging.WARNING)
        with app.app_context():
            migrate()
            settings, queue = app.extensions["tracore"], app.extensions["tracore.queue"]
            user = user_with_key_on_prod(settings, "openai", KEY, email="bench@example.com")

            worker = start_worker(app)
            try:
                time.sleep(1.5)  # let the worker start before the clock does
                started = time.perf_counter()
                ids = [runs.enqueue(settings, user, "acme", "prod", f"input {i}",
                                    queue.submit).id for i in range(args.runs)]
                while True:
                    db.close()
                    done = Run.select().where(Run.id.in_(ids), Run.status.in_(runs.FINAL))
                    if done.count() == len(ids):
                        break
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
                failed = Run.select().where(Run.id.in_(ids), Run.status == "failed").count()
            finally:
                worker.send_signal(signal.SIGINT)
                worker.communicate(timeout=20)
    stub_rate = stub_calls_per_second(stub, args.runs)
    served.stop()

    run_rate = len(ids) / elapsed
    print(f"runs, enqueue to done (1 worker): {run_rate:8.1f} /s  ({len(ids)} runs, "
          f"{failed} failed, {elapsed:.2f} s)")
    print(f"stub chat calls, direct:          {stub_rate:8.1f} /s")
    print(f"ratio runs / stub calls:          {run_rate / stub_rate:8.1%}")


if __name__ == "__main__":
    main()
