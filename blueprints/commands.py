"""The ``flask --app app …`` commands: schema, users, tokens."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracore import accounts, runs
from tracore.errors import DomainError
from tracore.models import db, migrate


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(create_token)
    app.cli.add_command(worker)


@click.command("init-db")
def init_db() -> None:
    """Create the schema, or upgrade it to this release's version. Safe to run again."""
    with db.connection_context():
        before, after = migrate()
    if before == after:
        click.echo(f"Database schema is up to date (version {after}).")
    else:
        click.echo(f"Database schema upgraded from version {before} to {after}.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.argument("email")
def create_user(email: str) -> None:
    """Create a user; the password is read from standard input when it is not a terminal."""
    password = _read_password()
    try:
        with db.connection_context():
            user = accounts.create_user(email, password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created user {user.email}.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A name to recognise it by.")
def create_token(email: str, name: str) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    try:
        with db.connection_context():
            user = accounts.get_user_by_email(email)
            _row, token = accounts.create_token(user, name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created token {name!r} for {user.email}. It is shown only once:", err=True)
    click.echo(token)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Runs executed at the same time.")
@with_appcontext
def worker(workers: int) -> None:
    """Execute queued runs until stopped (Ctrl-C or SIGTERM finishes the current runs)."""
    queue = current_app.extensions["tracore.queue"]
    with db.connection_context():
        requeued = runs.requeue_interrupted(queue.submit)
    if requeued:
        click.echo(f"Queued again {len(requeued)} run(s) an earlier worker left running.",
                   err=True)
    click.echo(f"Tracore worker: {workers} thread(s) on the run queue.", err=True)
    queue.consumer(workers).run()
