"""Provider keys on a user's profile: connect/replace, default model, test, remove.

The rules of SPEC §3–§4 live here and only here: the 7-day window, the 10-minute re-test
pause, what a key's status is, and the shared test budget.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cached_property

from .errors import InvalidKey, KeyUnreadable, NotFound, ProviderUnavailable, ValidationError
from .models import AuditEvent, Environment, ProviderKey, User, Workspace, db, utcnow
from .providers import KeyTestOutcome, Provider, test_key
from .settings import Settings
from .vault import VaultError, key_context

log = logging.getLogger("tracore.keys")

FRESH_FOR = dt.timedelta(days=7)  # a successful test counts for this long
RETEST_PAUSE = dt.timedelta(minutes=10)  # no automatic re-test sooner than this
# One budget for every provider test a user causes: Test, Test & Save, automatic re-test, API.
PROVIDER_TEST_LIMIT = "10 per minute;100 per hour"
PROVIDER_TEST_SCOPE = "provider-test"

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 512

STATUS_LABELS = {"connected": "Connected", "invalid": "Invalid", "not_tested": "Not tested"}


# --- reading ---------------------------------------------------------------------------------

def key_status(key: ProviderKey, now: dt.datetime | None = None) -> str:
    """``connected``, ``invalid`` or ``not_tested`` per SPEC §3."""
    now = now or utcnow()
    if key.last_result == "rejected":
        return "invalid"
    if key.last_success_at and now - key.last_success_at < FRESH_FOR:
        return "connected"
    return "not_tested"


def needs_retest(key: ProviderKey, now: dt.datetime | None = None) -> bool:
    """A stale key (no success within the window) not tried in the last few minutes."""
    now = now or utcnow()
    stale = key.last_success_at is None or now - key.last_success_at >= FRESH_FOR
    tried_recently = key.last_attempt_at is not None and now - key.last_attempt_at < RETEST_PAUSE
    return stale and not tried_recently


def transient_notice(key: ProviderKey) -> str | None:
    """The notice of the last test, when it reached no verdict ("Couldn't reach …")."""
    return key.last_error if key.last_attempt_transient else None


def key_hint(plaintext: str) -> str:
    """What the UI and API may show of a key: an ellipsis and its last four characters."""
    return "…" + plaintext[-4:]


@dataclass(frozen=True)
class EnvironmentRef:
    workspace: str
    environment: str

    def __str__(self) -> str:
        return f"{self.workspace}/{self.environment}"


def get_key(user: User, provider_id: str) -> ProviderKey | None:
    return ProviderKey.get_or_none(ProviderKey.user == user, ProviderKey.provider == provider_id)


def list_keys(user: User) -> dict[str, ProviderKey]:
    """The user's stored keys by provider id, without the sealed blobs (not needed to show)."""
    shown = [f for f in ProviderKey._meta.sorted_fields if f is not ProviderKey.sealed_key]
    return {k.provider: k for k in ProviderKey.select(*shown).where(ProviderKey.user == user)}


def environments_using(keys: list[ProviderKey]) -> dict[int, list[EnvironmentRef]]:
    """Every ``workspace/environment`` using each key, in one query for all keys."""
    found: dict[int, list[EnvironmentRef]] = {k.id: [] for k in keys}
    if not keys:
        return found
    rows = (
        Environment.select(Environment.provider_key, Environment.slug, Workspace.slug)
        .join(Workspace)
        .where(Environment.provider_key.in_(list(found)))
        .order_by(Workspace.slug, Environment.slug)
        .tuples()
    )
    for key_id, env_slug, ws_slug in rows:
        found[key_id].append(EnvironmentRef(ws_slug, env_slug))
    return found


def provider_or_404(settings: Settings, provider_id: str) -> Provider:
    provider = settings.registry.get(provider_id)
    if provider is None:
        raise NotFound("No such provider.")
    return provider


def _stored_or_404(user: User, provider: Provider) -> ProviderKey:
    key = get_key(user, provider.id)
    if key is None:
        raise NotFound(f"No {provider.name} key is stored.")
    return key


def _audit(user: User, action: str, provider: str) -> None:
    AuditEvent.create(user=user, action=action, provider=provider)


@dataclass(frozen=True)
class KeyCard:
    """Everything a profile card or an API key object shows about one provider."""

    provider: Provider
    key: ProviderKey | None
    environments: tuple[EnvironmentRef, ...] = ()
    now: dt.datetime | None = None

    @cached_property
    def status(self) -> str | None:
        return key_status(self.key, self.now) if self.key else None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "")

    @cached_property
    def checking(self) -> bool:
        return bool(self.key) and needs_retest(self.key, self.now)

    @property
    def notice(self) -> str | None:
        return transient_notice(self.key) if self.key else None

    @cached_property
    def available_models(self) -> list[str] | None:
        return self.key.available_models if self.key else None

    def offered(self, model: str) -> bool:
        """False when the last successful test showed the provider doesn't offer ``model``."""
        available = self.available_models
        return available is None or model in available


def key_card(settings: Settings, user: User, provider_id: str) -> KeyCard:
    """The card for one provider, stored key or not."""
    provider = provider_or_404(settings, provider_id)
    key = get_key(user, provider.id)
    envs = environments_using([key])[key.id] if key else []
    return KeyCard(provider, key, tuple(envs), utcnow())


def key_cards(
    settings: Settings, user: User, *, stored_only: bool = False, with_environments: bool = False
) -> list[KeyCard]:
    """A card per provider in registry order: one query, two with the environments."""
    keys = list_keys(user)
    envs = environments_using(list(keys.values())) if with_environments else {
        k.id: [] for k in keys.values()
    }
    now = utcnow()
    return [
        KeyCard(p, keys.get(p.id), tuple(envs[keys[p.id].id]) if p.id in keys else (), now)
        for p in settings.registry
        if not stored_only or p.id in keys
    ]


# --- writing ---------------------------------------------------------------------------------

def _validate_plaintext(plaintext: str | None) -> str:
    key = (plaintext or "").strip()
    if not key:
        raise ValidationError("Paste the API key.", field="key")
    if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(
            f"An API key is {MIN_KEY_LENGTH}–{MAX_KEY_LENGTH} characters long.", field="key"
        )
    # Printable ASCII only: anything else can't be sent in a header, and would be a paste error.
    if not all(33 <= ord(c) <= 126 for c in key):
        raise ValidationError(
            "An API key has no spaces or special characters — check the paste.", field="key"
        )
    return key


def validate_model(provider: Provider, model: str, field: str = "defaultModel") -> str:
    """Refuse a model outside the provider's allowlist. The message never repeats the input:
    a key pasted into the wrong field must not come back in the answer."""
    if not provider.allows(model):
        raise ValidationError(
            f"Choose one of {provider.name}'s allowed models: {', '.join(provider.models)}.",
            field=field,
        )
    return model


def save_key(
    settings: Settings,
    user: User,
    provider_id: str,
    plaintext: str | None,
    default_model: str | None = None,
) -> ProviderKey:
    """Test & Save: store ``plaintext`` only after the provider accepts it.

    On rejection (InvalidKey) or a transient failure (ProviderUnavailable) nothing is written,
    and a previously stored key stays as it was. Without ``default_model`` a new key gets the
    provider's default and a replaced key keeps its current one.
    """
    provider = provider_or_404(settings, provider_id)
    plaintext = _validate_plaintext(plaintext)
    existing = get_key(user, provider.id)
    model = default_model or (existing.default_model if existing else provider.default_model)
    validate_model(provider, model)

    # The provider call happens outside any transaction: no lock is held while we wait.
    outcome = test_key(provider, plaintext, settings.provider_timeout)
    if outcome.kind == "rejected":
        raise InvalidKey(f"{outcome.detail}. Nothing was saved.", field="key")
    if outcome.kind != "accepted":
        raise ProviderUnavailable(f"{outcome.detail}. Nothing was saved.")

    now = utcnow()
    values = {
        ProviderKey.sealed_key: settings.vault.seal(plaintext, key_context(user.id, provider.id)),
        ProviderKey.key_hint: key_hint(plaintext),
        ProviderKey.default_model: model,
        ProviderKey.last_result: "accepted",
        ProviderKey.last_tested_at: now,
        ProviderKey.last_success_at: now,
        ProviderKey.last_attempt_at: now,
        ProviderKey.last_error: None,
        ProviderKey.last_attempt_transient: False,
        ProviderKey.available_models_json: _available_json(provider, outcome),
        ProviderKey.updated_at: now,
    }
    with db.atomic():
        # An upsert keeps the row (and its primary key) on replace, and lets two concurrent
        # replaces end with exactly one row holding one of the submitted keys.
        (
            ProviderKey.insert({**values, ProviderKey.user: user, ProviderKey.provider:
                                provider.id, ProviderKey.created_at: now})
            .on_conflict(
                conflict_target=[ProviderKey.user, ProviderKey.provider],
                update=values,
            )
            .execute()
        )
        _audit(user, "key.replaced" if existing else "key.connected", provider.id)
    return get_key(user, provider.id)


def _available_json(provider: Provider, outcome: KeyTestOutcome) -> str | None:
    """The allowlisted models the provider listed for this key (None if it listed nothing)."""
    if outcome.models is None:
        return None
    offered = set(outcome.models)
    return ProviderKey.encode_models([m for m in provider.models if m in offered])


def set_default_model(
    settings: Settings, user: User, provider_id: str, model: str | None
) -> ProviderKey:
    """Change only the default model: no provider call, no encryption."""
    provider = provider_or_404(settings, provider_id)
    key = _stored_or_404(user, provider)
    validate_model(provider, model or "")
    with db.atomic():
        key.default_model = model
        key.updated_at = utcnow()
        key.save(only=[ProviderKey.default_model, ProviderKey.updated_at])
        _audit(user, "key.default_model", provider.id)
    return key


def retest_key(settings: Settings, user: User, provider_id: str) -> ProviderKey:
    """Test the stored key again and record what the provider said.

    A conclusive answer updates the status. A transient one changes no status, records the
    notice, and raises ProviderUnavailable after recording it.
    """
    provider = provider_or_404(settings, provider_id)
    key = _stored_or_404(user, provider)
    try:
        plaintext = settings.vault.open_sealed(key.sealed_key, key_context(user.id, provider.id))
    except VaultError as error:
        log.error("stored %s key of user %s can't be opened: %s", provider.id, user.id, error)
        raise KeyUnreadable(
            f"The stored {provider.name} key can't be decrypted with this server's master key. "
            "Replace it."
        ) from None

    outcome = test_key(provider, plaintext, settings.provider_timeout)
    del plaintext
    now = utcnow()
    key.last_attempt_at = now
    key.updated_at = now
    key.last_attempt_transient = not outcome.conclusive
    if outcome.conclusive:
        key.last_result = outcome.kind
        key.last_tested_at = now
        if outcome.kind == "accepted":
            key.last_success_at = now
            key.last_error = None
            key.available_models_json = _available_json(provider, outcome)
        else:
            key.last_error = outcome.detail
    else:
        key.last_error = f"Couldn't reach {provider.name} — status unchanged ({outcome.detail})"
    with db.atomic():
        key.save()
        _audit(user, "key.tested", provider.id)
    if not outcome.conclusive:
        raise ProviderUnavailable(key.last_error)
    return key


def remove_key(settings: Settings, user: User, provider_id: str) -> list[EnvironmentRef]:
    """Delete the key and detach every environment using it, in one transaction.

    Detached environments fall back to the system Mistral key. Returns what was detached.
    """
    provider = provider_or_404(settings, provider_id)
    with db.atomic():
        key = _stored_or_404(user, provider)
        detached = environments_using([key])[key.id]
        (
            Environment.update(provider_key=None, model=None)
            .where(Environment.provider_key == key)
            .execute()
        )
        key.delete_instance()
        _audit(user, "key.removed", provider.id)
    return detached
