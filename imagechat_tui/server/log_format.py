"""The server's log lines: today's text, or ``--log-format json`` for a machine.

JSON is one object per line: ``time`` (UTC, ISO 8601), ``level``, ``event`` (the
message), ``logger``, ``tenant`` (of the connection or room the line is about, else
null), ``node`` and ``fields`` (whatever the call passed as ``extra={"fields": {...}}``,
and the exception if any). The tenant comes from a context variable that a connection
sets once it has joined, so every line logged while serving it carries it.

Nothing secret gets in: the server never logs a token, an invite code or a comment's
text; as a second guard, in both formats and at every level (websockets logs every
frame and handshake header at ``debug``), fields named like secrets are dropped and
anything shaped like a JWT (a token), a ``token``/``code``/``invite`` JSON value or query
parameter, or an ``Authorization``/``Cookie``/``Set-Cookie`` header's value is replaced
by ``[redacted]``.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import sys
from typing import Any, Final

TENANT: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
#: This node's name in every line (set once the node knows its address).
NODE: dict[str, str | None] = {"name": None}

_SECRET_FIELDS: Final = frozenset({"token", "invite", "code", "text", "comment", "password"})
_JWT: Final = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_SECRET_QUERY: Final = re.compile(r"([?&](?:invite|token)=)[^&\s'\"]+")
#: A secret in a JSON text (a frame or body a library logs at debug) or in a header.
_SECRET_JSON: Final = re.compile(
    r"""((?:\\?["'])(?:token|code|invite)(?:\\?["'])\s*:\s*(?:\\?["']))[^"'\\]*"""
)
_SECRET_HEADER: Final = re.compile(r"(?i)\b(authorization|cookie|set-cookie)(:\s*)[^\r\n]*")


def redact(text: str) -> str:
    text = _SECRET_HEADER.sub(r"\1\2[redacted]", _JWT.sub("[redacted]", text))
    return _SECRET_JSON.sub(r"\1[redacted]", _SECRET_QUERY.sub(r"\1[redacted]", text))


class TextFormatter(logging.Formatter):
    """Today's text lines, redacted like the JSON ones: whatever a library logs at
    ``debug`` (websockets writes every frame and header) goes through ``redact``."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            k: v
            for k, v in (getattr(record, "fields", None) or {}).items()
            if k.lower() not in _SECRET_FIELDS
        }
        if record.exc_info:
            fields["exception"] = redact(self.formatException(record.exc_info))
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": redact(record.getMessage()),
            "logger": record.name,
            "tenant": getattr(record, "tenant", None) or TENANT.get(),
            "node": NODE["name"],
            "fields": fields,
        }
        return json.dumps(line, default=str, ensure_ascii=False)


TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, log_format: str) -> None:
    """The root logger for ``serve``: text (today's lines) or json, to stderr."""
    if log_format not in ("text", "json"):
        raise ValueError(f"Unknown log format {log_format!r}: use text or json.")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
