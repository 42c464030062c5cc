"""Every service may put a message into every retry tier with its own broker user.

A consumer whose handler fails for an infrastructure reason (its database is down)
republishes the message into a delay tier (``services.common.retry``); the broker sends it
back to its queue afterwards. With per-service users, a tier the user may not write to
closed the consumer's channel with ACCESS_REFUSED, and the service stayed unhealthy until
restarted (seen in the Docker deployment while its database was still recovering).
"""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from protocol import routing
from services.common.trust import user_of
from tests.support import System, eventually, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize("who", ["hub", "zj", "sc"])
async def test_a_service_user_may_delay_a_message_in_every_tier(system: System, who: str
                                                                ) -> None:
    # Given a queue the message should come back to (declared by the admin)
    admin = await aio_pika.connect(system.scratch.amqp_url)
    back = await (await admin.channel()).declare_queue(unique("back-"), auto_delete=True)
    # When the service's own user publishes into each tier, confirmed by the broker
    channel = await system.bus(who)
    ids = {}
    for seconds in routing.RETRY_TIERS:
        tier = await channel.get_exchange(routing.retry_exchange(seconds), ensure=False)
        ids[seconds] = str(uuid.uuid4())
        await tier.publish(aio_pika.Message(
            b"{}", message_id=ids[seconds], user_id=user_of(system.scratch.service_urls[who]),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=back.name)
    # Then the shortest tier returns the message to its queue
    shortest = min(routing.RETRY_TIERS)
    message = await eventually(lambda: back.get(no_ack=True, fail=False), within=30,
                               what="the message back from the shortest tier")
    assert message.message_id == ids[shortest]
    await channel.close()
    await admin.close()
