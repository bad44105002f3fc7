"""Logs of ``courrier serve``: text lines or JSON lines on stderr, for uvicorn's loggers and ours.

A JSON line is one object: ``at`` (UTC), ``level``, ``logger``, ``message``, ``pid`` and the record's
extra fields (an access line adds ``method``, ``route`` — the route's template, never the path —,
``status`` and ``duration_ms``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
        "message",
        "asctime",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)

    converter = time.gmtime  # type: ignore[assignment]


def log_config(log_format: str, level: str = "info") -> dict[str, Any]:
    """uvicorn's logging configuration: its own loggers and ours, as text or JSON lines on stderr."""
    formatter = (
        {"()": f"{__name__}.JsonLines"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "propagate": False},  # paths can hold a code
            "courrier": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
