"""A small stand-in for the four providers, served over real HTTP on 127.0.0.1.

The app reaches it through ``TRACORE_<ID>_BASE_URL`` exactly as it would reach a provider:
``{base}/models`` to test a key, and each provider's chat endpoint for runs. Keys are
accepted when registered with ``accept()``; anything else is answered the way that provider
answers a bad key. Every request is recorded (provider, path, key) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PROVIDERS = {
    "mistral": "v1",
    "anthropic": "v1",
    "openai": "v1",
    "google": "v1beta",
}
MODELS = {
    "mistral": ["mistral-medium-latest", "mistral-large-latest", "mistral-small-latest"],
    "anthropic": ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7"],
    "openai": ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"],
    "google": ["gemini-2.5-flash", "gemini-2.5-pro"],
}


@dataclass
class Call:
    provider: str
    method: str
    path: str
    key: str | None
    body: dict | None


@dataclass
class ProviderStub:
    accepted: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering a key test
    down: bool = False  # answer 503 to everything
    port: int = 0
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests it was answering at the same moment
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def accept(self, *keys: str) -> None:
        self.accepted.update(keys)

    def base_url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.port}/{provider}/{PROVIDERS[provider]}"

    def config(self) -> dict[str, str]:
        """The TRACORE_<ID>_BASE_URL settings pointing the app at this stub."""
        return {f"TRACORE_{p.upper()}_BASE_URL": self.base_url(p) for p in PROVIDERS}

    def keys_seen(self, provider: str | None = None) -> list[str | None]:
        return [c.key for c in self.calls if provider in (None, c.provider)]

    # --- WSGI ------------------------------------------------------------------------------

    @staticmethod
    def _key(provider: str, request: Request) -> str | None:
        if provider == "anthropic":
            return request.headers.get("x-api-key")
        if provider == "google":
            return request.headers.get("x-goog-api-key")
        auth = request.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def __call__(self, environ, start_response):
        request = Request(environ)
        parts = request.path.strip("/").split("/", 2)
        if len(parts) < 3 or parts[0] not in PROVIDERS:
            return Response("not found", 404)(environ, start_response)
        provider, rest = parts[0], parts[2]
        key = self._key(provider, request)
        body = request.get_json(silent=True) if request.method == "POST" else None
        self.calls.append(Call(provider, request.method, rest, key, body))
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = self._answer(provider, rest, key, body)
        finally:
            with self._lock:
                self.in_flight -= 1
        return response(environ, start_response)

    def _answer(self, provider: str, rest: str, key: str | None, body: dict | None) -> Response:
        if self.down:
            return _json({"error": "unavailable"}, 503)
        if key not in self.accepted:
            if provider == "google":
                return _json({"error": {"code": 400, "message": "API key not valid.",
                                        "details": [{"reason": "API_KEY_INVALID"}]}}, 400)
            return _json({"error": {"message": "invalid api key"}}, 401)
        if rest == "models":
            if self.delay:
                time.sleep(self.delay)
            if provider == "google":
                return _json({"models": [{"name": f"models/{m}"} for m in MODELS[provider]]})
            return _json({"data": [{"id": m} for m in MODELS[provider]]})
        return self._chat(provider, rest, body or {})

    @staticmethod
    def _chat(provider: str, rest: str, body: dict) -> Response:
        text = f"stub {provider} answer"
        if provider in ("openai", "mistral") and rest == "chat/completions":
            return _json({"choices": [{"message": {"role": "assistant", "content": text}}]})
        if provider == "anthropic" and rest == "messages":
            return _json({"content": [{"type": "text", "text": text}]})
        if provider == "google" and rest.endswith(":generateContent"):
            return _json({"candidates": [{"content": {"parts": [{"text": text}]}}]})
        return _json({"error": "no such endpoint"}, 404)


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status, mimetype="application/json")


class Served:
    """Serve a WSGI app on 127.0.0.1 in a background thread until ``stop()``."""

    def __init__(self, wsgi_app) -> None:
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_stub() -> tuple[ProviderStub, Served]:
    stub = ProviderStub()
    served = Served(stub)
    stub.port = served.port
    return stub, served
