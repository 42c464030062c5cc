"""Bulk checks: up to 10,000 items per request, uploaded as CSV, XLSX or JSON, answered
one by one (API or filled-in sheet), each answer counted as one completed check.

parse (pure: bytes in, validated items and per-row errors out), sheets (tables in and
out), store (SQL), service (use cases, one transaction each), api (HTTP), inbound (bus
handlers), outgoing (message builders).
"""
