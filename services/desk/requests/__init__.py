"""Assistance requests: create, deliver, decide, track (deadlines, reminders), broadcast.

Modules: ``usecases`` (what investigators do, one transaction each), ``apply`` (a change
recorded with its timeline entry and messages), ``inbound`` and ``outgoing`` (the bus),
``confirmed`` (an outbox hook: 'sent'), ``deadlines`` (the watch), ``broadcast``
(groups), ``api``, ``query`` and ``views`` (HTTP), ``search`` (the inbox/outbox query).
"""
