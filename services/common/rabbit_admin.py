"""RabbitMQ's management HTTP API: virtual hosts, users, permissions and policies."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from protocol import topology
from protocol.topology import User

log = structlog.get_logger()


class RabbitAdmin:
    def __init__(self, base_url: str) -> None:
        """``base_url`` like http://guest:guest@127.0.0.1:15672 (credentials in the URL)."""
        url = URL(base_url)
        self._base = str(url.with_user(None).with_password(None)).rstrip("/")
        self._headers = {
            "Authorization": aiohttp.encode_basic_auth(url.user or "guest", url.password or "guest")
        }

    async def _put(self, path: str, body: dict[str, object]) -> None:
        async with aiohttp.ClientSession(headers=self._headers) as s, s.put(
            f"{self._base}/api/{path}", json=body
        ) as resp:
            if resp.status not in (200, 201, 204):
                raise RuntimeError(f"PUT {path}: {resp.status} {await resp.text()}")

    async def _delete(self, path: str) -> None:
        async with aiohttp.ClientSession(headers=self._headers) as s, s.delete(
            f"{self._base}/api/{path}"
        ) as resp:
            if resp.status not in (200, 204, 404):
                raise RuntimeError(f"DELETE {path}: {resp.status} {await resp.text()}")

    async def get(self, path: str) -> object:
        async with aiohttp.ClientSession(headers=self._headers) as s, s.get(
            f"{self._base}/api/{path}"
        ) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def create_vhost(self, vhost: str, user: str = "guest") -> None:
        v = quote(vhost, safe="")
        await self._put(f"vhosts/{v}", {})
        await self._put(
            f"permissions/{v}/{quote(user, safe='')}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )

    async def delete_vhost(self, vhost: str) -> None:
        await self._delete(f"vhosts/{quote(vhost, safe='')}")

    async def apply_policies(self, vhost: str = "/") -> None:
        """Set every policy of the topology definition on ``vhost``."""
        v = quote(vhost, safe="")
        for p in topology.POLICIES:
            body = {"pattern": p.pattern, "definition": p.definition, "priority": p.priority,
                    "apply-to": p.apply_to}
            await self._put(f"policies/{v}/{quote(p.name, safe='')}", body)
            log.info("policy applied", policy=p.name, vhost=vhost)

    async def put_user(self, user: User, password: str, vhost: str) -> None:
        """Create or update ``user`` (no tags: no management access) with its permissions
        and topic permissions on ``vhost``."""
        v, u = quote(vhost, safe=""), quote(user.name, safe="")
        await self._put(f"users/{u}", {"password": password, "tags": ""})
        await self._put(f"permissions/{v}/{u}", {"configure": user.configure,
                                                 "write": user.write, "read": user.read})
        for t in user.topics:
            await self._put(f"topic-permissions/{v}/{u}",
                            {"exchange": t.exchange, "write": t.write, "read": t.read})
        log.info("broker user provisioned", user=user.name, vhost=vhost)

    async def delete_user(self, name: str) -> None:
        await self._delete(f"users/{quote(name, safe='')}")
