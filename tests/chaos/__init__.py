"""The chaos suite (issue 12, item 1): thousands of requests between four desks and the hub
while their processes are SIGKILLed and their servers restarted or paused, then an
accounting of every side against a recount.

Everything runs on private servers the harness starts and removes (its own PostgreSQL
clusters and RabbitMQ node, loopback only), so the shared servers other tests use are
never disturbed. ``python -m tests.chaos`` (``make chaos``) is the long run;
``tests/chaos/test_chaos.py`` the short one inside ``make test``.
"""
