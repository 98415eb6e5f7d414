"""The OpenAPI 3.1 document of /api/v1, built from the provider registry at request time."""

from __future__ import annotations

from typing import get_args

from tracore.environments import MAX_NAME, Source
from tracore.keys import MAX_KEY_LENGTH, MIN_KEY_LENGTH, STATUS_LABELS
from tracore.models import MAX_ID
from tracore.providers import Registry
from tracore.runs import MAX_INPUT

ERROR_CODES = {
    400: ("bad_request or invalid_key", "Malformed JSON, or the provider rejected the key."),
    401: ("unauthorized", "Missing, unknown or revoked API token."),
    404: ("not_found", "No such resource for this token's user."),
    409: ("key_unreadable", "The stored key can't be decrypted with this server's master key."),
    413: ("payload_too_large", "The body is over 64 KiB."),
    422: ("validation_error", "The input was refused; the message names the field."),
    429: ("rate_limited", "Over the per-user provider-test budget; see Retry-After."),
    502: ("provider_unavailable", "The provider could not be reached; nothing changed."),
    503: ("queue_unavailable", "The run could not be queued; it was marked failed."),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _data(schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": schema},
        "additionalProperties": False,
    }


def _ok(description: str, schema: dict, status: int = 200) -> dict:
    return {str(status): {"description": description,
                          "content": {"application/json": {"schema": _data(schema)}}}}


def _errors(*statuses: int) -> dict:
    return {
        str(s): {"description": f"{ERROR_CODES[s][0]}: {ERROR_CODES[s][1]}",
                 "content": {"application/json": {"schema": _ref("Error")}}}
        for s in (401, *statuses)
    }


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


SLUG = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64}
NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "[A-Za-z0-9]"}
TIME = {"type": ["string", "null"], "format": "date-time"}


def build_document(registry: Registry) -> dict:
    """The whole document; provider ids and models come from the (configured) registry."""
    provider_ids = [p.id for p in registry]
    all_models = sorted({m for p in registry for m in p.models})
    provider = _path_param("provider", {"type": "string", "enum": provider_ids}, "Provider id.")
    ws = _path_param("ws", SLUG, "Workspace slug.")
    env = _path_param("env", SLUG, "Environment slug.")
    ref_schema = {
        "type": "object", "required": ["workspace", "environment"],
        "properties": {"workspace": SLUG, "environment": SLUG}, "additionalProperties": False,
    }
    schemas = {
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }},
        },
        "EnvironmentRef": ref_schema,
        "ProviderKey": {
            "type": "object", "additionalProperties": False,
            "required": ["provider", "defaultModel", "status", "keyHint", "residency",
                         "models", "availableModels", "lastTestedAt", "lastSuccessAt",
                         "lastError", "createdAt", "updatedAt", "environments"],
            "properties": {
                "provider": {"type": "string", "enum": provider_ids},
                "defaultModel": {"type": "string"},
                "status": {"type": "string", "enum": list(STATUS_LABELS)},
                "keyHint": {"type": "string", "description": "… and the last 4 characters."},
                "residency": {"type": "string"},
                "models": {"type": "array", "items": {"type": "string"}},
                "availableModels": {"type": ["array", "null"], "items": {"type": "string"}},
                "lastTestedAt": TIME, "lastSuccessAt": TIME,
                "lastError": {"type": ["string", "null"]},
                "createdAt": TIME, "updatedAt": TIME,
                "environments": {"type": "array", "items": _ref("EnvironmentRef")},
            },
        },
        "ProviderKeyInput": {
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "description": "key (with an optional defaultModel) connects or replaces with a "
                           "provider test; defaultModel alone changes only the default model.",
            "properties": {
                "key": {"type": "string", "minLength": MIN_KEY_LENGTH,
                        "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
                "defaultModel": {"type": "string", "enum": all_models},
            },
        },
        "RemovedKey": {
            "type": "object", "additionalProperties": False,
            "required": ["provider", "detachedEnvironments"],
            "properties": {"provider": {"type": "string"},
                           "detachedEnvironments": {"type": "array",
                                                    "items": _ref("EnvironmentRef")}},
        },
        "Workspace": {
            "type": "object", "additionalProperties": False, "required": ["slug", "name"],
            "properties": {"slug": SLUG, "name": {"type": "string"}},
        },
        "NameInput": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {"name": NAME},
        },
        "Environment": {
            "type": "object", "additionalProperties": False,
            "required": ["workspace", "slug", "name", "provider", "model", "effective"],
            "properties": {
                "workspace": SLUG, "slug": SLUG, "name": {"type": "string"},
                "provider": {"type": ["string", "null"]},
                "model": {"type": ["string", "null"]},
                "effective": {
                    "type": "object", "additionalProperties": False,
                    "required": ["provider", "model", "source"],
                    "properties": {
                        "provider": {"type": "string"}, "model": {"type": "string"},
                        "source": {"type": "string", "enum": list(get_args(Source))},
                    },
                },
            },
        },
        "Run": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "workspace", "environment", "status", "provider", "model",
                         "usesSystemKey", "output", "error", "createdAt", "finishedAt"],
            "properties": {
                "id": {"type": "integer"}, "workspace": SLUG, "environment": SLUG,
                "status": {"type": "string",
                           "enum": ["queued", "running", "succeeded", "failed"]},
                "provider": {"type": "string"}, "model": {"type": "string"},
                "usesSystemKey": {"type": "boolean"},
                "output": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
                "createdAt": TIME, "finishedAt": TIME,
            },
        },
        "RunInput": {
            "type": "object", "additionalProperties": False, "required": ["input"],
            "properties": {"input": {"type": "string", "minLength": 1, "maxLength": MAX_INPUT,
                                     "pattern": "\\S"}},
        },
        "EnvironmentInput": {
            "type": "object", "additionalProperties": False, "required": ["provider"],
            "properties": {
                "provider": {"type": ["string", "null"], "enum": [*provider_ids, None]},
                "model": {"type": ["string", "null"], "enum": [*all_models, None]},
            },
        },
    }
    keys_item = "/user/provider-keys/{provider}"
    env_item = "/workspaces/{ws}/environments/{env}"
    paths = {
        "/user/provider-keys": {"get": {
            "operationId": "listProviderKeys", "summary": "The user's stored keys.",
            "responses": {**_ok("Stored keys", {"type": "array",
                                                "items": _ref("ProviderKey")}), **_errors()},
        }},
        keys_item: {
            "parameters": [provider],
            "put": {
                "operationId": "setProviderKey",
                "summary": "Connect or replace (atomic test and save), or set the default "
                           "model only (no provider call).",
                "requestBody": _body(_ref("ProviderKeyInput")),
                "responses": {**_ok("The stored key", _ref("ProviderKey")),
                              **_errors(400, 404, 413, 422, 429, 502)},
            },
            "delete": {
                "operationId": "removeProviderKey",
                "summary": "Remove the key; environments using it fall back to the system key.",
                "responses": {**_ok("Removed", _ref("RemovedKey")), **_errors(404)},
            },
        },
        keys_item + "/test": {
            "parameters": [provider],
            "post": {
                "operationId": "testProviderKey", "summary": "Test the stored key again.",
                "responses": {**_ok("The key with its new status", _ref("ProviderKey")),
                              **_errors(404, 409, 429, 502)},
            },
        },
        "/workspaces": {
            "get": {"operationId": "listWorkspaces", "summary": "The user's workspaces.",
                    "responses": {**_ok("Workspaces", {"type": "array",
                                                       "items": _ref("Workspace")}),
                                  **_errors()}},
            "post": {"operationId": "createWorkspace", "summary": "Create a workspace.",
                     "requestBody": _body(_ref("NameInput")),
                     "responses": {**_ok("Created", _ref("Workspace"), 201),
                                   **_errors(400, 413, 422)}},
        },
        "/workspaces/{ws}/environments": {
            "parameters": [ws],
            "get": {"operationId": "listEnvironments", "summary": "A workspace's environments.",
                    "responses": {**_ok("Environments", {"type": "array",
                                                         "items": _ref("Environment")}),
                                  **_errors(404)}},
            "post": {"operationId": "createEnvironment", "summary": "Create an environment.",
                     "requestBody": _body(_ref("NameInput")),
                     "responses": {**_ok("Created", _ref("Environment"), 201),
                                   **_errors(400, 404, 413, 422)}},
        },
        env_item: {
            "parameters": [ws, env],
            "get": {"operationId": "getEnvironment", "summary": "One environment.",
                    "responses": {**_ok("The environment", _ref("Environment")),
                                  **_errors(404)}},
            "put": {"operationId": "assignEnvironment",
                    "summary": "Assign one of the user's keys and an optional model, or null "
                               "for the system fallback.",
                    "requestBody": _body(_ref("EnvironmentInput")),
                    "responses": {**_ok("The environment", _ref("Environment")),
                                  **_errors(400, 404, 413, 422)}},
        },
    }
    paths[env_item + "/runs"] = {
        "parameters": [ws, env],
        "post": {"operationId": "createRun",
                 "summary": "Enqueue a run; it snapshots the environment's provider, model "
                            "and key now.",
                 "requestBody": _body(_ref("RunInput")),
                 "responses": {**_ok("Queued", _ref("Run"), 202),
                               **_errors(400, 404, 409, 413, 422, 503)}},
    }
    paths["/runs/{run_id}"] = {
        "parameters": [_path_param("run_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                   "Run id.")],
        "get": {"operationId": "getRun", "summary": "One run.",
                "responses": {**_ok("The run", _ref("Run")), **_errors(404)}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tracore provider keys API",
            "version": "1",
            "description": "Bring-your-own provider keys. Errors are "
                           '{"error": {"code", "message"}}; no response ever contains a key.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API token from /profile or "
                                                          "`flask create-token`."}},
            "schemas": schemas,
        },
        "paths": paths,
    }
