"""``/metrics`` on the hub and every desk, in Prometheus text format, counting real traffic."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_bus import create_and_deliver
from tests.support import System, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def scrape(system: System, url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with system.http.get(url) as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_every_service_counts_its_traffic(system: System) -> None:
    # Given one request created at zj and delivered at sc
    await create_and_deliver(system)
    zj, sc = system.desks["zj"], system.desks["sc"]
    home = await scrape(system, zj.url("/metrics"))
    # Then zj counted the HTTP call by route and status, with its latency, and the message
    assert value(home, "xiecha_http_requests_total", route="/v1/requests", method="POST",
                 status="201") >= 1
    assert value(home, "xiecha_http_request_seconds_count", route="/v1/requests") >= 1
    assert value(home, "xiecha_messages_published_total", type="request.submitted") >= 1
    assert value(home, "xiecha_dead_letters", queue="xiecha.v1.desk.zj.inbox.dlq") == 0
    assert ("xiecha_outbox_oldest_age_seconds", frozenset()) in home
    assert value(home, "xiecha_parked_events") == 0

    async def consumed() -> bool:
        there = await scrape(system, sc.url("/metrics"))
        return value(there, "xiecha_messages_consumed_total", queue="xiecha.v1.desk.sc.inbox",
                     type="request.submitted", outcome="handled") >= 1 and value(
            there, "xiecha_requests", state="delivered") >= 1

    # and sc counted the delivery it handled and the request it holds
    await eventually(consumed, what="sc's counts")
    hub = await scrape(system, system.hub_url("/metrics"))
    assert value(hub, "xiecha_messages_consumed_total", queue="xiecha.v1.hub.events",
                 type="event.recorded", outcome="handled") >= 1
    assert value(hub, "xiecha_http_requests_total", route="/metrics", method="GET",
                 status="200") == 0  # the scrape in progress is counted after it answers
