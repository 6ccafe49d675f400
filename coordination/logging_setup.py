"""Logging with a request id on every line. Log lines never carry identity numbers, query strings or
form data: only the method, the path (opaque ids only) and the status."""

from __future__ import annotations

import logging
import sys

from flask import Flask, g, has_request_context

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    root = logging.getLogger("barnkompass")
    if not any(getattr(h, "_bk_handler", False) for h in root.handlers):
        handler: logging.Handler
        if app.config.get("LOG_FILE"):
            handler = logging.FileHandler(app.config["LOG_FILE"], encoding="utf-8")
        else:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestIdFilter())
        setattr(handler, "_bk_handler", True)  # noqa: B010 - our mark on the handler, found at reconfiguration
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    ours = [h for h in root.handlers if getattr(h, "_bk_handler", False)]
    # Flask's own logger and our modules' loggers all write through our handler. Flask names its logger
    # after the app, so for the app "barnkompass" it is ``root`` itself: clearing it would drop the handler.
    if app.logger is not root:
        app.logger.handlers.clear()
        app.logger.propagate = False
        for handler in ours:
            app.logger.addHandler(handler)
    app.logger.setLevel(level)
    for name in ("coordination", "agencies", "childplan", "notifications"):
        module_logger = logging.getLogger(name)
        module_logger.setLevel(level)
        for handler in ours:
            if handler not in module_logger.handlers:
                module_logger.addHandler(handler)
        module_logger.propagate = False
