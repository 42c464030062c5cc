"""docker-compose.yml for real: built, started, used through its published ports, a desk
killed and back, data kept across `down`/`up`; and ensure-infra.sh's compose branch.

Needs a Docker engine with compose and the images (`make test-docker` provides them);
collected only with XIECHA_DOCKER_TEST=1 (tests/deploy/conftest.py), which `make test`
sets where a Docker engine can be started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.compose_stack import ROOT, Stack, until

ZJ, GD, SC, REST, HUB = ("XIECHA_DESK_ZJ_PORT", "XIECHA_DESK_GD_PORT", "XIECHA_DESK_SC_PORT",
                         "XIECHA_DESK_REST_PORT", "XIECHA_HUB_PORT")
DESKS = {ZJ: "desk-zj", GD: "desk-gd", SC: "desk-sc", REST: "desk-rest"}
SERVICES = ["postgres", "rabbitmq", "hub", *DESKS.values()]
YUHANG, WUHOU, JINJIANG, CHAOYANG = "330110", "510107", "510104", "110105"
TIMINGS = ROOT / ".run" / "docker-test.json"


def call(url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def new_request(recipient: str) -> dict[str, Any]:
    return {"kind": "merchant_registration", "recipient": recipient,
            "subject": {"merchant_name": "某某电子商务有限公司", "platform": "某电商平台"},
            "questions": [{"id": "q1", "text": "该商户是否在贵局登记？"}]}


def add_investigator(stack: Stack, service: str, bureau: str) -> str:
    token = f"docker-test-{bureau}"
    stack.compose("exec", "-T", service, "python", "-m", "services.desk", "add-investigator",
                  "--name", f"测试 {bureau}", "--bureau", bureau, "--token", token)
    return token


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    s = Stack()
    timings: dict[str, float] = {}
    try:
        start = time.monotonic()
        s.compose("build")
        timings["build_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        s.compose("up", "-d")
        until(lambda: s.settled(SERVICES, ["setup"]), 300, "every service healthy")
        timings["up_to_healthy_s"] = round(time.monotonic() - start, 1)
        TIMINGS.parent.mkdir(exist_ok=True)
        TIMINGS.write_text(json.dumps(timings))
        s.tokens = {code: add_investigator(s, service, code) for code, service in
                    [(YUHANG, "desk-zj"), (WUHOU, "desk-sc"), (JINJIANG, "desk-sc"),
                     (CHAOYANG, "desk-rest")]}
        yield s
    except BaseException:
        print(s.logs())
        raise
    finally:
        s.down()


def tok(stack: Stack, bureau: str) -> str:
    return stack.tokens[bureau]


def create(stack: Stack, recipient: str) -> str:
    status, body = call(stack.url(ZJ, "/v1/requests"), tok(stack, YUHANG), new_request(recipient))
    assert status == 201, body
    return str(body["id"])


def state_at(stack: Stack, port_var: str, bureau: str, rid: str) -> str | None:
    status, body = call(stack.url(port_var, f"/v1/requests/{rid}"), tok(stack, bureau))
    return body["state"] if status == 200 else None


def test_every_service_is_healthy_and_runs_as_non_root(stack: Stack) -> None:
    for service in ["hub", *DESKS.values()]:
        assert stack.inspect(service)["Config"]["User"] == "xiecha", service
    for port_var in [HUB, *DESKS]:
        status, body = call(stack.url(port_var, "/healthz"))
        assert status == 200 and body["status"] == "ok", (port_var, body)


def test_cross_region_round_trip_through_published_ports(stack: Stack) -> None:
    # Given Yuhang (desk-zj) asks Wuhou (desk-sc)
    rid = create(stack, WUHOU)
    until(lambda: state_at(stack, SC, WUHOU, rid) == "delivered", 60, "delivered at desk-sc")
    # When Wuhou accepts and replies at its own desk
    base = stack.url(SC, f"/v1/requests/{rid}")
    assert call(f"{base}/accept", tok(stack, WUHOU), {})[0] == 200
    reply = {"findings": "已登记，状态正常", "answers": [{"question_id": "q1", "answer": "是"}]}
    assert call(f"{base}/reply", tok(stack, WUHOU), reply)[0] == 200
    # Then the reply and the whole timeline are at home, and the hub counted the steps
    until(lambda: state_at(stack, ZJ, YUHANG, rid) == "replied", 60, "replied at home")
    _, home = call(stack.url(ZJ, f"/v1/requests/{rid}"), tok(stack, YUHANG))
    assert home["reply"]["findings"] == "已登记，状态正常"
    types = [e["type"] for e in home["timeline"]]
    assert types[0] == "created" and types[-2:] == ["accepted", "replied"], types

    def counted() -> dict[str, Any] | None:
        _, stats = call(stack.url(HUB, "/v1/stats"))
        return stats if stats["all"]["all_time"]["replied"] >= 1 else None

    stats = until(counted, 60, "hub counts the reply")
    assert stats["all"]["all_time"]["accepted"] >= 1 and stats["partners"] >= 800


def test_a_beijing_partner_is_reached_through_desk_rest(stack: Stack) -> None:
    rid = create(stack, CHAOYANG)
    until(lambda: state_at(stack, REST, CHAOYANG, rid) == "delivered", 60, "delivered in Beijing")


def test_a_killed_desk_comes_back_by_its_restart_policy_with_nothing_lost(stack: Stack) -> None:
    # Given a request delivered at desk-sc
    before = create(stack, WUHOU)
    until(lambda: state_at(stack, SC, WUHOU, before) == "delivered", 60, "delivered")
    restarts = stack.inspect("desk-sc")["RestartCount"]
    # When its process dies (SIGKILL from the host, as a crash would)
    os.kill(stack.inspect("desk-sc")["State"]["Pid"], signal.SIGKILL)
    # ... and a request for it is sent meanwhile
    during = create(stack, JINJIANG)
    # Then Docker restarts it, and both requests are there
    until(lambda: stack.inspect("desk-sc")["RestartCount"] > restarts, 60, "restarted")
    until(lambda: stack.settled(["desk-sc"]), 120, "desk-sc healthy again")
    assert state_at(stack, SC, WUHOU, before) == "delivered"
    until(lambda: state_at(stack, SC, JINJIANG, during) == "delivered", 60, "queued one delivered")
    until(lambda: state_at(stack, ZJ, YUHANG, during) == "delivered", 60, "home knows")


def test_data_survives_down_and_up(stack: Stack) -> None:
    rid = create(stack, WUHOU)
    until(lambda: state_at(stack, SC, WUHOU, rid) == "delivered", 60, "delivered")
    stack.compose("down")  # keeps the volumes
    stack.compose("up", "-d")
    until(lambda: stack.settled(SERVICES, ["setup"]), 300, "healthy after up")
    assert state_at(stack, ZJ, YUHANG, rid) == "delivered"  # PostgreSQL's volume
    # RabbitMQ's volume: the desks' durable queues and the default user are still there
    later = create(stack, WUHOU)
    until(lambda: state_at(stack, SC, WUHOU, later) == "delivered", 60, "delivered after up")


def test_ensure_infra_starts_postgres_and_rabbitmq_with_compose() -> None:
    # Given nothing answers on these ports (free now), and local servers serve others
    infra = Stack()
    try:
        result = subprocess.run(
            ["bash", str(ROOT / "deploy" / "scripts" / "ensure-infra.sh")],
            cwd=ROOT, env={**infra.env, "XIECHA_INFRA_TIMEOUT": "180"},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False,
        )
        # Then it started both as compose services on exactly those ports
        assert result.returncode == 0, result.stdout + result.stderr
        assert "postgresql: started docker compose service" in result.stdout, result.stdout
        assert "rabbitmq: started docker compose service" in result.stdout, result.stdout
        running = {c["Service"] for c in infra.containers() if c["State"] == "running"}
        assert running == {"postgres", "rabbitmq"}, running
        status, overview = call_mgmt(infra)
        assert status == 200 and overview["management_version"], overview
    finally:
        infra.down()


def call_mgmt(stack: Stack) -> tuple[int, Any]:
    req = urllib.request.Request(stack.url("XIECHA_RABBIT_MGMT_PORT", "/api/overview"))
    req.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())
