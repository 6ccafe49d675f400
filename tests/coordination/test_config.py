"""Configuration is validated at start: production refuses to run without its secret keys or with demo
mode on; demo mode refuses PostgreSQL and non-loopback binds; development generates its keys once."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from coordination.config import ConfigError, load_config

GOOD_KEYS = {
    "SECRET_KEY": "s" * 48,
    "IDENTITY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "IDENTITY_HASH_KEY": "h" * 48,
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("BARNKOMPASS_") and key != "BARNKOMPASS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "IDENTITY_ENCRYPTION_KEY", "IDENTITY_HASH_KEY"])
def test_production_refuses_to_start_without_each_secret_key(tmp_path: Path, missing: str) -> None:
    keys = {k: v for k, v in GOOD_KEYS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(tmp_path, {"ENVIRONMENT": "production", **keys})
    assert not (tmp_path / "keys.json").exists(), "production never generates keys"


def test_production_refuses_demo_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Demo mode"):
        load_config(tmp_path, {"ENVIRONMENT": "production", "DEMO_MODE": True, **GOOD_KEYS})


def test_production_refuses_a_short_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too short"):
        load_config(tmp_path, {"ENVIRONMENT": "production", **{**GOOD_KEYS, "SECRET_KEY": "short"}})


def test_production_refuses_an_encryption_key_that_is_not_a_fernet_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Fernet"):
        load_config(tmp_path, {"ENVIRONMENT": "production", **{**GOOD_KEYS, "IDENTITY_ENCRYPTION_KEY": "x" * 44}})


def test_demo_mode_refuses_postgresql_outside_the_test_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SQLite"):
        load_config(tmp_path, {"DEMO_MODE": True, "DATABASE_URL": "postgresql://postgres@127.0.0.1/x", **GOOD_KEYS})
    config = load_config(
        tmp_path,
        {"ENVIRONMENT": "test", "DEMO_MODE": True, "DATABASE_URL": "postgresql://postgres@127.0.0.1/x", **GOOD_KEYS},
    )
    assert config["DEMO_MODE"] is True


def test_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ENVIRONMENT"):
        load_config(tmp_path, {"ENVIRONMENT": "staging", **GOOD_KEYS})


def test_environment_variables_are_read_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARNKOMPASS_DEMO_MODE", "maybe")
    with pytest.raises(ConfigError, match="BARNKOMPASS_DEMO_MODE"):
        load_config(tmp_path, GOOD_KEYS)
    monkeypatch.setenv("BARNKOMPASS_DEMO_MODE", "true")
    monkeypatch.setenv("BARNKOMPASS_SESSION_IDLE_MINUTES", "15")
    config = load_config(tmp_path, GOOD_KEYS)
    assert config["DEMO_MODE"] is True and config["SESSION_IDLE_MINUTES"] == 15


def test_the_test_mapping_overrides_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARNKOMPASS_SESSION_IDLE_MINUTES", "15")
    config = load_config(tmp_path, {"SESSION_IDLE_MINUTES": 5, **GOOD_KEYS})
    assert config["SESSION_IDLE_MINUTES"] == 5


def test_development_generates_its_keys_once_into_the_instance_folder(tmp_path: Path) -> None:
    first = load_config(tmp_path, None)
    second = load_config(tmp_path, None)
    path = tmp_path / "keys.json"
    stored = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for key in ("SECRET_KEY", "IDENTITY_ENCRYPTION_KEY", "IDENTITY_HASH_KEY"):
        assert first[key] == second[key] == stored[key]
        assert len(first[key]) >= 32
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'barnkompass.sqlite'}"


def test_demo_serve_refuses_a_non_loopback_bind(tmp_path: Path) -> None:
    from coordination.app import create_app

    app = create_app(
        {
            "DEMO_MODE": True,
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            **GOOD_KEYS,
        }
    )
    result = app.test_cli_runner().invoke(args=["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "only listens on this machine" in result.output


def test_the_test_configuration_cannot_be_chosen_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BARNKOMPASS_ENVIRONMENT", "test")
    with pytest.raises(ConfigError, match="test configuration"):
        load_config(tmp_path, GOOD_KEYS)


def test_postgresql_needs_an_explicit_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARNKOMPASS_DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    with pytest.raises(ConfigError, match="BARNKOMPASS_ENVIRONMENT"):
        load_config(tmp_path, None)
    assert not (tmp_path / "keys.json").exists(), "no keys generated for a server that did not say what it is"
    monkeypatch.setenv("BARNKOMPASS_ENVIRONMENT", "development")
    assert load_config(tmp_path, None)["ENVIRONMENT"] == "development"


def test_a_short_hash_key_is_refused_in_every_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too short"):
        load_config(tmp_path, {**GOOD_KEYS, "IDENTITY_HASH_KEY": "short"})


def test_flask_run_is_not_offered_so_demo_mode_cannot_listen_beyond_this_machine() -> None:
    from coordination.cli import main

    assert "run" not in main.commands and "serve" not in main.commands  # serve comes with the app
    assert {"shell", "routes"} <= set(main.commands)


def test_only_the_test_configuration_may_lower_the_password_hash_cost(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from coordination.config import ConfigError, load_config

    keys = {
        "SECRET_KEY": "s" * 40,
        "IDENTITY_ENCRYPTION_KEY": "aGVsbG8taGVsbG8taGVsbG8taGVsbG8taGVsbG8tISE=",
        "IDENTITY_HASH_KEY": "h" * 40,
    }
    for environment in ("production", "development"):
        with pytest.raises(ConfigError, match="PASSWORD_HASH_METHOD"):
            load_config(tmp_path, {"ENVIRONMENT": environment, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", **keys})
    with pytest.raises(ConfigError, match="PASSWORD_HASH_METHOD"):
        load_config(tmp_path, {"ENVIRONMENT": "test", "PASSWORD_HASH_METHOD": "plain", **keys})
    assert load_config(tmp_path, {"ENVIRONMENT": "test", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", **keys})
