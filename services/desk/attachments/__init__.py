"""Evidence files on requests and replies (PDF, images, office documents).

Storage: the desk's own PostgreSQL database, a row per file (``attachment``) and its
bytes in 256 KiB ``bytea`` chunks (``attachment_chunk``). A file is thus stored in the
same transaction as its audit entry and the outbox messages that carry it to the other
party, is backed up and restored with its request, and there is no second store (file
system, object store) to keep consistent with the database. Every file has a SHA-256,
recorded at upload and checked again before any download; a file whose bytes do not
match is refused, never served.

Crossing desks: after an upload commits, the outbox sends one ``attachment.offered``
and one ``attachment.chunk`` per 256 KiB (base64, < 350 KB a message) to the other
party's desk, which stores chunks idempotently in any order and verifies the whole.

Modules: ``limits`` and ``sniff`` (pure checks), ``store`` (SQL), ``usecases``, ``api``
(HTTP), ``outgoing`` and ``inbound`` (the bus).
"""
