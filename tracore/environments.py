"""Workspaces, their environments, and which provider, model and key each one runs with.

Resolution (SPEC §4.6): an environment with a key uses that key's provider and either its
own model override or the key's default model; without a key it uses the operator's system
Mistral key and ``TRACORE_SYSTEM_MISTRAL_MODEL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from peewee import JOIN, IntegrityError

from .errors import NotFound, ValidationError
from .keys import get_key, key_status, validate_model
from .models import Environment, ProviderKey, User, Workspace, db, utcnow
from .settings import Settings

Source = Literal["environment", "profile_default", "system_fallback"]
MAX_NAME = 100
MAX_SLUG = 64


def slugify(name: str) -> str:
    """Lower-case, runs of anything but letters and digits become ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG].strip("-")


def _clean_name(name: str | None, what: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationError(f"Give the {what} a name.", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"A {what} name is at most {MAX_NAME} characters.", field="name")
    slug = slugify(name)
    if not slug:
        raise ValidationError(
            f"A {what} name needs at least one letter or digit.", field="name"
        )
    return name, slug


@dataclass(frozen=True)
class Resolution:
    """What an environment runs with, and why."""

    provider: str
    model: str
    source: Source
    key: ProviderKey | None  # None: the system Mistral key serves

    @property
    def uses_system_key(self) -> bool:
        return self.key is None


def resolve_environment(settings: Settings, environment: Environment) -> Resolution:
    """The effective provider, model and key of ``environment`` (SPEC §4.6)."""
    key = environment.provider_key
    if key is None:
        return Resolution("mistral", settings.system_mistral_model, "system_fallback", None)
    if environment.model:
        return Resolution(key.provider, environment.model, "environment", key)
    return Resolution(key.provider, key.default_model, "profile_default", key)


@dataclass(frozen=True)
class EnvironmentView:
    """An environment with its resolution and, when a key serves, that key's status."""

    environment: Environment
    resolution: Resolution
    key_status: str | None

    @property
    def needs_attention(self) -> bool:
        return self.key_status in ("invalid", "not_tested")


@dataclass(frozen=True)
class WorkspaceView:
    workspace: Workspace
    environments: list[EnvironmentView]


# --- reading ---------------------------------------------------------------------------------

def get_workspace(user: User, slug: str) -> Workspace:
    workspace = Workspace.get_or_none(Workspace.owner == user, Workspace.slug == slug)
    if workspace is None:
        raise NotFound("No such workspace.")
    return workspace


def get_environment(user: User, workspace_slug: str, slug: str) -> Environment:
    """One of the user's environments, with its workspace and key loaded in the same query."""
    environment = (
        Environment.select(Environment, Workspace, ProviderKey)
        .join(Workspace)
        .switch(Environment)
        .join(ProviderKey, JOIN.LEFT_OUTER)
        .where(
            Workspace.owner == user, Workspace.slug == workspace_slug, Environment.slug == slug
        )
        .first()
    )
    if environment is None:
        raise NotFound("No such environment.")
    return environment


def view_environment(settings: Settings, environment: Environment) -> EnvironmentView:
    key = environment.provider_key
    now = utcnow()
    return EnvironmentView(
        environment, resolve_environment(settings, environment),
        key_status(key, now) if key else None,
    )


def list_workspaces(
    settings: Settings, user: User, *, slug: str | None = None
) -> list[WorkspaceView]:
    """The user's workspaces (or the one with ``slug``) with their resolved environments:
    two queries, whatever the number of environments."""
    query = Workspace.select().where(Workspace.owner == user)
    if slug is not None:
        query = query.where(Workspace.slug == slug)
    workspaces = list(query.order_by(Workspace.name, Workspace.id))
    by_id = {w.id: WorkspaceView(w, []) for w in workspaces}
    if not workspaces:
        return []
    environments = (
        Environment.select(Environment, ProviderKey)
        .join(ProviderKey, JOIN.LEFT_OUTER)
        .where(Environment.workspace.in_(list(by_id)))
        .order_by(Environment.name, Environment.id)
    )
    for environment in environments:
        view = by_id[environment.workspace_id]
        environment.workspace = view.workspace  # already loaded: no query per row
        view.environments.append(view_environment(settings, environment))
    return list(by_id.values())


def workspace_view(settings: Settings, user: User, slug: str) -> WorkspaceView:
    found = list_workspaces(settings, user, slug=slug)
    if not found:
        raise NotFound("No such workspace.")
    return found[0]


# --- writing ---------------------------------------------------------------------------------

def create_workspace(user: User, name: str | None) -> Workspace:
    name, slug = _clean_name(name, "workspace")
    try:
        with db.atomic():
            return Workspace.create(owner=user, name=name, slug=slug)
    except IntegrityError:
        raise ValidationError(
            f"You already have a workspace called {name!r} (or one whose address is {slug!r}).",
            field="name",
        ) from None


def rename_workspace(user: User, slug: str, name: str | None) -> Workspace:
    workspace = get_workspace(user, slug)
    workspace.name, workspace.slug = _clean_name(name, "workspace")
    try:
        with db.atomic():
            workspace.save()
    except IntegrityError:
        raise ValidationError("You already have a workspace with that name.",
                              field="name") from None
    return workspace


def delete_workspace(user: User, slug: str) -> None:
    """Delete a workspace and its environments together."""
    with db.atomic():
        workspace = get_workspace(user, slug)
        Environment.delete().where(Environment.workspace == workspace).execute()
        workspace.delete_instance()


def create_environment(user: User, workspace_slug: str, name: str | None) -> Environment:
    workspace = get_workspace(user, workspace_slug)
    name, slug = _clean_name(name, "environment")
    try:
        with db.atomic():
            environment = Environment.create(workspace=workspace, name=name, slug=slug)
    except IntegrityError:
        raise ValidationError(
            f"{workspace.name} already has an environment called {name!r}.", field="name"
        ) from None
    environment.workspace = workspace
    return environment


def rename_environment(
    user: User, workspace_slug: str, slug: str, name: str | None
) -> Environment:
    environment = get_environment(user, workspace_slug, slug)
    environment.name, environment.slug = _clean_name(name, "environment")
    try:
        with db.atomic():
            environment.save(only=[Environment.name, Environment.slug])
    except IntegrityError:
        raise ValidationError("This workspace already has an environment with that name.",
                              field="name") from None
    return environment


def delete_environment(user: User, workspace_slug: str, slug: str) -> None:
    environment = get_environment(user, workspace_slug, slug)
    environment.delete_instance()


def assign(
    settings: Settings,
    user: User,
    workspace_slug: str,
    slug: str,
    provider_id: str | None,
    model: str | None,
) -> Environment:
    """Give an environment one of the user's stored keys and an optional model override,
    or (no provider) return it to the system fallback."""
    environment = get_environment(user, workspace_slug, slug)
    if not provider_id:
        if model:
            raise ValidationError("Choose a key before choosing a model.", field="model")
        key, model = None, None
    else:
        provider = settings.registry.get(provider_id)
        if provider is None:
            raise ValidationError("Unknown provider.", field="provider")
        key = get_key(user, provider.id)
        if key is None:
            raise ValidationError(
                f"You have no {provider.name} key stored — connect one on your profile first.",
                field="provider",
            )
        if model:
            validate_model(provider, model, field="model")
    environment.provider_key = key
    environment.model = model or None
    with db.atomic():
        environment.save(only=[Environment.provider_key, Environment.model])
    return environment
