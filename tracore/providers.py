"""The provider registry (data) and the HTTP adapters that talk to each provider.

The registry below is the one place that names providers, their residency, default models
and allowlists. An operator may override a provider's default model and allowlist through
configuration (providers retire models); `build_registry` applies those overrides.

Adapters never put a key in a URL, an exception message, a log line or a repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import requests

ANTHROPIC_VERSION = "2023-06-01"
_MAX_PAGES = 20


@dataclass(frozen=True)
class Provider:
    """One LLM provider as the app knows it. ``repr`` never includes a key (it holds none)."""

    id: str
    name: str
    residency: str
    default_model: str
    models: tuple[str, ...]
    base_url: str

    def allows(self, model: str | None) -> bool:
        return model in self.models


REGISTRY: tuple[Provider, ...] = (
    Provider(
        id="mistral",
        name="Mistral",
        residency="EU",
        default_model="pixtral-large-latest",
        models=(
            "pixtral-large-latest",
            "mistral-medium-latest",
            "mistral-large-latest",
            "mistral-small-latest",
        ),
        base_url="https://api.mistral.ai/v1",
    ),
    Provider(
        id="anthropic",
        name="Anthropic",
        residency="US",
        default_model="claude-haiku-4-5",
        models=("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7"),
        base_url="https://api.anthropic.com/v1",
    ),
    Provider(
        id="openai",
        name="OpenAI",
        residency="US",
        default_model="gpt-4o-mini",
        models=("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"),
        base_url="https://api.openai.com/v1",
    ),
    Provider(
        id="google",
        name="Google",
        residency="US",
        default_model="gemini-2.0-flash",
        models=("gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro"),
        base_url="https://generativelanguage.googleapis.com/v1beta",
    ),
)

PROVIDER_IDS: tuple[str, ...] = tuple(p.id for p in REGISTRY)


class RegistryConfigError(ValueError):
    """An operator override names a default model outside the allowlist, or an empty list."""


@dataclass(frozen=True)
class Registry:
    """The providers in display order, after configuration overrides."""

    providers: tuple[Provider, ...]
    _by_id: dict[str, Provider] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.providers})

    def get(self, provider_id: str) -> Provider | None:
        return self._by_id.get(provider_id)

    def __iter__(self):
        return iter(self.providers)


def build_registry(config: Mapping[str, Any]) -> Registry:
    """Apply ``TRACORE_<ID>_BASE_URL``, ``_MODELS`` and ``_DEFAULT_MODEL`` overrides."""
    providers = []
    for provider in REGISTRY:
        prefix = f"TRACORE_{provider.id.upper()}_"
        models = config.get(prefix + "MODELS") or provider.models
        if isinstance(models, str):
            models = [m.strip() for m in models.split(",") if m.strip()]
        models = tuple(models)
        default = config.get(prefix + "DEFAULT_MODEL") or (
            provider.default_model if provider.default_model in models else models[0]
            if models else ""
        )
        if not models or default not in models:
            raise RegistryConfigError(
                f"{prefix}DEFAULT_MODEL must be one of {prefix}MODELS for {provider.name}"
            )
        # Default model first, as the registry lists it.
        models = (default, *[m for m in models if m != default])
        base_url = (config.get(prefix + "BASE_URL") or provider.base_url).rstrip("/")
        providers.append(replace(provider, models=models, default_model=default, base_url=base_url))
    return Registry(tuple(providers))


# --- key test -------------------------------------------------------------------------------

OutcomeKind = Literal["accepted", "rejected", "transient", "unexpected"]


@dataclass(frozen=True)
class KeyTestOutcome:
    """What a provider said about a key. ``detail`` is safe to show and store."""

    kind: OutcomeKind
    detail: str
    status_code: int | None = None
    models: tuple[str, ...] | None = None

    @property
    def conclusive(self) -> bool:
        return self.kind in ("accepted", "rejected")


def _auth_headers(provider: Provider, key: str) -> dict[str, str]:
    if provider.id == "anthropic":
        return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    if provider.id == "google":
        # Never ?key=: URLs end up in proxy and server logs.
        return {"x-goog-api-key": key}
    return {"Authorization": f"Bearer {key}"}


def _is_google_invalid_key(response: requests.Response) -> bool:
    try:
        details = response.json().get("error", {}).get("details", [])
    except (ValueError, AttributeError):
        return False
    return any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details)


def _classify_failure(provider: Provider, response: requests.Response) -> KeyTestOutcome:
    code = response.status_code
    if code in (401, 403) or (
        provider.id == "google" and code == 400 and _is_google_invalid_key(response)
    ):
        return KeyTestOutcome("rejected", f"{provider.name} rejected the key (HTTP {code})", code)
    if code == 429:
        return KeyTestOutcome("transient", f"{provider.name} is rate limiting (HTTP 429)", code)
    if code >= 500:
        return KeyTestOutcome("transient", f"{provider.name} had an error (HTTP {code})", code)
    return KeyTestOutcome(
        "unexpected", f"{provider.name} gave an unexpected answer (HTTP {code})", code
    )


def _page_models(provider: Provider, body: Any) -> tuple[list[str], dict[str, str] | None]:
    """Model ids on one page of a listing, and the query for the next page (or None)."""
    if provider.id == "google":
        names = [m.get("name", "") for m in body.get("models", []) if isinstance(m, dict)]
        ids = [n.removeprefix("models/") for n in names if n]
        token = body.get("nextPageToken")
        return ids, ({"pageToken": token} if token else None)
    ids = [m.get("id", "") for m in body.get("data", []) if isinstance(m, dict) and m.get("id")]
    if provider.id == "anthropic" and body.get("has_more") and body.get("last_id"):
        return ids, {"after_id": body["last_id"], "limit": "1000"}
    return ids, None


def test_key(provider: Provider, key: str, timeout: float) -> KeyTestOutcome:
    """List the provider's models with ``key``; classify the answer per SPEC §2."""
    url = f"{provider.base_url}/models"
    headers = _auth_headers(provider, key)
    params: dict[str, str] | None = {"limit": "1000"} if provider.id == "anthropic" else None
    models: list[str] = []
    try:
        for _ in range(_MAX_PAGES):
            response = requests.get(url, headers=headers, params=params, timeout=timeout)
            if not 200 <= response.status_code < 300:
                if models:  # a later page failed: the key was accepted already
                    break
                return _classify_failure(provider, response)
            try:
                page, params = _page_models(provider, response.json())
            except (ValueError, AttributeError):
                # 2xx means the key was accepted, even when the listing can't be read.
                return KeyTestOutcome(
                    "accepted", f"{provider.name} accepted the key", response.status_code, None
                )
            models.extend(page)
            if params is None:
                break
    except requests.Timeout:
        return KeyTestOutcome("transient", f"{provider.name} did not answer in {timeout:g} s")
    except requests.RequestException:
        return KeyTestOutcome("transient", f"Couldn't connect to {provider.name}")
    return KeyTestOutcome("accepted", f"{provider.name} accepted the key", 200, tuple(models))


test_key.__test__ = False  # a domain function, not a pytest test


# --- run call --------------------------------------------------------------------------------

MAX_OUTPUT_TOKENS = 1024


@dataclass(frozen=True)
class ChatOutcome:
    """A provider's answer to one run. ``detail`` is safe to show and store."""

    kind: Literal["ok", "rejected", "transient", "unexpected"]
    detail: str
    text: str | None = None


def _chat_request(provider: Provider, model: str, prompt: str) -> tuple[str, dict]:
    if provider.id == "anthropic":
        return f"{provider.base_url}/messages", {
            "model": model, "max_tokens": MAX_OUTPUT_TOKENS,
            "messages": [{"role": "user", "content": prompt}],
        }
    if provider.id == "google":
        return f"{provider.base_url}/models/{model}:generateContent", {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        }
    return f"{provider.base_url}/chat/completions", {
        "model": model, "messages": [{"role": "user", "content": prompt}],
    }


def _chat_text(provider: Provider, body: Any) -> str:
    """The answer's text; raises KeyError/IndexError/TypeError on a shape we don't know."""
    if provider.id == "anthropic":
        return "".join(p["text"] for p in body["content"] if p.get("type") == "text")
    if provider.id == "google":
        return "".join(p.get("text", "") for p in body["candidates"][0]["content"]["parts"])
    return body["choices"][0]["message"]["content"]


def run_chat(provider: Provider, key: str, model: str, prompt: str, timeout: float) -> ChatOutcome:
    """Send ``prompt`` to ``model`` with ``key`` and classify the answer like a key test."""
    url, payload = _chat_request(provider, model, prompt)
    try:
        response = requests.post(url, json=payload, headers=_auth_headers(provider, key),
                                 timeout=timeout)
    except requests.Timeout:
        return ChatOutcome("transient", f"{provider.name} did not answer in {timeout:g} s")
    except requests.RequestException:
        return ChatOutcome("transient", f"Couldn't connect to {provider.name}")
    if not 200 <= response.status_code < 300:
        failure = _classify_failure(provider, response)
        return ChatOutcome(failure.kind, failure.detail)
    try:
        return ChatOutcome("ok", f"{provider.name} answered", _chat_text(provider, response.json()))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ChatOutcome("unexpected", f"{provider.name} answered in a shape Tracore can't read")
