"""Helpers that start the app's own processes for tests and benchmarks."""

import os
import subprocess
import sys
from pathlib import Path


def start_worker(app):
    """``flask --app app worker`` as an operator starts it: configured through the
    environment with the same settings as ``app`` (database, queue, instance, providers).

    Its output goes to ``worker.log`` in the instance folder (a pipe could fill and stall it).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACORE_")}
    for name, value in app.config.items():
        if name.startswith("TRACORE_") and value is not None:
            env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    log = open(worker_log(app), "w")  # noqa: SIM115 - the process owns it until it ends
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1"],
        cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )


def worker_log(app) -> Path:
    return Path(app.instance_path) / "worker.log"
