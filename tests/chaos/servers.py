"""Private PostgreSQL clusters and a private RabbitMQ node for the chaos suite.

Each server lives in a temporary directory, listens on free loopback ports and runs in
a process group of its own (we are root: PostgreSQL runs as the ``postgres`` OS user,
RabbitMQ as ``rabbitmq`` with that user's Erlang cookie), so the harness can restart,
pause or kill it without touching the shared servers on 5432/5672. ``kill`` is SIGKILL
of everything the server started; the harness calls it on every way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika
import asyncpg

from bench.environment import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBIT_HOME = "/var/lib/rabbitmq"
"""The rabbitmq user's home: its .erlang.cookie is the one every local node shares."""


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def signal_tree(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to ``pid`` and everything it started, children first."""
    for p in [*reversed(children(pid)), pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)


def owned_dir(path: Path, user: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.chown(path, user, user)
    return path


async def port_open(port: int) -> bool:
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        return True
    return False


async def wait_for(probe_name: str, probe: Callable[[], Awaitable[bool]], within: float
                   ) -> None:
    """Poll ``probe`` until it answers True; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await probe():
        if loop.time() > deadline:
            raise RuntimeError(f"{probe_name} not ready within {within:.0f} s")
        await asyncio.sleep(0.2)  # the poll interval


class Server:
    """A server process started through ``runuser`` in a session of its own."""

    name = "server"
    log: Path

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def _spawn(self, user: str, argv: list[str], env: dict[str, str]) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                "runuser", "-u", user, "--", "env", *(f"{k}={v}" for k, v in env.items()),
                *argv, stdout=out, stderr=out, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the server and every process it started (teardown, any state)."""
        if self.process is not None:
            signal_tree(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def _wait_exit(self, within: float) -> None:
        if self.process is None:
            return
        try:
            await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.kill()
            await self.process.wait()


class Postgres(Server):
    """One private PostgreSQL cluster (trust authentication, loopback, own socket dir)."""

    def __init__(self, root: Path, name: str) -> None:
        super().__init__()
        self.name = f"postgres-{name}"
        self.base = owned_dir(root / name, "postgres")
        self.data, self.sockets = self.base / "data", owned_dir(self.base / "sock", "postgres")
        self.log = self.base / "server.log"
        self.port = free_port()
        self.paused = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    async def init(self) -> None:
        init = await asyncio.create_subprocess_exec(
            "runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.data),
            "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await init.communicate()
        if init.returncode:
            raise RuntimeError(f"initdb {self.name}: {err.decode()}")

    async def start(self) -> None:
        await self._spawn("postgres", [
            str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=300", "-c", "shared_buffers=64MB"], {})

        async def answers() -> bool:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                conn = await asyncpg.connect(f"{self.url}/postgres", timeout=2)
                await conn.close()
                return True
            return False

        await wait_for(self.name, answers, 60)

    def _postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    async def restart(self) -> None:
        """A fast shutdown (SIGINT: clients disconnected, checkpoint), then start again."""
        os.kill(self._postmaster(), signal.SIGINT)
        await self._wait_exit(60)
        await self.start()

    def pause(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang, none is refused."""
        signal_tree(self._postmaster(), signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        signal_tree(self._postmaster(), signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        if self.paused:  # a stopped process ignores SIGKILL only until continued
            with contextlib.suppress(OSError, ValueError):
                self.resume()
        with contextlib.suppress(OSError, ValueError):
            signal_tree(self._postmaster(), signal.SIGKILL)
        super().kill()


class Rabbit(Server):
    """One private RabbitMQ node with the management API (the project provisions through
    it), on free loopback ports; data and logs in the temporary directory."""

    def __init__(self, root: Path, n: int) -> None:
        super().__init__()
        self.node = f"chaos-{n}@localhost"
        self.name = f"rabbitmq {self.node}"
        self.base = owned_dir(root / "rabbitmq", "rabbitmq")
        self.log = self.base / "server.log"
        self.port, self.dist_port, self.admin_port = free_port(), free_port(), free_port()
        conf = self.base / "rabbitmq.conf"
        conf.write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
                        f"management.tcp.ip = 127.0.0.1\n"
                        f"management.tcp.port = {self.admin_port}\n"
                        "loopback_users = none\n"
                        # queue figures every second: the drain waits on them
                        "collect_statistics_interval = 1000\n")
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base / "rabbitmq-env.conf").write_text(  # Erlang distribution on loopback too
            "ERL_EPMD_ADDRESS=127.0.0.1\n"
            'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n')
        self.env = {
            "HOME": RABBIT_HOME, "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(owned_dir(self.base / "mnesia", "rabbitmq")),
            "RABBITMQ_LOG_BASE": str(owned_dir(self.base / "log", "rabbitmq")),
            "RABBITMQ_CONFIG_FILE": str(conf),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
        }

    @property
    def amqp(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}"

    @property
    def admin(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.admin_port}"

    async def start(self) -> None:
        await self._spawn("rabbitmq", [str(RABBIT_SERVER)], self.env)

        async def answers() -> bool:
            if not (await port_open(self.port) and await port_open(self.admin_port)):
                return False
            with contextlib.suppress(Exception):
                connection = await aio_pika.connect(self.amqp, timeout=5)
                await connection.close()
                return True
            return False

        await wait_for(self.name, answers, 180)

    async def restart(self) -> None:
        """A clean stop of the node (SIGTERM to its process group), then start again."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        await self._wait_exit(120)
        with contextlib.suppress(ProcessLookupError):  # an Erlang helper left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.start()
