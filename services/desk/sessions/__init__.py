"""Browser sessions: an investigator's token exchanged once for an HttpOnly cookie.

Signing in takes the same bearer token the API takes (``add-investigator`` issues it,
the demo prints one per investigator), so there is one credential to issue, rotate and
revoke. The cookie holds a random session id (only its SHA-256 is stored), is HttpOnly
and SameSite=Lax, and lasts ``TTL``; every form posts the session's CSRF token.
"""
