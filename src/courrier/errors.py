"""Errors courrier raises on purpose.

Every expected failure is a ``CourrierError`` with a stable snake_case ``code``; the CLI maps them to
exit status 1 with a one-line message, the web layer to HTTP statuses. Anything else is a bug.

    CourrierError                  (error)
    ├── ConfigError                setting or key file missing or malformed   (config_error)
    ├── DatabaseNotMigratedError   schema behind the code                     (database_not_migrated)
    ├── InputFileError             whole input file cannot be read            (unreadable_file, ...)
    ├── NotFoundError              named campaign, piece, job... not found    (not_found)
    ├── ConflictError              request clashes with the current state     (conflict, ...)
    ├── TemplateError              template folder is invalid                 (template_invalid, ...)
    ├── CompositionError           one letter cannot be composed              (text_overflow, ...)
    ├── CodeError                  personal code or signed token is wrong     (bad_signature, ...)
    └── AccountError               staff account or sign-in refused           (bad_credentials, ...)

Subclasses keep the class's default ``code`` or pass a more precise one. Every code is listed once in
``courrier.catalogue`` with its class, HTTP status and messages in our languages, filled from the
error's ``facts`` (the keyword arguments it was raised with, e.g. ``piece_id``).
"""

from __future__ import annotations

from typing import Any


class CourrierError(Exception):
    """An expected failure with a stable machine-readable ``code``."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **facts: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.facts: dict[str, Any] = facts

    def to_json(self) -> dict[str, Any]:
        """The error as an API answers it: its code, its English message and its facts."""
        return {"code": self.code, "message": str(self), **{k: str(v) for k, v in self.facts.items()}}


class ConfigError(CourrierError):
    code = "config_error"


class DatabaseNotMigratedError(CourrierError):
    code = "database_not_migrated"


class InputFileError(CourrierError):
    code = "unreadable_file"


class NotFoundError(CourrierError):
    code = "not_found"


class ConflictError(CourrierError):
    code = "conflict"


class TemplateError(CourrierError):
    code = "template_invalid"


class CompositionError(CourrierError):
    """One letter cannot be composed; ``field`` names what caused it (e.g. ``body``, ``address``)."""

    code = "composition_failed"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class CodeError(CourrierError):
    code = "bad_code"


class AccountError(CourrierError):
    """A staff account cannot be made, or a sign-in or action is refused (the web services)."""

    code = "account_error"
