"""The one exception the desk's domain and use cases raise to refuse a command."""

from __future__ import annotations

from protocol.errors import ErrorCode


class Refused(Exception):
    """A command that cannot be carried out, with a machine-readable code and a reason."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
