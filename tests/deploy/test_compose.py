"""docker-compose.yml and the Dockerfile against the Compose Specification and against the apps.

The schema says the file is well-formed; the rest says it names only things that exist: every
command is an importable app whose command line accepts its arguments, every environment
variable lands on a settings field (rename a field and a test here fails), every health check
path answers 200 through the real app, every port agrees with the settings' defaults, and the
public/internal URL split is consistent. Running the file for real: scripts/compose_podman.sh.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from awesomeservice.app import create_app as create_awesomeservice
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings
from shared import healthcheck
from shared.health import HEALTH_PATH
from shared.serve import make_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS: dict[str, type[BaseSettings]] = {
    "mockgram": MockgramSettings,
    "awesomeservice": AwesomeServiceSettings,
}
PUBLIC_URL_FIELD = {"mockgram": "issuer", "awesomeservice": "url"}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${NAME:-default}` interpolation, recursively, with `env` as the shell."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: env.get(m["name"], m["default"] or ""), value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as compose sees it (YAML merge keys resolved, variables filled in)."""
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    return interpolate(document, env or {})


COMPOSE = load_compose()
APP_SERVICES = sorted(name for name, service in COMPOSE["services"].items() if "command" in service)


def app_of(service: dict[str, Any]) -> str:
    """Which app a service runs: the module after `python -m`."""
    command = service["command"]
    assert command[:2] == ["python", "-m"], command
    return command[2]


def env_names(settings_class: type[BaseSettings]) -> dict[str, str]:
    """Environment variable name → settings field, as pydantic-settings reads them."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names: dict[str, str] = {}
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            for choice in alias.choices:
                if isinstance(choice, str):
                    names[choice.upper()] = field_name
        elif isinstance(alias, str):
            names[alias.upper()] = field_name
        else:
            names[(prefix + field_name).upper()] = field_name
    return names


def container_port(service: dict[str, Any]) -> int:
    (mapping,) = service["ports"]
    return int(str(mapping).rsplit(":", 1)[1])


def published_port(service: dict[str, Any]) -> int:
    (mapping,) = service["ports"]
    return int(str(mapping).rsplit(":", 1)[0].rsplit(":", 1)[-1])


def port_of(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or {"http": 80, "https": 443}[parts.scheme]


# ── the Compose Specification ────────────────────────────────────────────────────────────


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema, as check-jsonschema ships it."""
    resource = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(resource.read_text())


def test_compose_file_matches_the_compose_specification() -> None:
    schema = compose_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert errors == []


def test_the_schema_check_would_catch_a_misspelled_key() -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    document["services"]["mockgram"]["healthchek"] = document["services"]["mockgram"].pop(
        "healthcheck"
    )
    assert not jsonschema.Draft202012Validator(compose_schema()).is_valid(document)


def test_check_jsonschema_command_accepts_the_file() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(  # noqa: S603 - our own venv's tool on our own file
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ── commands, ports, environment ─────────────────────────────────────────────────────────


def test_both_apps_are_served() -> None:
    assert {"mockgram", "awesomeservice"} <= set(APP_SERVICES)
    assert {app_of(COMPOSE["services"][name]) for name in APP_SERVICES} == set(SETTINGS)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_command_is_an_app_listening_on_every_interface(name: str) -> None:
    service = COMPOSE["services"][name]
    app = app_of(service)
    assert importlib.util.find_spec(f"{app}.__main__") is not None
    assert importlib.util.find_spec(f"{app}.app") is not None
    default_port = port_of(SETTINGS[app]().__getattribute__(PUBLIC_URL_FIELD[app]))
    parser = make_parser(package=app, description="", default_port=default_port)
    args = parser.parse_args(service["command"][3:])
    # Inside a container, 127.0.0.1 is the container's own loopback: nothing else could connect.
    assert args.host == "0.0.0.0"
    assert args.port == container_port(service) == default_port


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_environment_variable_is_a_setting(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE["services"][name]
    settings_class = SETTINGS[app_of(service)]
    known = env_names(settings_class)
    unknown = sorted(set(service["environment"]) - set(known))
    assert unknown == [], f"{name}: no settings field reads {unknown}"
    for variable in list(known):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in service["environment"].items():
        monkeypatch.setenv(variable, value)
    settings = settings_class()
    for variable, value in service["environment"].items():
        read = getattr(settings, known[variable])
        assert (str(read).lower() if isinstance(read, bool) else read) == value, variable


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_runs_in_demo_mode_published_on_loopback_only(name: str) -> None:
    # The published demo secrets work in demo mode only, so only this machine may reach it.
    service = COMPOSE["services"][name]
    prefix = SETTINGS[app_of(service)].model_config.get("env_prefix", "")
    assert service["environment"][f"{prefix}DEMO"] == "true"
    for mapping in service["ports"]:
        assert str(mapping).startswith("127.0.0.1:"), mapping


def test_no_service_publishes_a_port_beyond_this_machine() -> None:
    for name, service in COMPOSE["services"].items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name}: {mapping}"


def test_the_comment_says_how_to_publish_beyond_this_machine() -> None:
    text = COMPOSE_FILE.read_text()
    for step in ("MOCKGRAM_DEMO", "AWESOMESERVICE_DEMO", '"false"', "127.0.0.1:"):
        assert step in text.split("services:", 1)[0], step


def test_the_sqlite_pair_uses_the_default_ports() -> None:
    for name in ("mockgram", "awesomeservice"):
        service = COMPOSE["services"][name]
        default = port_of(getattr(SETTINGS[name](), PUBLIC_URL_FIELD[name]))
        assert published_port(service) == container_port(service) == default


# ── the URL split ────────────────────────────────────────────────────────────────────────


def pairs(compose: dict[str, Any]) -> list[tuple[dict[str, str], dict[str, str], str]]:
    """(mockgram env, awesomeservice env, mockgram's service name) for each pair of apps."""
    services = compose["services"]
    result = []
    for name, service in services.items():
        if "command" in service and app_of(service) == "awesomeservice":
            internal = service["environment"]["AWESOMESERVICE_MOCKGRAM_INTERNAL_URL"]
            mockgram_name = urlsplit(internal).hostname
            assert mockgram_name in services, f"{name}: {internal} names no service"
            result.append(
                (services[mockgram_name]["environment"], service["environment"], mockgram_name)
            )
    return result


@pytest.mark.parametrize(
    "shell",
    [{}, {"AWESOMESERVICE_PORT": "9000", "MOCKGRAM_PORT": "9001"}],
    ids=["default ports", "ports taken"],
)
def test_public_and_internal_urls_agree(shell: dict[str, str]) -> None:
    compose = load_compose(shell)
    found = pairs(compose)
    assert len(found) == 2  # the SQLite pair and the PostgreSQL pair
    for mockgram_env, awesome_env, mockgram_name in found:
        mockgram_service = compose["services"][mockgram_name]
        # The issuer is compared as a string (RFC 8414 §3.3): both apps must say the same.
        assert awesome_env["AWESOMESERVICE_MOCKGRAM_URL"] == mockgram_env["MOCKGRAM_ISSUER"]
        assert awesome_env["AWESOMESERVICE_URL"] == mockgram_env["AWESOMESERVICE_URL"]
        # Browser-facing URLs use the published ports …
        assert port_of(mockgram_env["MOCKGRAM_ISSUER"]) == published_port(mockgram_service)
        assert urlsplit(mockgram_env["MOCKGRAM_ISSUER"]).hostname in ("localhost", "127.0.0.1")
        # … the back channel the container port, by service name.
        internal = awesome_env["AWESOMESERVICE_MOCKGRAM_INTERNAL_URL"]
        assert port_of(internal) == container_port(mockgram_service)
    sqlite_pair = compose["services"]["awesomeservice"]
    assert port_of(sqlite_pair["environment"]["AWESOMESERVICE_URL"]) == published_port(sqlite_pair)
    assert published_port(sqlite_pair) == int(shell.get("AWESOMESERVICE_PORT", "8000"))


def test_awesomeservice_waits_for_a_healthy_mockgram() -> None:
    for _, _, mockgram_name in pairs(COMPOSE):
        dependants = [
            service
            for service in COMPOSE["services"].values()
            if mockgram_name in service.get("depends_on", {})
        ]
        assert dependants
        for service in dependants:
            assert service["depends_on"][mockgram_name]["condition"] == "service_healthy"
    for service in COMPOSE["services"].values():
        for dependency, how in service.get("depends_on", {}).items():
            if how["condition"] == "service_healthy":
                assert "healthcheck" in COMPOSE["services"][dependency]


# ── health checks ────────────────────────────────────────────────────────────────────────


def healthcheck_url(test: list[str]) -> str:
    assert test[:4] == ["CMD", "python", "-m", "shared.healthcheck"], test
    assert importlib.util.find_spec("shared.healthcheck") is not None
    return test[4]


@pytest.fixture
def build_app(mockgram_database_url: str, awesome_database_url: str) -> Callable[[str], FastAPI]:
    def _build(app: str) -> FastAPI:
        if app == "mockgram":
            return create_mockgram(MockgramSettings(database_url=mockgram_database_url))
        return create_awesomeservice(
            AwesomeServiceSettings(database_url=awesome_database_url, doctor_on_start=False)
        )

    return _build


@pytest.mark.parametrize("name", APP_SERVICES)
def test_health_check_answers_through_the_real_app(
    name: str, build_app: Callable[[str], FastAPI]
) -> None:
    service = COMPOSE["services"][name]
    url = healthcheck_url(service["healthcheck"]["test"])
    assert urlsplit(url).hostname == "127.0.0.1"
    assert port_of(url) == container_port(service)
    assert urlsplit(url).path == HEALTH_PATH
    response = TestClient(build_app(app_of(service))).get(urlsplit(url).path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ── data: named volumes for SQLite, one database per app on PostgreSQL ───────────────────


def test_sqlite_files_live_in_named_volumes() -> None:
    for name in ("mockgram", "awesomeservice"):
        service = COMPOSE["services"][name]
        (url,) = [v for k, v in service["environment"].items() if k.endswith("_DATABASE_URL")]
        database = make_url(url).database
        assert database is not None
        (mount,) = service["volumes"]
        volume, target = mount.split(":")[:2]
        assert volume in COMPOSE["volumes"]
        assert Path(database).parent == Path(target)
    assert (
        COMPOSE["services"]["mockgram"]["volumes"]
        != COMPOSE["services"]["awesomeservice"]["volumes"]
    )


def test_postgres_profile_gives_each_app_its_own_database() -> None:
    services = COMPOSE["services"]
    profiled = {name for name, service in services.items() if service.get("profiles")}
    assert profiled == {"postgres", "mockgram-pg", "awesomeservice-pg"}
    assert all(services[name]["profiles"] == ["postgres"] for name in profiled)
    (init_mount,) = [m for m in services["postgres"]["volumes"] if "initdb" in m]
    init_sql = (ROOT / init_mount.split(":")[0]).read_text()
    databases = set()
    for name in ("mockgram-pg", "awesomeservice-pg"):
        service = services[name]
        (url,) = [v for k, v in service["environment"].items() if k.endswith("_DATABASE_URL")]
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg"
        assert importlib.util.find_spec("psycopg") is not None
        assert parsed.host == "postgres" and parsed.port == 5432
        assert f"CREATE ROLE {parsed.username} LOGIN PASSWORD '{parsed.password}';" in init_sql
        assert f"CREATE DATABASE {parsed.database} OWNER {parsed.username};" in init_sql
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        databases.add(parsed.database)
    assert len(databases) == 2


# ── the Dockerfile ───────────────────────────────────────────────────────────────────────


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def last(keyword: str) -> str:
    return [rest for key, rest in dockerfile_instructions() if key == keyword][-1]


def test_dockerfile_base_user_and_install() -> None:
    bases = [rest for key, rest in dockerfile_instructions() if key == "FROM"]
    assert all(re.fullmatch(r"python:3\.1[1-9]-slim( AS \w+)?", base) for base in bases)
    assert last("USER") not in ("root", "0")
    # The project itself is installed (with its extras), and every extra named exists.
    installs = [rest for key, rest in dockerfile_instructions() if "pip install" in rest]
    (install,) = [rest for rest in installs if '".[' in rest]
    extras = re.findall(r"\.\[([a-z,]+)\]", " ".join(installs))
    extras += re.findall(r"\['optional-dependencies'\]\['([a-z]+)'\]", DOCKERFILE.read_text())
    assert extras
    pyproject = (ROOT / "pyproject.toml").read_text()
    for extra in ",".join(extras).split(","):
        assert re.search(rf"^{extra} = \[", pyproject, re.MULTILINE), extra


def test_dockerfile_copies_every_package_before_installing_the_project() -> None:
    rows = dockerfile_instructions()
    install = next(i for i, (key, rest) in enumerate(rows) if key == "RUN" and '".[' in rest)
    copied = {rest.split()[0] for key, rest in rows[:install] if key == "COPY"}
    # pyproject's package list: every package setuptools installs must be in the build context.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [
        name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    assert packages and set(packages) <= copied, (packages, copied)


def test_dockerfile_installs_every_dependency_pyproject_declares() -> None:
    # Run the Dockerfile's own dependency-listing command against this pyproject.toml.
    (run,) = [rest for key, rest in dockerfile_instructions() if "tomllib" in rest]
    script = re.search(r'python -c "(.+?)" >', run)
    assert script, run
    listed = subprocess.run(
        [sys.executable, "-c", script.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = project["dependencies"] + project["optional-dependencies"]["postgres"]
    assert listed == [d.replace(" ", "") for d in expected]


def test_dockerfile_command_and_health_check_match_the_app() -> None:
    command = json.loads(last("CMD"))
    app = app_of({"command": command})
    default_port = port_of(getattr(SETTINGS[app](), PUBLIC_URL_FIELD[app]))
    args = make_parser(package=app, description="", default_port=default_port).parse_args(
        command[3:]
    )
    assert args.host == "0.0.0.0" and args.port == default_port
    # The image runs either app: its health check, naming no URL, tries each app's default.
    health = json.loads(last("HEALTHCHECK").split("CMD", 1)[1])
    assert health == ["python", "-m", "shared.healthcheck"]
    defaults = {port_of(getattr(SETTINGS[name](), PUBLIC_URL_FIELD[name])) for name in SETTINGS}
    assert {port_of(url) for url in healthcheck.DEFAULT_URLS} == defaults
    assert {urlsplit(url).path for url in healthcheck.DEFAULT_URLS} == {HEALTH_PATH}
    exposed = {int(port) for port in last("EXPOSE").split()}
    assert {container_port(COMPOSE["services"][name]) for name in APP_SERVICES} <= exposed


def test_dockerfile_environment_names_settings() -> None:
    names = {**env_names(MockgramSettings), **env_names(AwesomeServiceSettings)}
    variables = re.findall(r"([A-Z][A-Z0-9_]+)=", last("ENV"))
    app_variables = [v for v in variables if v.startswith(("MOCKGRAM_", "AWESOMESERVICE_"))]
    assert app_variables
    assert [v for v in app_variables if v not in names] == []


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for needed in ("pyproject.toml", "README.md", "shared", "mockgram", "awesomeservice"):
        assert needed not in ignored
    for copied in re.findall(r"^COPY (?!--)(\S+)", DOCKERFILE.read_text(), re.MULTILINE):
        assert (ROOT / copied).exists(), copied
    assert ".venv" in ignored and "data" in ignored
