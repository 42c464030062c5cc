"""What every page handler shares: rendering with the session, labels, the clock."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from protocol.v1.content import Handling, RequestKind
from protocol.v1.events import RejectReason
from services.desk.domain.lifecycle import State
from services.desk.sessions.store import Session

KINDS = {
    RequestKind.MERCHANT_REGISTRATION: "Merchant registration",
    RequestKind.COMPLAINANT_IDENTITY: "Complainant identity",
    RequestKind.DOCUMENT_SERVICE: "Document service",
    RequestKind.EVIDENCE_COLLECTION: "Evidence collection",
    RequestKind.CASE_LEAD_TRANSFER: "Case-lead transfer",
}
STATES = {
    State.CREATED: "Created", State.SENT: "Sent", State.DELIVERED: "Delivered",
    State.ACCEPTED: "Accepted", State.INFO_REQUESTED: "Information requested",
    State.PARTIALLY_REPLIED: "Partially replied", State.REPLIED: "Replied",
    State.CLOSED: "Closed", State.REJECTED: "Rejected", State.TRANSFERRED: "Transferred",
    State.WITHDRAWN: "Withdrawn", State.UNDELIVERABLE: "Undeliverable",
}
EVENTS = {
    "created": "created the request", "sent": "sent (broker confirmed)",
    "delivered": "delivered to the recipient", "undeliverable": "came back undeliverable",
    "accepted": "accepted", "rejected": "rejected", "info_requested": "asked for information",
    "info_provided": "provided information", "transferred": "transferred",
    "transfer_returned": "transfer came back: no desk serves that bureau",
    "partially_replied": "replied in part", "replied": "replied", "withdrawn": "withdrew",
    "closed": "closed", "due_date_agreed": "agreed to the proposed due date",
    "due_date_refused": "refused the proposed due date", "reminded": "reminder (催办)",
    "escalated": "escalated to the coordinators", "command_refused": "action refused",
}
HANDLING = {
    Handling.CASE_ONLY: "Use only for this case",
    Handling.NO_COURT_USE_WITHOUT_PERMISSION: "Not for court without the recipient's permission",
    Handling.NO_ONWARD_SHARING: "Not to be passed on to another authority",
    Handling.PERSONAL_DATA: "Contains personal data: minimum access, no copies",
}
REJECT_REASONS = {
    RejectReason.NOT_COMPETENT: "Not competent", RejectReason.INSUFFICIENT_INFORMATION:
    "Insufficient information", RejectReason.SUBJECT_NOT_FOUND: "Subject not found",
    RejectReason.OUTSIDE_LEGAL_BASIS: "Outside the legal basis",
    RejectReason.DUPLICATE: "Duplicate request", RejectReason.OTHER: "Other",
}


def render(
    template: str, request: web.Request, session: Session, context: dict[str, Any],
    status: int = 200,
) -> web.Response:
    """A page for a signed-in investigator: who they are and the CSRF token come along."""
    base = {"me": session.who, "csrf": session.csrf, "kinds": KINDS, "states": STATES,
            "events": EVENTS, "handling_labels": HANDLING, "reject_reasons": REJECT_REASONS}
    return aiohttp_jinja2.render_template(template, request, base | context, status=status)
