"""The desk's app factory: wires settings, store, bus and each feature's routes and handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from functools import partial

from aiohttp import web

from services.common import housekeeping, metrics, openapi, outbox, sm2
from services.common.handling import Dispatcher, MessageRefused, refusals, wrap
from services.common.health import RUNTIME, health_response
from services.common.http import json_ok, new_app
from services.common.openapi import Op
from services.common.runtime import Runtime
from services.desk import metrics as desk_metrics
from services.desk import registry, verify
from services.desk import web as desk_web
from services.desk.attachments import api as attachments_api
from services.desk.attachments import inbound as attachments_inbound
from services.desk.attachments.forward import forward_files
from services.desk.attachments.limits import accepted_type, file_name
from services.desk.auth import GATE, Gate, Tokens
from services.desk.bulk import api as bulk_api
from services.desk.bulk import inbound as bulk_inbound
from services.desk.bulk.usecases import refuse_transfer_with_items
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import ANSWERED, TERMINAL
from services.desk.domain.ratelimit import Buckets, Failures
from services.desk.joint import api as joint_api
from services.desk.joint import inbound as joint_inbound
from services.desk.pages import routes as pages
from services.desk.requests import api as requests_api
from services.desk.requests.confirmed import record_sent
from services.desk.requests.deadlines import DeadlineWatch
from services.desk.requests.inbound import RequestInbound
from services.desk.requests.usecases import submit_for
from services.desk.requests.views import bureau_ref
from services.desk.retention import Retention
from services.desk.sessions import web as session_web
from services.desk.settings import DeskSettings
from services.desk.signing import Signer
from services.desk.store import chain as chain_store
from services.desk.store import registry as registry_store

Clock = Callable[[], dt.datetime]
WATCH = web.AppKey("deadline_watch", DeadlineWatch)
RETENTION = web.AppKey("retention", Retention)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def handlers(settings: DeskSettings, clock: Clock, desk: Desk) -> Dispatcher:
    """Every message type the desk takes, registered by the feature that owns it."""
    bus = Dispatcher("desk")
    RequestInbound(clock, settings.hosts, desk.signer).register(bus)
    attachments_inbound.register(bus, clock)
    bulk_inbound.register(bus, clock)
    joint_inbound.register(bus, desk)
    registry.register(bus, clock)
    verify.register(bus, clock)
    return bus


def evidence_check(name_header: str | None, data: bytes) -> tuple[str, str]:
    """The evidence-file rules of attachments, for the other features' uploads."""
    name = file_name(name_header)
    return name, accepted_type(name, data)


_NEVER_AGAIN = ", ".join(f"'{s.value}'" for s in sorted(TERMINAL | ANSWERED))
PRUNE = (
    *housekeeping.COMMON,
    # an event parked after its request already moved past it can never be applied
    housekeeping.Prune("parked_event", "$1::timestamptz IS NOT NULL AND seq <= (SELECT r.last_seq"
                       " FROM request r WHERE r.id = parked_event.request_id)"),
    # the firings of requests that can never run again
    housekeeping.Prune("deadline_rule_fired", "fired_at < $1 AND request_id IN (SELECT r.id"
                       f" FROM request r WHERE r.state IN ({_NEVER_AGAIN}))"),
    # the coordinators' queue entries of requests that can never run again (the timeline
    # keeps the escalation)
    housekeeping.Prune("escalation", "escalated_at < $1 AND request_id IN (SELECT r.id"
                       f" FROM request r WHERE r.state IN ({_NEVER_AGAIN}))"),
    # chunks of a file whose offer never made it known here
    housekeeping.Prune("attachment_chunk", "received_at < $1 AND NOT EXISTS (SELECT 1"
                       " FROM attachment a WHERE a.id = attachment_chunk.attachment_id)"),
    # comparisons of chains with the other desk, asked long ago (verify reads them at once)
    housekeeping.Prune("chain_check", "asked_at < $1"),
)
"""What the desk's housekeeping prunes after the retention window."""


def _refused(exc: Refused) -> MessageRefused:
    return MessageRefused(exc.code, exc.message)


def create_app(settings: DeskSettings, clock: Clock = utc_now) -> web.Application:
    app = new_app(settings.max_body_bytes)
    gate = app[GATE] = Gate(Buckets(settings.token_rate, settings.token_burst),
                            Failures(settings.signin_failures, settings.signin_window_seconds))

    async def resources(app: web.Application) -> AsyncIterator[None]:
        runtime = Runtime("desk", settings.dsn, settings.broker_url, settings.region,
                          settings.province_codes, settings.consumer_concurrency,
                          settings.db_pool_size, clock, metrics=app[metrics.METRICS])
        await runtime.open()
        app[RUNTIME] = runtime
        app[metrics.POOL] = runtime.pool
        signer = Signer(settings.region, sm2.ensure_key(settings.key_file))
        desk = app[desk_web.DESK] = Desk(
            runtime.pool, clock, registry.RegistryCache(), settings.limits, settings.hosts,
            signer,
            before_transfer=[refuse_transfer_with_items], after_transfer=[forward_files],
            hide_after=dt.timedelta(days=settings.hide_personal_after_days),
            submit_request=submit_for, evidence_check=evidence_check,
        )
        app[desk_web.TOKENS] = gate.tokens = Tokens(runtime.pool)
        await runtime.start(wrap(handlers(settings, clock, desk), refusals(Refused, _refused)),
                            after_publish=partial(record_sent, signer))
        async with runtime.pool.acquire() as conn, conn.transaction():
            await chain_store.set_algorithm(conn, settings.timeline_hash)
            have = await registry_store.version(conn)
            await outbox.enqueue(conn, registry.request_registry(settings.region, have))
        watch = DeadlineWatch(runtime.pool, clock, settings.province_codes, settings.hosts,
                              settings.remind_before_days, settings.escalate_after_days,
                              signer)
        app[WATCH] = watch
        app[RETENTION] = keeper = Retention(runtime.pool, clock,
                                            dt.timedelta(days=settings.delete_after_days))
        for name, job, every in (("deadline_watch", watch, settings.deadline_check_seconds),
                                 ("retention", keeper, settings.retention_check_seconds)):
            if every:
                alive = partial(runtime.supervisor.mark_healthy, name)
                runtime.supervisor.start(name, partial(job.run, every, alive))
        runtime.supervisor.start("housekeeping", lambda: housekeeping.run(
            runtime.pool, PRUNE, clock, 3600,
            lambda: runtime.supervisor.mark_healthy("housekeeping")))
        yield
        await runtime.close()

    app.cleanup_ctx.append(resources)
    app[session_web.FAILURES] = gate.failures
    app.middlewares.append(gate.middleware)
    app[metrics.METRICS].collectors.append(desk_metrics.collect)
    app.middlewares.append(desk_web.refusal_middleware)
    requests_api.add_routes(app)
    attachments_api.add_routes(app)
    bulk_api.add_routes(app)
    pages.add_routes(app)
    joint_api.add_routes(app)
    requests_api.add_action_routes(app)  # last: its {action} would match the others' paths
    app.router.add_get("/v1/me", me)
    app.router.add_get("/healthz", health)
    openapi.serve(app, openapi.document("xiecha desk", "1", OPS))
    return app


OPS = [
    *requests_api.OPS, *attachments_api.OPS, *bulk_api.OPS, *joint_api.OPS,
    Op("GET", "/v1/me", "Who the token belongs to"),
    Op("GET", "/healthz", "Every part's health (503 names the unhealthy)",
       {200: "healthy"}, auth=False),
]


async def me(request: web.Request) -> web.Response:
    who = await desk_web.caller(request)
    names = await request.app[desk_web.DESK].names()
    return json_ok({"id": str(who.id), "name": who.name, "role": who.role,
                    "bureau": bureau_ref(who.bureau, names)})


async def health(request: web.Request) -> web.Response:
    """Every part's health, and the registry version this desk has (0 = not yet received)."""
    try:
        async with request.app[desk_web.DESK].pool.acquire() as conn:
            version = await registry_store.version(conn)
    except Exception:  # the database part says why
        version = None
    return await health_response(request.app, registry_version=version)
