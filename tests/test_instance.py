"""A first run needs no configuration: secrets are generated once, private, and reused."""

import stat

import pytest

from app import create_app
from tracore.settings import ConfigError
from tracore.vault import MasterKeyError


def test_secrets_are_generated_once_with_mode_0600(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"TRACORE_INSTANCE_PATH": str(instance)})
    for name in ("master.key", "secret_key"):
        mode = stat.S_IMODE((instance / name).stat().st_mode)
        assert mode == 0o600, name
    second = create_app({"TRACORE_INSTANCE_PATH": str(instance)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["TRACORE_ENCRYPTION_KEY"] == second.config["TRACORE_ENCRYPTION_KEY"]
    assert first.config["TRACORE_DATABASE_URL"].endswith(str(instance / "tracore.db"))


def test_instance_config_file_then_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'TRACORE_PROVIDER_TIMEOUT = "3"\nTRACORE_ALLOW_SIGNUP = False\n'
    )
    monkeypatch.setenv("TRACORE_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("TRACORE_PROVIDER_TIMEOUT", "7")
    app = create_app()
    assert app.config["TRACORE_ALLOW_SIGNUP"] is False
    assert app.extensions["tracore"].provider_timeout == 7.0


def test_a_malformed_master_key_stops_start_up_with_a_clear_message(tmp_path):
    with pytest.raises(MasterKeyError) as caught:
        create_app({"TRACORE_INSTANCE_PATH": str(tmp_path), "TRACORE_ENCRYPTION_KEY": "nope"})
    assert "TRACORE_ENCRYPTION_KEY" in str(caught.value)


def test_a_nonsense_setting_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        create_app({"TRACORE_INSTANCE_PATH": str(tmp_path), "TRACORE_ALLOW_SIGNUP": "maybe"})


def test_a_lost_master_key_is_refused_when_sealed_keys_exist(tmp_path):
    from tracore.models import ProviderKey, User, migrate

    instance = tmp_path / "instance"
    database = f"sqlite:///{tmp_path / 'keep.db'}"
    app = create_app({"TRACORE_INSTANCE_PATH": str(instance), "TRACORE_DATABASE_URL": database})
    with app.app_context():
        migrate()
        user = User.create(email="a@example.com", password_hash="x")
        ProviderKey.create(user=user, provider="openai", key_hint="…abcd",
                           default_model="gpt-4o-mini", sealed_key=b"sealed")
    (instance / "master.key").unlink()  # the operator lost it (or moved the database)

    with pytest.raises(MasterKeyError) as caught:
        create_app({"TRACORE_INSTANCE_PATH": str(instance), "TRACORE_DATABASE_URL": database})
    assert "master.key was missing" in str(caught.value)
    assert not (instance / "master.key").exists()  # not silently kept for the next start
