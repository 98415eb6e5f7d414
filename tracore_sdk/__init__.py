"""Python SDK for the Tracore provider keys API (``/api/v1``).

    from tracore_sdk import TracoreClient

    client = TracoreClient(api_key="trk_…", base_url="http://127.0.0.1:5000")
    keys = client.user.provider_keys.list()
    client.user.provider_keys.set(provider="anthropic", key="sk-ant-…",
                                  default_model="claude-haiku-4-5")
    client.user.provider_keys.set(provider="anthropic", default_model="claude-opus-4-7")
    client.user.provider_keys.test(provider="anthropic")
    client.user.provider_keys.remove(provider="anthropic")

Every method returns the response's ``data`` (dicts with the API's camelCase fields) and
raises a ``TracoreError`` subclass carrying the API's error ``code``.
"""

from __future__ import annotations

import time
from typing import Any

import requests

__all__ = [
    "AuthenticationError",
    "InvalidKeyError",
    "NotFoundError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "TracoreClient",
    "TracoreError",
    "ValidationError",
]



class TracoreError(Exception):
    """An error answer from the API; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class AuthenticationError(TracoreError):
    """401: the token is missing, unknown or revoked."""


class InvalidKeyError(TracoreError):
    """400 invalid_key: the provider rejected the key; nothing was stored."""


class ValidationError(TracoreError):
    """422 (or 400/413): the input was refused."""


class NotFoundError(TracoreError):
    """404: no such key, workspace, environment or run for this user."""


class RateLimitedError(TracoreError):
    """429: over the provider-test budget; ``retry_after`` is in seconds."""

    def __init__(self, code: str, message: str, status: int, retry_after: int | None) -> None:
        super().__init__(code, message, status)
        self.retry_after = retry_after


class ProviderUnavailableError(TracoreError):
    """502: the provider could not be reached; nothing changed."""


_BY_CODE = {
    "unauthorized": AuthenticationError,
    "invalid_key": InvalidKeyError,
    "validation_error": ValidationError,
    "bad_request": ValidationError,
    "payload_too_large": ValidationError,
    "not_found": NotFoundError,
    "provider_unavailable": ProviderUnavailableError,
}


def _raise_for(response: requests.Response) -> None:
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        code, message = "error", f"HTTP {response.status_code} from the Tracore API"
    if code == "rate_limited":
        retry = response.headers.get("Retry-After")
        raise RateLimitedError(code, message, response.status_code,
                               int(retry) if retry and retry.isdigit() else None)
    raise _BY_CODE.get(code, TracoreError)(code, message, response.status_code)


class TracoreClient:
    """A client for one API token. ``timeout`` (seconds) applies to every request."""

    def __init__(self, api_key: str, base_url: str = "http://127.0.0.1:5000",
                 timeout: float = 30.0, session: requests.Session | None = None) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.timeout = timeout
        self._session = session or requests.Session()
        self.user = _User(self)
        self.workspaces = Workspaces(self)
        self.environments = Environments(self)
        self.runs = Runs(self)

    def __repr__(self) -> str:  # never the token
        return f"<TracoreClient {self.base_url}>"

    def request(self, method: str, path: str, json: Any = None) -> Any:
        response = self._session.request(
            method, self.base_url + path, json=json, timeout=self.timeout,
            headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
        )
        if response.status_code >= 400:
            _raise_for(response)
        return response.json()["data"]


class _Resource:
    def __init__(self, client: TracoreClient) -> None:
        self._client = client


class ProviderKeys(_Resource):
    """``client.user.provider_keys``."""

    def list(self) -> list[dict]:
        return self._client.request("GET", "/user/provider-keys")

    def set(self, *, provider: str, key: str | None = None,
            default_model: str | None = None) -> dict:
        """With ``key``: connect or replace (the provider tests it first). Without: change
        only the default model (no provider call)."""
        body: dict[str, str] = {}
        if key is not None:
            body["key"] = key
        if default_model is not None:
            body["defaultModel"] = default_model
        return self._client.request("PUT", f"/user/provider-keys/{provider}", body)

    def test(self, *, provider: str) -> dict:
        return self._client.request("POST", f"/user/provider-keys/{provider}/test")

    def remove(self, *, provider: str) -> dict:
        return self._client.request("DELETE", f"/user/provider-keys/{provider}")


class _User(_Resource):
    def __init__(self, client: TracoreClient) -> None:
        super().__init__(client)
        self.provider_keys = ProviderKeys(client)


class Workspaces(_Resource):
    """``client.workspaces``."""

    def list(self) -> list[dict]:
        return self._client.request("GET", "/workspaces")

    def create(self, *, name: str) -> dict:
        return self._client.request("POST", "/workspaces", {"name": name})


class Environments(_Resource):
    """``client.environments``: environments of one workspace, by slug."""

    def list(self, *, workspace: str) -> list[dict]:
        return self._client.request("GET", f"/workspaces/{workspace}/environments")

    def create(self, *, workspace: str, name: str) -> dict:
        return self._client.request("POST", f"/workspaces/{workspace}/environments",
                                    {"name": name})

    def get(self, *, workspace: str, environment: str) -> dict:
        return self._client.request("GET", f"/workspaces/{workspace}/environments/{environment}")

    def assign(self, *, workspace: str, environment: str, provider: str | None,
               model: str | None = None) -> dict:
        """Give the environment one of your keys (and optionally a model), or
        ``provider=None`` for the system Mistral fallback."""
        return self._client.request(
            "PUT", f"/workspaces/{workspace}/environments/{environment}",
            {"provider": provider, "model": model},
        )


class Runs(_Resource):
    """``client.runs``: start a run on an environment and follow it."""

    FINAL = ("succeeded", "failed")

    def create(self, *, workspace: str, environment: str, input: str) -> dict:  # noqa: A002
        """Enqueue a run; it snapshots the environment's provider, model and key now."""
        return self._client.request(
            "POST", f"/workspaces/{workspace}/environments/{environment}/runs", {"input": input}
        )

    def get(self, run_id: int) -> dict:
        return self._client.request("GET", f"/runs/{run_id}")

    def wait(self, run_id: int, *, timeout: float = 120.0, interval: float = 0.5) -> dict:
        """Poll until the run is succeeded or failed; TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(run_id)
            if run["status"] in self.FINAL:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout:g} s")
            time.sleep(interval)
