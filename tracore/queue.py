"""The run queue: Huey on SQLite (default, in the instance folder) or Redis.

Only run ids travel through the queue; keys stay sealed in the database.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from huey import Huey, RedisHuey, SqliteHuey

from . import runs
from .models import db
from .settings import Settings

log = logging.getLogger("tracore.queue")


class QueueConfigError(ValueError):
    """TRACORE_QUEUE_URL names a storage this app does not support."""


def make_huey(url: str, name: str = "tracore") -> Huey:
    """``sqlite:///path/queue.db`` or ``redis://host:port/db``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return SqliteHuey(name=name, filename=url.removeprefix("sqlite:///"), results=False)
    if scheme in ("redis", "rediss"):
        return RedisHuey(name=name, url=url, results=False)
    raise QueueConfigError("TRACORE_QUEUE_URL must start with sqlite:/// or redis://")


class RunQueue:
    """Submits runs and, in a worker, executes them."""

    def __init__(self, huey: Huey, settings: Settings, policy: runs.RetryPolicy) -> None:
        self.huey = huey
        self.settings = settings
        self.policy = policy
        self._task = huey.task(name="tracore.execute_run")(self._execute)

    def submit(self, run_id: int, delay: float = 0) -> None:
        if delay > 0:
            self._task.schedule((run_id,), delay=delay)
        else:
            self._task(run_id)

    def _execute(self, run_id: int) -> None:
        with db.connection_context():
            runs.execute_run(
                self.settings, run_id,
                retry=lambda delay: self.submit(run_id, delay), policy=self.policy,
            )

    def drain(self) -> int:
        """Execute every task that is ready now, in this thread (tests, benchmarks);
        returns how many ran. The worker does the same continuously."""
        executed = 0
        while (task := self.huey.dequeue()) is not None:
            if self.huey.ready_to_run(task):
                self.huey.execute(task)
                executed += 1
            else:  # a retry with a delay: it waits in the schedule, as in the worker
                self.huey.add_schedule(task)
        return executed

    def consumer(self, workers: int):
        return self.huey.create_consumer(workers=workers, worker_type="thread",
                                         periodic=False, check_worker_health=True)
