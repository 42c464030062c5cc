"""Search at scale: ``python -m bench.search [--rows 1000000]``.

Loads synthetic requests into a throw-away desk database, then prints, for each
kind of filter an investigator uses, the first page's execution time and the plan's
scan nodes (EXPLAIN ANALYZE). tests/integration/test_search.py asserts on the same
plans at a smaller scale.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import time
from typing import Any

import asyncpg

from services.common import db
from services.desk.requests.search import Filters, compile_query

PG = "postgresql://postgres:postgres@127.0.0.1:5432"
ME = "330110"
COUNTERPARTS = ["510107", "510104", "440106", "440305", "320100", "110105", "420111",
                "350102", "370102", "610113", "500103", "210102", "430102", "360102"]


def cases(today: dt.date) -> dict[str, Filters]:
    """The filters investigators use, on bureau ME's boxes."""
    return {
        "inbox, newest": Filters("inbox", ME),
        "outbox, newest": Filters("outbox", ME),
        "outbox by state": Filters("outbox", ME, state="accepted"),
        "outbox by kind": Filters("outbox", ME, kind="evidence_collection"),
        "outbox to a bureau": Filters("outbox", ME, counterpart="440305"),
        "outbox to a province": Filters("outbox", ME, counterpart_province="51"),
        "by credit code": Filters("outbox", ME, credit_code="91330110MA2H000077"),
        "merchant name contains": Filters("outbox", ME, merchant="商贸7777"),
        "created in a week": Filters("outbox", ME, created_from=dt.date(2025, 3, 3),
                                     created_to=dt.date(2025, 3, 9)),
        "overdue only": Filters("outbox", ME, overdue_on=today),
    }


async def load_synthetic(conn: asyncpg.Connection, rows: int) -> None:
    """``rows`` requests: 3/4 sent by ME, 1/4 received, over three years."""
    await conn.execute(
        """
        INSERT INTO request (id, requester, recipient, kind, content, merchant_name,
            credit_code, due_date, state, correlation_id, created_at, created_by, updated_at)
        SELECT gen_random_uuid(),
            CASE WHEN i % 4 = 0 THEN cp ELSE $2 END, CASE WHEN i % 4 = 0 THEN $2 ELSE cp END,
            (ARRAY['merchant_registration','complainant_identity','document_service',
                   'evidence_collection','case_lead_transfer'])[1 + i % 5],
            '{"subject": {"merchant_name": "x"}, "questions": []}'::jsonb,
            '某某商贸' || i || '有限公司', '91330110MA2H' || lpad((i % 1000000)::text, 6, '0'),
            (ts + interval '7 days')::date,
            (ARRAY['delivered','accepted','replied','closed','replied','replied','closed',
                   'replied','partially_replied','rejected'])[1 + i % 10],
            'synthetic', ts, 'bench', ts
        FROM (SELECT i, $3::text[] AS cps,
                     timestamptz '2023-11-27' + (i * interval '94 seconds') AS ts
              FROM generate_series(1, $1) AS i) g,
             LATERAL (SELECT cps[1 + i % array_length(cps, 1)] AS cp) c
        """,
        rows, ME, COUNTERPARTS,
    )
    await conn.execute("ANALYZE request")


async def explain(conn: asyncpg.Connection, f: Filters) -> dict[str, Any]:
    sql, args = compile_query(f, 50, None)
    raw = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args)
    plan: dict[str, Any] = json.loads(raw)[0]
    return plan


def scans(node: dict[str, Any]) -> list[str]:
    """The scan nodes of a plan, e.g. 'Index Scan request_outbox_idx'."""
    found = []
    if "Scan" in node["Node Type"]:
        found.append(f"{node['Node Type']} {node.get('Index Name', node.get('Relation Name'))}")
    for child in node.get("Plans", []):
        found += scans(child)
    return found


async def main(rows: int) -> None:
    dsn = f"{PG}/xbench_search_{secrets.token_hex(4)}"
    await db.ensure_database(dsn)
    try:
        await db.migrate(dsn, "desk")
        conn = await asyncpg.connect(dsn)
        started = time.perf_counter()
        await load_synthetic(conn, rows)
        print(f"loaded {rows:,} requests in {time.perf_counter() - started:.1f} s")
        for name, f in cases(dt.date(2026, 11, 27)).items():
            plan = await explain(conn, f)
            print(f"{name:<24} {plan['Execution Time']:8.2f} ms  {', '.join(scans(plan['Plan']))}")
        await conn.close()
    finally:
        await db.drop_database(dsn)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().rows))
