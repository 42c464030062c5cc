"""Version 1 of the xiecha wire contract."""

from protocol.v1.messages import (
    MESSAGE_TYPES,
    AnyMessage,
    Message,
    RegistryPublished,
    RegistryRequested,
    RequestCommand,
    RequestCommandRefused,
    RequestEvent,
    RequestEventRecorded,
    RequestSubmitted,
    RequestUndeliverable,
    parse_message,
)

__all__ = [
    "MESSAGE_TYPES",
    "AnyMessage",
    "Message",
    "RegistryPublished",
    "RegistryRequested",
    "RequestCommand",
    "RequestCommandRefused",
    "RequestEvent",
    "RequestEventRecorded",
    "RequestSubmitted",
    "RequestUndeliverable",
    "parse_message",
]
