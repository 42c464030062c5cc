"""docker-compose.yml and the deploy scripts: structure, validity, and a real run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from protocol.provinces import PROVINCES
from services.setup import SetupSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCRIPTS = ROOT / "deploy" / "scripts"
ENSURE_INFRA = SCRIPTS / "ensure-infra.sh"
BOOTSTRAP_VENV = SCRIPTS / "bootstrap-venv.sh"


VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(text: str) -> str:
    """${VAR:-default} as compose reads it with no .env: the default."""
    return VARIABLE.sub(lambda m: m.group(2) or "", text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(encoding="utf-8")))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _desks(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc for name, svc in _services(compose).items() if "services.desk" in _command(svc)
    }


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def _host_ports(service: dict[str, Any]) -> list[str]:
    """Published host ports, as "port/protocol"; container-only ports are left out."""
    published = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            if port.get("published") is not None:
                published.append(f"{port['published']}/{port.get('protocol', 'tcp')}")
            continue
        spec, _, protocol = str(port).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) >= 2:  # [ip:]host:container
            published.append(f"{parts[-2]}/{protocol or 'tcp'}")
    return published


def test_expected_services_exist(compose: dict[str, Any]) -> None:
    names = set(_services(compose))
    assert {"postgres", "rabbitmq", "hub", "setup"} <= names
    desks = _desks(compose)
    assert len(desks) >= 3, f"expected at least three desks, found {sorted(desks)}"
    regions = [_env(svc).get("XIECHA_DESK_REGION") for svc in desks.values()]
    assert None not in regions and len(set(regions)) == len(regions), regions


def test_each_desk_has_its_own_database(compose: dict[str, Any]) -> None:
    databases = {}
    for name, svc in _desks(compose).items():
        url = _env(svc).get("XIECHA_DESK_DATABASE_URL")
        assert url, f"{name} has no XIECHA_DESK_DATABASE_URL"
        databases[name] = urlsplit(url).path.lstrip("/")
        assert databases[name], f"{name}: no database name in {url}"
    hub_db = urlsplit(_env(_services(compose)["hub"])["XIECHA_HUB_DATABASE_URL"]).path
    shared = [db for db, n in Counter([*databases.values(), hub_db.lstrip("/")]).items() if n > 1]
    assert not shared, f"databases used by more than one service: {shared} ({databases})"


def test_host_ports_do_not_collide(compose: dict[str, Any]) -> None:
    owners: dict[str, list[str]] = {}
    for name, svc in _services(compose).items():
        for port in _host_ports(svc):
            owners.setdefault(port, []).append(name)
    clashes = {port: names for port, names in owners.items() if len(names) > 1}
    assert not clashes, f"host ports published twice: {clashes}"
    assert {"5432/tcp", "5672/tcp", "15672/tcp"} <= set(owners)


def test_depends_on_targets_exist(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, svc in services.items():
        for target in _depends_on(svc):
            assert target in services, f"{name} depends on unknown service {target!r}"


def test_setup_runs_before_hub_and_desks(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert _depends_on(services["setup"]) == {
        "postgres": {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
    }
    for name in ["hub", *_desks(compose)]:
        deps = _depends_on(services[name])
        assert deps.get("setup", {}).get("condition") == "service_completed_successfully", name
        for infra in ("postgres", "rabbitmq"):
            assert deps.get(infra, {}).get("condition") == "service_healthy", (name, infra)
    for infra in ("postgres", "rabbitmq"):
        assert "healthcheck" in services[infra], f"{infra} needs a healthcheck"


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _compose_spec_schema() -> dict[str, Any]:
    """The Compose Specification JSON schema, as vendored by check-jsonschema."""
    try:
        vendor = resources.files("check_jsonschema.builtin_schemas") / "vendor"
    except ModuleNotFoundError:
        pytest.fail(
            "no docker compose client here, and check-jsonschema (which ships the Compose "
            "specification schema) is not installed: add it to the dev extras"
        )
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return schema


def test_compose_file_is_valid(compose: dict[str, Any]) -> None:
    client = _compose_client()
    if client is not None:
        result = subprocess.run(
            [*client, "-f", str(COMPOSE_FILE), "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return
    schema = _compose_spec_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(
        f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors
    )


def test_every_built_service_has_a_dockerfile(compose: dict[str, Any]) -> None:
    for name, svc in _services(compose).items():
        build = svc.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).is_file(), f"{name}: no {context}/{dockerfile}"


@pytest.mark.parametrize("script", [ENSURE_INFRA, BOOTSTRAP_VENV], ids=lambda p: p.name)
def test_script_parses(script: Path) -> None:
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def _ensure_infra() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ENSURE_INFRA)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ensure_infra_runs_and_is_idempotent() -> None:
    first = _ensure_infra()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "postgresql:" in first.stdout and "rabbitmq:" in first.stdout, first.stdout
    # Both servers are up now, so a second run only probes them.
    second = _ensure_infra()
    assert second.returncode == 0, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert any(line.startswith("postgresql: already up") for line in lines), second.stdout
    assert any(line.startswith("rabbitmq: already up") for line in lines), second.stdout
    assert len(lines) == 2, second.stdout  # nothing started or installed


def test_images_come_from_variables_defaulting_to_the_official_ones() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "${XIECHA_POSTGRES_IMAGE:-postgres:15}" in text
    assert "${XIECHA_RABBITMQ_IMAGE:-rabbitmq:3.13-management}" in text
    assert "PYTHON_IMAGE: ${XIECHA_PYTHON_IMAGE:-python:3.11-slim}" in text
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile


def test_infrastructure_is_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, svc in _services(compose).items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, svc in _services(compose).items():
        if name == "setup":  # one-shot: the others wait for its exit status
            assert svc.get("restart") == "no"
            continue
        check = svc.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "rabbitmqdata:/var/lib/rabbitmq" in services["rabbitmq"]["volumes"]
    assert services["rabbitmq"].get("hostname"), "the node name must not change across up/down"


def test_the_app_runs_as_a_non_root_user() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users


def test_the_desks_serve_every_province_once_and_match_setup(compose: dict[str, Any]) -> None:
    hosted = {_env(svc)["XIECHA_DESK_REGION"]: _env(svc)["XIECHA_DESK_PROVINCES"].split(",")
              for svc in _desks(compose).values()}
    assert sorted(p for ps in hosted.values() for p in ps) == sorted(PROVINCES)
    assert "XIECHA_SETUP_DESKS" not in _env(_services(compose)["setup"])  # setup's default:
    assert dict(SetupSettings().desk_list()) == hosted


def test_services_log_in_as_their_roles_and_setup_as_the_owner(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, svc in _desks(compose).items():
        assert urlsplit(_env(svc)["XIECHA_DESK_DATABASE_URL"]).username == "xiecha_desk", name
    assert urlsplit(_env(services["hub"])["XIECHA_HUB_DATABASE_URL"]).username == "xiecha_hub"
    setup = _env(services["setup"])
    assert urlsplit(setup["XIECHA_HUB_DATABASE_URL"]).username == "postgres"  # migrates
    assert {"desk", "hub"} <= set(json.loads(setup["XIECHA_SETUP_DB_PASSWORDS"]))
