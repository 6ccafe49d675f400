"""Configuration: defaults, then ``BARNKOMPASS_*`` environment variables, then the mapping passed to
``create_app`` (tests), validated once at the end.

Production refuses to start without its secret keys or with demo mode on; development generates the
keys into ``instance/`` on first start.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "production", "test")

DEFAULTS: dict[str, Any] = {
    "ENVIRONMENT": "development",
    "DEMO_MODE": False,
    "DATABASE_URL": None,  # default: SQLite file under instance/
    "SECRET_KEY": None,
    "IDENTITY_ENCRYPTION_KEY": None,
    "IDENTITY_HASH_KEY": None,
    "TIME_ZONE": "Europe/Stockholm",
    "DEFAULT_LANGUAGE": "sv",
    "LANGUAGES": ("sv", "en"),
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "LOGIN_FREE_ATTEMPTS": 5,
    "LOGIN_MAX_DELAY_SECONDS": 900,
    "LOG_LEVEL": "INFO",
    "LOG_FILE": None,
    "ALLOW_DEMO_LOGINS_IN_TEST": True,
    "SWITCHBOARD_PHONE": "0771-00 00 00",
    "PROXY_HOPS": 0,
    # The youngest age at which staff may record a young person as mature enough to decide about consent
    # for an agency (RULES.md §3); evaluation ignores such an assessment for a younger child.
    "MATURITY_MIN_AGE": 12,
    # Concerns or signals about one child from two agencies within this many days raise a matching alert
    # to the Child Contact (RULES.md §5).
    "CONCERN_MATCH_WINDOW_DAYS": 14,
    # Werkzeug's password-hash method. Only the test configuration may lower scrypt's cost (set through the
    # mapping, never the environment), so that a suite logging in a few thousand times stays fast.
    "PASSWORD_HASH_METHOD": "scrypt",
}

# Keys read from the environment (BARNKOMPASS_<KEY>) and how to convert them.
_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
    "": False,
}


def _convert(key: str, text: str) -> Any:
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        if text.strip().lower() not in _BOOL:
            raise ConfigError(f"BARNKOMPASS_{key} must be true or false")
        return _BOOL[text.strip().lower()]
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError as exc:
            raise ConfigError(f"BARNKOMPASS_{key} must be a whole number") from exc
    if isinstance(default, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the app refuses to start."""


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    config: dict[str, Any] = dict(DEFAULTS)
    for key in DEFAULTS:
        value = os.environ.get(f"BARNKOMPASS_{key}")
        if value is not None:
            config[key] = _convert(key, value)
    if config["ENVIRONMENT"] == "test":
        # The test configuration loosens demo rules (RULES.md §10); only the test suite's own
        # mapping may choose it, never the environment of a deployed server.
        raise ConfigError("BARNKOMPASS_ENVIRONMENT=test is refused: the test configuration is for the test suite")
    environment_given = "BARNKOMPASS_ENVIRONMENT" in os.environ or bool(overrides and "ENVIRONMENT" in overrides)
    if overrides:
        config.update(overrides)

    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'barnkompass.sqlite'}"
    if not str(config["DATABASE_URL"]).startswith("sqlite") and not environment_given and not config["DEMO_MODE"]:
        # Fail closed: a server on PostgreSQL that forgot BARNKOMPASS_ENVIRONMENT would otherwise run
        # as development, with generated keys, no HSTS and no secure cookies.
        raise ConfigError("Set BARNKOMPASS_ENVIRONMENT (production, or development) when using PostgreSQL")
    if config["ENVIRONMENT"] == "development":
        _fill_development_keys(instance_path, config)
    validate(config)
    return config


def _fill_development_keys(instance_path: Path, config: dict[str, Any]) -> None:
    """Development only: generate the secret keys once into instance/keys.json."""
    missing = [k for k in ("SECRET_KEY", "IDENTITY_ENCRYPTION_KEY", "IDENTITY_HASH_KEY") if not config[k]]
    if not missing:
        return
    path = instance_path / "keys.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    changed = False
    for key, make in (
        ("SECRET_KEY", lambda: secrets.token_urlsafe(48)),
        ("IDENTITY_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode()),
        ("IDENTITY_HASH_KEY", lambda: secrets.token_urlsafe(48)),
    ):
        if key not in stored:
            stored[key] = make()
            changed = True
        if not config[key]:
            config[key] = stored[key]
    if changed:
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle, indent=2)


def is_loopback_host(host: str) -> bool:
    return host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")


def validate(config: Mapping[str, Any]) -> None:
    env = config["ENVIRONMENT"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}")
    for key in ("SECRET_KEY", "IDENTITY_ENCRYPTION_KEY", "IDENTITY_HASH_KEY"):
        if not config.get(key):
            raise ConfigError(f"BARNKOMPASS_{key} is required")
        if len(str(config[key]).strip()) < 32:
            raise ConfigError(f"BARNKOMPASS_{key} is too short (at least 32 characters)")
    try:
        Fernet(str(config["IDENTITY_ENCRYPTION_KEY"]).encode())
    except (ValueError, TypeError) as exc:
        raise ConfigError("BARNKOMPASS_IDENTITY_ENCRYPTION_KEY must be a Fernet key") from exc
    if env == "production" and config["DEMO_MODE"]:
        raise ConfigError("Demo mode is not allowed in production")
    url = str(config["DATABASE_URL"])
    if config["DEMO_MODE"] and env != "test" and not url.startswith("sqlite"):
        raise ConfigError("Demo mode runs on SQLite only; it refuses a PostgreSQL database")
    if config["DEFAULT_LANGUAGE"] not in config["LANGUAGES"]:
        raise ConfigError("DEFAULT_LANGUAGE must be one of LANGUAGES")
    if int(config["SESSION_IDLE_MINUTES"]) <= 0 or int(config["SESSION_ABSOLUTE_HOURS"]) <= 0:
        raise ConfigError("Session timeouts must be positive")
    if not 1 <= int(config["MATURITY_MIN_AGE"]) <= 18:
        raise ConfigError("MATURITY_MIN_AGE must be a whole number of years from 1 to 18")
    if config["PASSWORD_HASH_METHOD"] != "scrypt" and (
        env != "test" or not str(config["PASSWORD_HASH_METHOD"]).startswith("scrypt:")
    ):
        raise ConfigError("PASSWORD_HASH_METHOD is scrypt; only the test configuration may lower its cost")
    window = config["CONCERN_MATCH_WINDOW_DAYS"]
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        raise ConfigError("CONCERN_MATCH_WINDOW_DAYS must be a positive whole number of days")
