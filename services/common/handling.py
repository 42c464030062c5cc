"""What a message handler is, how it refuses, and the middleware that wraps it.

A handler takes a message inside the consumer's transaction. It refuses a message it
can never process by raising ``MessageRefused`` (dead-lettered with the reason) and
one that came too early by raising ``MessageEarly`` (redelivered later). Features
register handlers per message type with a ``Dispatcher``; cross-cutting behaviour
(translating a domain's refusals, later metrics) wraps handlers as middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1 import AnyMessage, Message

Handler = Callable[[asyncpg.Connection, AnyMessage], Awaitable[None]]
Middleware = Callable[[Handler], Handler]
M = TypeVar("M", bound=Message)


class MessageRefused(Exception):
    """Raised by a handler for a message that can never be processed."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class MessageEarly(Exception):
    """Raised by a handler for a message that came before what it depends on (say, a
    request's files before the request): redelivered after a back-off, logged quietly."""


class Dispatcher:
    """Message type -> the handler of the feature that owns it; the service's one handler."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._handlers: dict[type[Message], Callable[[asyncpg.Connection, Any], Awaitable[None]]]
        self._handlers = {}

    def register(
        self, message_type: type[M], handler: Callable[[asyncpg.Connection, M], Awaitable[None]]
    ) -> None:
        if message_type in self._handlers:
            raise ValueError(f"{message_type.__name__} already has a handler")
        self._handlers[message_type] = handler

    @property
    def types(self) -> frozenset[type[Message]]:
        return frozenset(self._handlers)

    async def __call__(self, conn: asyncpg.Connection, message: AnyMessage) -> None:
        handler = self._handlers.get(type(message))
        if handler is None:
            raise MessageRefused(ErrorCode.UNKNOWN_MESSAGE_TYPE,
                                 f"the {self.service} does not take {message.type} messages")
        await handler(conn, message)


def wrap(handler: Handler, *middleware: Middleware) -> Handler:
    """``handler`` inside ``middleware``, the first outermost."""
    for layer in reversed(middleware):
        handler = layer(handler)
    return handler


def refusals(
    kind: type[Exception], translate: Callable[[Any], MessageRefused]
) -> Middleware:
    """Middleware: a domain's refusal (``kind``) becomes ``MessageRefused``, in one place."""

    def layer(handler: Handler) -> Handler:
        async def refusing(conn: asyncpg.Connection, message: AnyMessage) -> None:
            try:
                await handler(conn, message)
            except kind as exc:
                raise translate(exc) from None

        return refusing

    return layer
