"""Benchmark (not a test): GET /profile and the Test fragment against GET /healthz.

Runs the app in-process on a temporary SQLite database with four connected keys, and the
provider stub over real HTTP on 127.0.0.1 answering at once. Prints requests per second,
p50/p95 latency, throughput ratios to /healthz and fragment sizes.

    .venv/bin/python -m bench.profile [--requests 400]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time

from app import create_app
from tests.stub_provider import serve_stub
from tracore.models import migrate

PASSWORD = "benchmark password"
PROVIDER_KEYS = {
    "mistral": "bench-mistral-key-0001",
    "anthropic": "bench-anthropic-key-0002",
    "openai": "bench-openai-key-0003",
    "google": "bench-google-key-0004",
}


def measure(client, targets: dict[str, tuple[str, str, dict]], count: int) -> dict:
    """Time ``count`` rounds, one request per target each round, so that whatever else the
    machine is doing weighs on every target alike."""
    timings: dict[str, list[float]] = {name: [] for name in targets}
    sizes: dict[str, int] = {}
    for _ in range(count):
        for name, (method, path, headers) in targets.items():
            started = time.perf_counter()
            response = client.open(path, method=method, headers=headers)
            timings[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
            sizes[name] = len(response.get_data())
    results = {}
    for name, samples in timings.items():
        samples.sort()
        results[name] = {
            "rps": len(samples) / sum(samples),
            "p50": statistics.median(samples) * 1000,
            "p95": samples[int(len(samples) * 0.95) - 1] * 1000,
            "bytes": sizes[name],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    stub, served = serve_stub()
    stub.accept(*PROVIDER_KEYS.values())
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({
            "TRACORE_INSTANCE_PATH": instance,
            "RATELIMIT_ENABLED": False,  # measure the app, not the limiter's refusals
            **stub.config(),
        })
        logging.getLogger("tracore").setLevel(logging.WARNING)  # a line per request is noise
        with app.app_context():
            migrate()
        client = app.test_client()
        page = client.get("/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/register", data={"email": "bench@example.com", "password": PASSWORD,
                                       "csrf_token": token})
        headers = {"HX-Request": "true", "X-CSRFToken": token}
        for provider, key in PROVIDER_KEYS.items():
            saved = client.post(f"/profile/keys/{provider}", data={"key": key}, headers=headers)
            assert saved.status_code == 200, saved.get_data(as_text=True)

        targets = {
            "GET /healthz": ("GET", "/healthz", {}),
            "GET /profile": ("GET", "/profile", {}),
            "POST …/openai/test": ("POST", "/profile/keys/openai/test", headers),
        }
        measure(client, targets, 20)  # warm up
        results = measure(client, targets, args.requests)
    served.stop()

    base = results["GET /healthz"]["rps"]
    print(f"{'request':<22}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'vs healthz':>12}{'bytes':>8}")
    for name, r in results.items():
        print(f"{name:<22}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p95']:>10.2f}"
              f"{r['rps'] / base:>11.0%}{r['bytes']:>8}")
    profile_ratio = results["GET /profile"]["rps"] / base
    fragment = results["POST …/openai/test"]["bytes"]
    print(f"\n/profile at {profile_ratio:.0%} of /healthz throughput (target ≥ 40%): "
          f"{'met' if profile_ratio >= 0.40 else 'NOT met'}")
    print(f"Test fragment {fragment} bytes (target < 600): "
          f"{'met' if fragment < 600 else 'NOT met'}")


if __name__ == "__main__":
    main()
