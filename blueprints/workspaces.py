"""/workspaces: workspaces, environments, and what each environment runs with."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from tracore import environments, keys, runs
from tracore.errors import DomainError, NotFound

from . import settings, signed_in_user

bp = Blueprint("workspaces", __name__, url_prefix="/workspaces")
bp.before_request(login_required(lambda: None))


def _listing(error: DomainError | None = None, status: int = 200):
    user = signed_in_user()
    return render_template(
        "_workspaces.html",
        workspaces=environments.list_workspaces(settings(), user),
        stored_keys=keys.key_cards(settings(), user, stored_only=True),
        error=error,
    ), status


def _workspace(slug: str, error: DomainError | None = None, status: int = 200,
               renaming: bool = False):
    user = signed_in_user()
    return render_template(
        "_workspace.html", ws=environments.workspace_view(settings(), user, slug),
        stored_keys=keys.key_cards(settings(), user, stored_only=True), error=error,
        renaming=renaming,
    ), status


def _row(ws: str, env: str, *, draft_provider: str | None = None,
         error: DomainError | None = None, status: int = 200, renaming: bool = False):
    """One environment row; ``draft_provider`` shows the assign form with another provider
    chosen (and its models) before it is saved."""
    user = signed_in_user()
    view = environments.view_environment(
        settings(), environments.get_environment(user, ws, env)
    )
    return render_template(
        "_env_row.html", view=view, stored_keys=keys.key_cards(settings(), user,
                                                               stored_only=True),
        draft_provider=draft_provider, error=error, renaming=renaming,
    ), status


@bp.get("")
def show():
    body, _ = _listing()
    return render_template("workspaces.html", listing=body,
                           runs=runs.recent_runs(signed_in_user()))


@bp.post("")
def create_workspace():
    environments.create_workspace(signed_in_user(), request.form.get("name"))
    return _listing()


@bp.delete("/<ws>")
def delete_workspace(ws: str):
    environments.delete_workspace(signed_in_user(), ws)
    return _listing()


@bp.get("/<ws>")
def workspace_section(ws: str):
    return _workspace(ws)


@bp.get("/<ws>/rename")
def rename_workspace_form(ws: str):
    return _workspace(ws, renaming=True)


@bp.put("/<ws>/name")
def rename_workspace(ws: str):
    workspace = environments.rename_workspace(signed_in_user(), ws, request.form.get("name"))
    return _workspace(workspace.slug)


@bp.post("/<ws>/environments")
def create_environment(ws: str):
    environments.create_environment(signed_in_user(), ws, request.form.get("name"))
    return _workspace(ws)


@bp.get("/<ws>/environments/<env>")
def environment_row(ws: str, env: str):
    return _row(ws, env, draft_provider=request.args.get("provider"))


@bp.put("/<ws>/environments/<env>")
def assign(ws: str, env: str):
    environments.assign(
        settings(), signed_in_user(), ws, env,
        request.form.get("provider") or None, request.form.get("model") or None,
    )
    return _row(ws, env)


@bp.get("/<ws>/environments/<env>/rename")
def rename_environment_form(ws: str, env: str):
    return _row(ws, env, renaming=True)


@bp.put("/<ws>/environments/<env>/name")
def rename_environment(ws: str, env: str):
    environment = environments.rename_environment(
        signed_in_user(), ws, env, request.form.get("name")
    )
    return _row(ws, environment.slug)


@bp.delete("/<ws>/environments/<env>")
def delete_environment(ws: str, env: str):
    environments.delete_environment(signed_in_user(), ws, env)
    return _workspace(ws)


@bp.post("/<ws>/environments/<env>/runs")
def start_run(ws: str, env: str):
    queue = current_app.extensions["tracore.queue"]
    run = runs.enqueue(settings(), signed_in_user(), ws, env, request.form.get("input"),
                       queue.submit)
    return render_template("_run_row.html", run=run), 202


@bp.get("/runs/<int:run_id>")
def run_row(run_id: int):
    return render_template("_run_row.html", run=runs.get_run(signed_in_user(), run_id))


@bp.errorhandler(DomainError)
def workspace_error(error: DomainError):
    """Show the error in the element the request would have replaced; 404 stays a 404."""
    args = request.view_args or {}
    if isinstance(error, NotFound):
        return render_template("error.html", title="Not found", message=error.message), 404
    try:
        if request.endpoint == "workspaces.start_run":
            # The run list is the request's target; the error belongs beside the run form.
            body = render_template("_alert.html", code=error.code, message=error.message)
            return body, error.status, {
                "HX-Retarget": f"#run-error-{args['ws']}-{args['env']}",
                "HX-Reswap": "innerHTML",
            }
        if request.endpoint == "workspaces.rename_workspace":
            return _workspace(args["ws"], error=error, status=error.status, renaming=True)
        if request.endpoint == "workspaces.rename_environment":
            return _row(args["ws"], args["env"], error=error, status=error.status,
                        renaming=True)
        if request.endpoint == "workspaces.assign":
            return _row(args["ws"], args["env"], draft_provider=request.form.get("provider"),
                        error=error, status=error.status)
        if request.endpoint == "workspaces.create_environment":
            return _workspace(args["ws"], error=error, status=error.status)
        return _listing(error=error, status=error.status)
    except NotFound as missing:
        return render_template("error.html", title="Not found", message=missing.message), 404


@bp.context_processor
def _providers():
    return {
        "providers_by_id": {p.id: p for p in settings().registry},
        "system_model": settings().system_mistral_model,
    }
