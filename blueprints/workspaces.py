"""/workspaces: workspaces, environments, and what each environment runs with."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("workspaces", __name__, url_prefix="/workspaces")
bp.before_request(login_required(lambda: None))


@bp.get("")
def show():
    return render_template("workspaces.html")
