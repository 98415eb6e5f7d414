"""Configuration: names, defaults, parsing, and the secrets generated on a first run.

Precedence, lowest first: the defaults below, ``instance/config.py``, the process
environment, then (for tests) an explicit mapping. Every name is ``TRACORE_*`` everywhere.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .providers import PROVIDER_IDS, Registry, build_registry
from .vault import Vault, generate_master_key

DEFAULTS: dict[str, Any] = {
    "TRACORE_DATABASE_URL": None,  # SQLite in the instance folder
    "TRACORE_SECRET_KEY": None,  # generated into the instance folder
    "TRACORE_ENCRYPTION_KEY": None,  # generated into the instance folder
    "TRACORE_RETIRED_ENCRYPTION_KEYS": "",  # comma-separated, still accepted for opening
    "TRACORE_SYSTEM_MISTRAL_API_KEY": "",
    "TRACORE_SYSTEM_MISTRAL_MODEL": "pixtral-large-latest",
    "TRACORE_RATELIMIT_STORAGE_URI": "memory://",
    "TRACORE_RATELIMIT_KEY_PREFIX": "tracore",
    "TRACORE_QUEUE_URL": None,  # SQLite queue in the instance folder
    "TRACORE_QUEUE_NAME": "tracore",  # Redis key prefix / queue name
    "TRACORE_RUN_MAX_ATTEMPTS": 3,
    "TRACORE_RUN_RETRY_DELAY": 2.0,  # seconds before the first retry; doubles each time
    "TRACORE_PROVIDER_TIMEOUT": 10.0,
    "TRACORE_ALLOW_SIGNUP": True,
    "TRACORE_SESSION_COOKIE_SECURE": False,
    "TRACORE_LOGIN_LIMIT": "10 per minute",
}
for _pid in PROVIDER_IDS:
    DEFAULTS[f"TRACORE_{_pid.upper()}_BASE_URL"] = None
    DEFAULTS[f"TRACORE_{_pid.upper()}_MODELS"] = None
    DEFAULTS[f"TRACORE_{_pid.upper()}_DEFAULT_MODEL"] = None

_BOOLEAN = {"TRACORE_ALLOW_SIGNUP", "TRACORE_SESSION_COOKIE_SECURE"}
_FLOAT = {"TRACORE_PROVIDER_TIMEOUT", "TRACORE_RUN_RETRY_DELAY"}
_INTEGER = {"TRACORE_RUN_MAX_ATTEMPTS"}


class ConfigError(ValueError):
    """A configuration value is unusable; the message names the setting, never a secret."""


def _parse(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _BOOLEAN:
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name} must be true or false")
    if name in _FLOAT or name in _INTEGER:
        try:
            number = int(value) if name in _INTEGER else float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number") from None
        if number < (1 if name in _INTEGER else 0) or (
            name == "TRACORE_PROVIDER_TIMEOUT" and number == 0
        ):
            raise ConfigError(f"{name} is out of range")
        return number
    return value


def load_config(
    file_config: Mapping[str, Any], environ: Mapping[str, str], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge the configuration sources for every ``TRACORE_*`` name."""
    merged = dict(DEFAULTS)
    for source in (file_config, environ, overrides):
        for name, value in source.items():
            if name.startswith("TRACORE_"):
                merged[name] = _parse(name, value)
    return merged


def read_or_create_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret stored at ``path``, created (mode 0600) on a first run; and whether it was
    created just now."""
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, True


def fill_instance_defaults(config: dict[str, Any], instance_path: Path) -> Path | None:
    """Point unset storage at the instance folder and generate the secrets a first run needs.

    Returns the master key file when it was generated just now (None otherwise), so the
    caller can refuse it if the database already holds secrets sealed under another key.
    """
    if not config["TRACORE_DATABASE_URL"]:
        config["TRACORE_DATABASE_URL"] = f"sqlite:///{instance_path / 'tracore.db'}"
    if not config["TRACORE_QUEUE_URL"]:
        config["TRACORE_QUEUE_URL"] = f"sqlite:///{instance_path / 'queue.db'}"
    if not config["TRACORE_SECRET_KEY"]:
        config["TRACORE_SECRET_KEY"], _ = read_or_create_secret(
            instance_path / "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config["TRACORE_ENCRYPTION_KEY"]:
        config["TRACORE_ENCRYPTION_KEY"], created = read_or_create_secret(
            instance_path / "master.key", generate_master_key
        )
        return instance_path / "master.key" if created else None
    return None


@dataclass(frozen=True)
class Settings:
    """What the domain needs from configuration, built once per app or worker."""

    registry: Registry
    vault: Vault
    provider_timeout: float
    system_mistral_key: str
    system_mistral_model: str

    def __repr__(self) -> str:  # never show the system key
        return f"<Settings providers={len(self.registry.providers)}>"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        retired = [k for k in (config.get("TRACORE_RETIRED_ENCRYPTION_KEYS") or "").split(",")
                   if k.strip()]
        return cls(
            registry=build_registry(config),
            vault=Vault(config["TRACORE_ENCRYPTION_KEY"], retired),
            provider_timeout=float(config["TRACORE_PROVIDER_TIMEOUT"]),
            system_mistral_key=config.get("TRACORE_SYSTEM_MISTRAL_API_KEY") or "",
            system_mistral_model=config["TRACORE_SYSTEM_MISTRAL_MODEL"],
        )
