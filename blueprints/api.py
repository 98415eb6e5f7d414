"""JSON API v1: bearer tokens, camelCase, ``{"data": …}`` or ``{"error": {code, message}}``.

Every route calls the same domain functions as the web UI; this module only parses,
serialises, and maps errors to the SPEC's codes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from tracore import accounts, environments, keys, runs
from tracore.errors import DomainError, RateLimited, ValidationError
from tracore.keys import EnvironmentRef, KeyCard

from . import provider_test_limit, retry_after_seconds, settings
from .openapi import build_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Query parameters someone might use to pass a token: refused, tokens end up in logs there.
_TOKEN_PARAMS = {"token", "access_token", "api_key", "apikey", "key"}


def error_response(code: str, message: str, status: int, headers: dict | None = None):
    return jsonify(error={"code": code, "message": message}), status, headers or {}


@bp.get("/openapi.json")
def openapi_document():
    """The API's description; public, like any API reference."""
    return jsonify(build_document(settings().registry))


@bp.before_request
def authenticate():
    """Only ``Authorization: Bearer <token>`` authenticates; a session cookie does not."""
    if request.endpoint == "api.openapi_document":
        return None
    if _TOKEN_PARAMS & {name.lower() for name in request.args}:
        return error_response(
            "unauthorized", "Send the token in the Authorization header, not the URL.", 401
        )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return error_response(
            "unauthorized", "A valid API token is required (Authorization: Bearer <token>).",
            401, {"WWW-Authenticate": 'Bearer realm="tracore"'},
        )
    g.api_user = user


# --- input ----------------------------------------------------------------------------------

def _body(allowed: set[str]) -> dict[str, Any]:
    """The JSON object body, refusing anything else and fields this route does not know."""
    data = request.get_json(silent=True)
    if data is None:
        raw = request.get_data(cache=True)
        if raw.strip():
            raise _BadRequest("The body is not valid JSON.")
        data = {}
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.", field="body")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
            field=unknown[0],
        )
    return data


def _string(data: dict, name: str, *, required: bool = False, nullable: bool = False):
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required.", field=name)
        if name in data and not nullable:
            raise ValidationError(f"{name} must be a string.", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string.", field=name)
    return value


class _BadRequest(DomainError):
    code = "bad_request"
    status = 400


def _has_key_field() -> bool:
    data = request.get_json(silent=True)
    return isinstance(data, dict) and "key" in data


# --- output ---------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _refs(refs: tuple[EnvironmentRef, ...] | list[EnvironmentRef]) -> list[dict]:
    return [{"workspace": r.workspace, "environment": r.environment} for r in refs]


def key_json(card: KeyCard) -> dict:
    key, provider = card.key, card.provider
    return {
        "provider": provider.id,
        "defaultModel": key.default_model,
        "status": card.status,
        "keyHint": key.key_hint,
        "residency": provider.residency,
        "models": list(provider.models),
        "availableModels": card.available_models,
        "lastTestedAt": _iso(key.last_tested_at),
        "lastSuccessAt": _iso(key.last_success_at),
        "lastError": key.last_error,
        "createdAt": _iso(key.created_at),
        "updatedAt": _iso(key.updated_at),
        "environments": _refs(card.environments),
    }


def workspace_json(workspace) -> dict:
    return {"slug": workspace.slug, "name": workspace.name}


def environment_json(view: environments.EnvironmentView) -> dict:
    env, resolution = view.environment, view.resolution
    return {
        "workspace": env.workspace.slug,
        "slug": env.slug,
        "name": env.name,
        "provider": env.provider_key.provider if env.provider_key else None,
        "model": env.model,
        "effective": {
            "provider": resolution.provider,
            "model": resolution.model,
            "source": resolution.source,
        },
    }


def _key_response(provider: str, status: int = 200):
    card = keys.key_card(settings(), g.api_user, provider)
    return jsonify(data=key_json(card)), status


# --- provider keys --------------------------------------------------------------------------

@bp.get("/user/provider-keys")
def list_keys():
    cards = keys.key_cards(settings(), g.api_user, stored_only=True, with_environments=True)
    return jsonify(data=[key_json(card) for card in cards])


@bp.put("/user/provider-keys/<provider>")
@provider_test_limit(exempt_when=lambda: not _has_key_field())
def put_key(provider: str):
    keys.provider_or_404(settings(), provider)
    data = _body({"key", "defaultModel"})
    model = _string(data, "defaultModel")
    if "key" in data:
        keys.save_key(settings(), g.api_user, provider, _string(data, "key", required=True),
                      model)
    elif model is not None:
        keys.set_default_model(settings(), g.api_user, provider, model)
    else:
        raise ValidationError("Send a key, a defaultModel, or both.", field="key")
    return _key_response(provider)


@bp.post("/user/provider-keys/<provider>/test")
@provider_test_limit()
def test_key(provider: str):
    keys.retest_key(settings(), g.api_user, provider)
    return _key_response(provider)


@bp.delete("/user/provider-keys/<provider>")
def delete_key(provider: str):
    detached = keys.remove_key(settings(), g.api_user, provider)
    return jsonify(data={"provider": provider, "detachedEnvironments": _refs(detached)})


# --- workspaces and environments ------------------------------------------------------------

@bp.get("/workspaces")
def list_workspaces():
    views = environments.list_workspaces(settings(), g.api_user)
    return jsonify(data=[workspace_json(v.workspace) for v in views])


@bp.post("/workspaces")
def create_workspace():
    data = _body({"name"})
    workspace = environments.create_workspace(g.api_user, _string(data, "name", required=True))
    return jsonify(data=workspace_json(workspace)), 201


@bp.get("/workspaces/<ws>/environments")
def list_environments(ws: str):
    view = environments.workspace_view(settings(), g.api_user, ws)
    return jsonify(data=[environment_json(e) for e in view.environments])


@bp.post("/workspaces/<ws>/environments")
def create_environment(ws: str):
    data = _body({"name"})
    env = environments.create_environment(g.api_user, ws, _string(data, "name", required=True))
    return jsonify(data=environment_json(environments.view_environment(settings(), env))), 201


@bp.get("/workspaces/<ws>/environments/<env>")
def get_environment(ws: str, env: str):
    environment = environments.get_environment(g.api_user, ws, env)
    return jsonify(data=environment_json(environments.view_environment(settings(), environment)))


@bp.put("/workspaces/<ws>/environments/<env>")
def put_environment(ws: str, env: str):
    environments.get_environment(g.api_user, ws, env)  # 404 before judging the body
    data = _body({"provider", "model"})
    if "provider" not in data:
        raise ValidationError("provider is required (an id, or null for the fallback).",
                              field="provider")
    environment = environments.assign(
        settings(), g.api_user, ws, env,
        _string(data, "provider", nullable=True), _string(data, "model", nullable=True),
    )
    return jsonify(data=environment_json(environments.view_environment(settings(), environment)))


# --- runs -----------------------------------------------------------------------------------

def run_json(run) -> dict:
    return {
        "id": run.id,
        "workspace": run.workspace_slug,
        "environment": run.environment_slug,
        "status": run.status,
        "provider": run.provider,
        "model": run.model,
        "usesSystemKey": run.uses_system_key,
        "output": run.output,
        "error": run.error,
        "createdAt": _iso(run.created_at),
        "finishedAt": _iso(run.finished_at),
    }


@bp.post("/workspaces/<ws>/environments/<env>/runs")
def create_run(ws: str, env: str):
    environments.get_environment(g.api_user, ws, env)  # 404 before judging the body
    data = _body({"input"})
    queue = current_app.extensions["tracore.queue"]
    run = runs.enqueue(settings(), g.api_user, ws, env, _string(data, "input", required=True),
                       queue.submit)
    return jsonify(data=run_json(run)), 202


@bp.get("/runs/<int:run_id>")
def get_run(run_id: int):
    return jsonify(data=run_json(runs.get_run(g.api_user, run_id)))


# --- errors ---------------------------------------------------------------------------------

@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return error_response(error.code, error.message, error.status, headers)


@bp.errorhandler(429)
def rate_limited(_error):
    """Flask-Limiter's refusal, in the envelope with Retry-After."""
    return domain_error(RateLimited(retry_after_seconds()))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return api_http_error(error)


def api_http_error(error: HTTPException):
    """Any HTTP error under /api as the JSON envelope (also used for unknown /api paths)."""
    codes = {400: "bad_request", 401: "unauthorized", 404: "not_found",
             405: "method_not_allowed", 413: "payload_too_large", 415: "bad_request"}
    code = codes.get(error.code or 500, "validation_error" if error.code == 422 else "error")
    messages = {404: "Not found.", 405: "Method not allowed here.",
                413: "The body is too large.", 500: "Internal error."}
    message = messages.get(error.code or 500, error.description or "Error.")
    return error_response(code, message, error.code or 500)
