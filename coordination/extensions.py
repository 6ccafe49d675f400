"""Flask extensions, created here and bound to an app in ``create_app`` with ``init_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
