"""Machine-readable error codes shared by every HTTP API and dead-letter record."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # request syntax
    MALFORMED_JSON = "malformed_json"
    VALIDATION_FAILED = "validation_failed"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    BAD_QUERY = "bad_query"
    # identity
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    # registry and routing
    UNKNOWN_BUREAU = "unknown_bureau"
    NOT_A_PARTNER = "not_a_partner"
    NO_COMPETENT_BUREAU = "no_competent_bureau"
    SAME_BUREAU = "same_bureau"
    REGISTRY_NOT_READY = "registry_not_ready"
    # life cycle
    NOT_FOUND = "not_found"
    ILLEGAL_TRANSITION = "illegal_transition"
    TOO_SOON = "too_soon"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    UNKNOWN_QUESTION = "unknown_question"
    # evidence files
    CHECKSUM_MISMATCH = "checksum_mismatch"
    PERSONAL_DATA_HIDDEN = "personal_data_hidden"
    ATTACHMENT_INCOMPLETE = "attachment_incomplete"
    # bus
    UNDECODABLE_MESSAGE = "undecodable_message"
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    UNROUTABLE = "unroutable"
    HANDLER_REFUSED = "handler_refused"
    RETRIES_EXHAUSTED = "retries_exhausted"
    """Failed for an infrastructure reason for longer than the retry window."""
    NEWER_PROTOCOL_VERSION = "newer_protocol_version"
    """Kept in the dead-letter queue until this service is upgraded, then replayed."""
    SENDER_NOT_SERVED = "sender_not_served"
    STALE_REGISTRY = "stale_registry"
    SIGNATURE_INVALID = "signature_invalid"
    """A decided change without a valid SM2 signature of the desk serving its sender."""
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # infrastructure
    SERVICE_UNAVAILABLE = "service_unavailable"
    """The database (or broker) is out of reach for now: retry after ``Retry-After``."""
