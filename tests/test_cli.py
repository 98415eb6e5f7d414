"""The flask commands an operator uses."""

from tracore.accounts import authenticate, hash_token, user_for_token
from tracore.models import ApiToken, SchemaVersion, User, drop_schema


def test_init_db_creates_and_is_safe_to_run_again(app, runner):
    with app.app_context():
        drop_schema()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "upgraded from version 0 to 1" in first.output
    User.create(email="keep@example.com", password_hash="x")
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0
    assert "up to date (version 1)" in again.output
    assert User.select().count() == 1
    assert [v.version for v in SchemaVersion.select()] == [1]


def test_create_user_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "ops@example.com"], input="s3cret-password\n")
    assert result.exit_code == 0, result.output
    assert authenticate("ops@example.com", "s3cret-password") is not None


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-user", "ops@example.com"], input="short\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output


def test_create_token_prints_it_alone_on_the_last_line_and_keeps_only_its_hash(app, runner):
    runner.invoke(args=["create-user", "ops@example.com"], input="s3cret-password\n")
    result = runner.invoke(args=["create-token", "ops@example.com"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    stored = ApiToken.get()
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash
    assert user_for_token(token).email == "ops@example.com"


def test_create_token_for_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["create-token", "ghost@example.com"])
    assert result.exit_code != 0
    assert "No user" in result.output
