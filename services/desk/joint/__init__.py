"""Joint action (联合行动): a case one lead bureau runs with several member bureaus.

The lead's desk owns the case and numbers its changes (``decide``); members and the
supervising bureau ask for theirs over the bus (``inbound``). Tasks are ordinary
requests linked to the case (``tasks``); shared evidence is checksummed and verified
on every desk (``files``). Pure rules: ``services/desk/domain/joint.py``.
"""
