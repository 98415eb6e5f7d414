"""`flask --app app worker` as its own process: it executes runs queued while it was down."""

import re
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import CANARY, QUEUE_STORAGES, RUN_ID
from tests.processes import start_worker, worker_log
from tests.scenario import user_with_key_on_prod
from tracore import runs
from tracore.models import Run, db


@pytest.fixture(params=QUEUE_STORAGES, ids=lambda s: s.split(":")[0])
def worker_app(request, make_app, stub):
    stub.accept(CANARY)
    name = f"tracore-test-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    config = {**stub.config(), "TRACORE_QUEUE_NAME": name}
    if request.param != "sqlite":
        config["TRACORE_QUEUE_URL"] = request.param
    return make_app(**config)


def queue_storage_bytes(app) -> bytes:
    """Everything the queue holds: the SQLite queue file, or the queue's Redis keys."""
    url = app.config["TRACORE_QUEUE_URL"]
    if url.startswith("sqlite"):
        return Path(url.removeprefix("sqlite:///")).read_bytes()
    import redis

    client = redis.Redis.from_url(url)
    chunks = []
    huey_name = re.sub(r"[^a-zA-Z0-9]", "", app.config["TRACORE_QUEUE_NAME"])  # as Huey keys it
    for key in client.scan_iter(match=f"huey.*{huey_name}"):
        kind = client.type(key)
        if kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind == b"zset":
            chunks.extend(client.zrange(key, 0, -1))
        elif kind == b"hash":
            chunks.extend(client.hgetall(key).values())
        elif kind == b"string":
            chunks.append(client.get(key))
    assert chunks, "the queue holds the run's task"
    return b"".join(chunks)


def wait_for_final(run_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.close()  # read what the worker committed
        run = Run.get_by_id(run_id)
        if run.status in runs.FINAL:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run.status} after {timeout} s")


def test_the_worker_process_executes_a_run_queued_while_it_was_down(worker_app, stub):
    settings = worker_app.extensions["tracore"]
    queue = worker_app.extensions["tracore.queue"]
    ada = user_with_key_on_prod(settings, "openai", CANARY)
    run = runs.enqueue(settings, ada, "acme", "prod", "Extract the total.", queue.submit)
    db.close()
    assert CANARY.encode() not in queue_storage_bytes(worker_app)

    worker = start_worker(worker_app)
    try:
        finished = wait_for_final(run.id)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.communicate(timeout=20)
    output = worker_log(worker_app).read_text()
    assert finished.status == "succeeded", finished.error
    assert finished.output == "stub openai answer"
    assert finished.sealed_key is None
    assert stub.keys_seen("openai")[-1] == CANARY
    assert CANARY not in output
    assert "tracore.execute_run" in output  # the worker did log what it ran
