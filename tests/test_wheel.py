"""The built wheel carries templates, static files, migrations and translations, and serves a page
from them when installed on its own (no dependencies, into a temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

SERVE_FROM_WHEEL = r"""
import sys
from pathlib import Path
site = Path(sys.argv[1]).resolve()
import coordination
assert Path(coordination.__file__).resolve().is_relative_to(site), coordination.__file__
from coordination.app import create_app
from coordination.migrate import upgrade
from coordination.resources import migrations_dir, templates_dir
assert templates_dir().is_relative_to(site) and migrations_dir().is_relative_to(site)
url = "sqlite:///" + str(Path(sys.argv[2]) / "wheel.sqlite")
upgrade(url)
app = create_app({"ENVIRONMENT": "test", "DATABASE_URL": url, "INSTANCE_PATH": sys.argv[2],
                  "SECRET_KEY": "w" * 40, "IDENTITY_HASH_KEY": "h" * 40, "IDENTITY_ENCRYPTION_KEY": sys.argv[3]})
client = app.test_client()
page = client.get("/login")
assert page.status_code == 200, page.status_code
assert "Logga in i Barnkompass" in page.get_data(as_text=True)
assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
assert client.get("/healthz").status_code == 200
print("served from the wheel")
"""


def test_installed_wheel_serves_a_page(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list(dist.glob("barnkompass-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    for expected in (
        "coordination/templates/base.html",
        "coordination/static/vendor/htmx/htmx.min.js",
        "coordination/migrations/env.py",
        "coordination/translations/sv/LC_MESSAGES/messages.mo",
        "childplan/compass.py",
        "agencies/models.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith("tests/") for name in names)

    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheels[0])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    workdir = tmp_path / "run"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("BARNKOMPASS_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", SERVE_FROM_WHEEL, str(site), str(workdir), Fernet.generate_key().decode()],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "served from the wheel" in run.stdout
