"""The issuer doctor: each kind of mismatch explained, the page, the CLI and the check at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

import httpx
import pytest
from fastapi.testclient import TestClient

import awesomeservice.__main__ as cli
from awesomeservice.app import create_app
from awesomeservice.doctor import (
    Diagnosis,
    check_client_secret,
    diagnose,
    metadata_urls,
    run_cli,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.oauth_spec import OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

PUBLIC = "http://localhost:8001"
INTERNAL = "http://mockgram:8001"
Handler = Callable[[httpx.Request], httpx.Response]


def metadata(issuer: str = PUBLIC, authorize_base: str | None = None) -> dict[str, str]:
    base = issuer.rstrip("/") if authorize_base is None else authorize_base
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
    }


def serving(document: dict[str, str], *, path: str = OIDC_DISCOVERY_PATH) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return httpx.Response(200, json=document)
        return httpx.Response(404, json={"error": "not_found"})

    return handler


def failing(exc: type[httpx.TransportError], message: str = "simulated") -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(message, request=request)

    return handler


@pytest.fixture
def make_settings() -> Callable[..., AwesomeServiceSettings]:
    def _make(**overrides: object) -> AwesomeServiceSettings:
        values: dict[str, object] = {
            "url": "http://localhost:8000",
            "mockgram_url": PUBLIC,
            "mockgram_internal_url": INTERNAL,
            # The doctor reads no database: one run, on SQLite, not one more on PostgreSQL.
            "database_url": "sqlite://",
            "demo": True,  # the demo client secret: only the URLs are in question here
            "secret_key": "test-secret-key-for-the-doctor",
            "doctor_on_start": False,
        }
        values.update(overrides)
        return AwesomeServiceSettings(**values)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def run(
    make_settings: Callable[..., AwesomeServiceSettings],
) -> Callable[..., Diagnosis]:
    def _run(handler: Handler, **overrides: object) -> Diagnosis:
        settings = make_settings(**overrides)

        async def go() -> Diagnosis:
            transport = httpx.MockTransport(handler)
            async with httpx.AsyncClient(transport=transport) as http:
                return await diagnose(http, settings, timeout=1.0)

        return asyncio.run(go())

    return _run


def levels(diagnosis: Diagnosis) -> dict[str, str]:
    return {finding.topic: finding.level for finding in diagnosis.findings}


def finding(diagnosis: Diagnosis, topic: str) -> str:
    (match,) = [f for f in diagnosis.findings if f.topic == topic]
    return f"{match.level}: {match.message} FIX: {match.fix}"


# ── what it fetches ──────────────────────────────────────────────────────────────────────


def test_metadata_urls_follow_both_specifications() -> None:
    assert metadata_urls("http://mockgram:8001") == [
        "http://mockgram:8001/.well-known/openid-configuration",
        "http://mockgram:8001/.well-known/oauth-authorization-server",
    ]
    # RFC 8414 §3.1 inserts the well-known path before the issuer's path; OIDC appends it.
    assert metadata_urls("https://idp.example/tenant") == [
        "https://idp.example/tenant/.well-known/openid-configuration",
        "https://idp.example/.well-known/oauth-authorization-server/tenant",
    ]


def test_everything_agrees(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata()))
    assert diagnosis.healthy
    assert levels(diagnosis) == {"Back channel": "ok", "Issuer": "ok", "Browser redirect": "ok"}
    assert diagnosis.metadata_url == f"{INTERNAL}{OIDC_DISCOVERY_PATH}"
    assert diagnosis.issuer == PUBLIC
    assert diagnosis.authorization_endpoint == f"{PUBLIC}/oauth/authorize"


def test_falls_back_to_the_oauth_metadata(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(), path=OAUTH_METADATA_PATH))
    assert diagnosis.healthy
    assert diagnosis.metadata_url == f"{INTERNAL}{OAUTH_METADATA_PATH}"


def test_the_request_goes_to_the_internal_url(run: Callable[..., Diagnosis]) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(f"{request.url.scheme}://{request.url.host}:{request.url.port}")
        return serving(metadata())(request)

    run(handler)
    assert hosts == [INTERNAL]


# ── each kind of mismatch, in words ──────────────────────────────────────────────────────


def test_trailing_slash(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer=PUBLIC + "/", authorize_base=PUBLIC)))
    text = finding(diagnosis, "Issuer")
    assert text.startswith("error:")
    assert "only by a trailing slash" in text
    assert "MOCKGRAM_ISSUER" in text and "AWESOMESERVICE_MOCKGRAM_URL" in text
    assert levels(diagnosis)["Browser redirect"] == "ok"


def test_scheme(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer="https://localhost:8001")))
    assert "the scheme is https, not http" in finding(diagnosis, "Issuer")
    assert "the scheme is https, not http" in finding(diagnosis, "Browser redirect")
    assert not diagnosis.healthy


def test_other_host(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer="http://127.0.0.1:8001")))
    text = finding(diagnosis, "Issuer")
    assert "the host is “127.0.0.1”, not “localhost”" in text
    assert "port" not in text.split("FIX")[0]


def test_port(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer="http://localhost:9001")))
    assert "the port is 9001, not 8001" in finding(diagnosis, "Issuer")


def test_port_written_out(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(
        serving(metadata(issuer="http://mockgram.example:80", authorize_base="http://x.example")),
        mockgram_url="http://mockgram.example",
    )
    assert "written out in one and left implicit" in finding(diagnosis, "Issuer")


def test_path(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer=PUBLIC + "/oauth", authorize_base=PUBLIC)))
    assert "the path is “/oauth”, not “/”" in finding(diagnosis, "Issuer")


def test_internal_name_leaking_into_the_issuer(run: Callable[..., Diagnosis]) -> None:
    # The classic compose mistake: MOCKGRAM_ISSUER=http://mockgram:8001.
    diagnosis = run(serving(metadata(issuer=INTERNAL)))
    issuer = finding(diagnosis, "Issuer")
    assert "internal name" in issuer and "browser cannot resolve it" in issuer
    assert f"Set MOCKGRAM_ISSUER to the URL browsers use, {PUBLIC}" in issuer
    redirect = finding(diagnosis, "Browser redirect")
    assert redirect.startswith("error:")
    assert f"Browsers would be sent to {INTERNAL}/oauth/authorize" in redirect
    assert len(diagnosis.problems) == 2


def test_internal_name_only_in_the_authorization_endpoint(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer=PUBLIC, authorize_base=INTERNAL)))
    assert levels(diagnosis) == {
        "Back channel": "ok",
        "Issuer": "ok",
        "Browser redirect": "error",
    }
    assert "internal name" in finding(diagnosis, "Browser redirect")


def test_missing_authorization_endpoint(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving({"issuer": PUBLIC}))
    assert "no authorization_endpoint" in finding(diagnosis, "Browser redirect")


def test_a_service_name_as_the_public_url(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(serving(metadata(issuer=INTERNAL)), mockgram_url=INTERNAL)
    text = finding(diagnosis, "Public URL")
    assert text.startswith("warning:")
    assert "cannot resolve “mockgram”" in text
    # The issuer matches the (wrong) public URL, so that comparison alone would look fine.
    assert levels(diagnosis)["Issuer"] == "ok"
    assert not diagnosis.healthy


def test_a_service_name_as_the_public_url_is_never_advised_for_the_issuer(
    run: Callable[..., Diagnosis],
) -> None:
    # Public URL the service name, back channel fine, Mockgram's issuer the browser's URL.
    diagnosis = run(serving(metadata(issuer=PUBLIC)), mockgram_url=INTERNAL)
    assert finding(diagnosis, "Public URL").startswith("warning:")
    for topic in ("Issuer", "Browser redirect"):
        text = finding(diagnosis, topic)
        assert text.startswith("error:"), topic
        assert f"set it to {INTERNAL}" not in text, topic  # never spread the internal name
        assert "First mend the public URL" in text, topic


# ── metadata unreachable or unusable ─────────────────────────────────────────────────────


def test_timeout(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(failing(httpx.ReadTimeout))
    text = finding(diagnosis, "Back channel")
    assert "did not answer within 1 seconds" in text
    assert "docker compose ps" in text
    assert diagnosis.issuer is None
    assert [f.topic for f in diagnosis.findings] == ["Back channel"]


def test_connection_refused(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(failing(httpx.ConnectError, "[Errno 111] Connection refused"))
    assert "Connection to mockgram:8001 was refused" in finding(diagnosis, "Back channel")


def test_connection_refused_on_localhost_mentions_containers(
    run: Callable[..., Diagnosis],
) -> None:
    diagnosis = run(
        failing(httpx.ConnectError, "[Errno 111] Connection refused"),
        mockgram_internal_url="http://localhost:8001",
    )
    text = finding(diagnosis, "Back channel")
    assert "localhost is the container itself" in text
    assert "http://mockgram:8001" in text


def test_name_does_not_resolve(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(failing(httpx.ConnectError, "[Errno -2] Name or service not known"))
    text = finding(diagnosis, "Back channel")
    assert "“mockgram”" in text and "does not resolve" in text
    assert "only inside the compose network" in text


def test_no_metadata_at_either_path(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(lambda request: httpx.Response(404))
    text = finding(diagnosis, "Metadata")
    assert "openid-configuration answered HTTP 404" in text
    assert "oauth-authorization-server answered HTTP 404" in text


def test_not_json(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(lambda request: httpx.Response(200, text="<html>a proxy</html>"))
    assert "not with JSON" in finding(diagnosis, "Metadata")


def test_json_without_issuer(run: Callable[..., Diagnosis]) -> None:
    diagnosis = run(lambda request: httpx.Response(200, json={"hello": "world"}))
    assert "without an “issuer”" in finding(diagnosis, "Metadata")


# ── the page ─────────────────────────────────────────────────────────────────────────────


def test_page_when_all_is_well(make_settings: Callable[..., AwesomeServiceSettings]) -> None:
    app = create_app(make_settings(), http_transport=httpx.MockTransport(serving(metadata())))
    with TestClient(app, base_url="http://localhost:8000") as browser:
        page = browser.get("/doctor")
    assert page.status_code == 200
    assert "Everything agrees." in page.text
    assert f"<code>{INTERNAL}{OIDC_DISCOVERY_PATH}</code>" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_page_explains_a_mismatch(make_settings: Callable[..., AwesomeServiceSettings]) -> None:
    app = create_app(
        make_settings(), http_transport=httpx.MockTransport(serving(metadata(issuer=INTERNAL)))
    )
    with TestClient(app, base_url="http://localhost:8000") as browser:
        page = browser.get("/doctor")
    assert page.status_code == 200
    assert "2 problems" in page.text
    assert "Set MOCKGRAM_ISSUER to the URL browsers use" in page.text
    assert "flash-error" in page.text


def test_page_when_mockgram_is_down(make_settings: Callable[..., AwesomeServiceSettings]) -> None:
    transport = httpx.MockTransport(failing(httpx.ConnectError, "Connection refused"))
    app = create_app(make_settings(), http_transport=transport)
    with TestClient(app, base_url="http://localhost:8000") as browser:
        page = browser.get("/doctor")
    assert page.status_code == 200
    assert "was refused" in page.text
    assert "not fetched" in page.text


# ── the command line ─────────────────────────────────────────────────────────────────────


def _cli_with(monkeypatch: pytest.MonkeyPatch, handler: Handler) -> None:
    monkeypatch.setenv("AWESOMESERVICE_MOCKGRAM_URL", PUBLIC)
    monkeypatch.setenv("AWESOMESERVICE_MOCKGRAM_INTERNAL_URL", INTERNAL)
    monkeypatch.setenv("AWESOMESERVICE_DEMO", "true")  # the demo client secret is set
    monkeypatch.setattr(cli, "run_cli", partial(run_cli, transport=httpx.MockTransport(handler)))


def test_cli_exits_0_when_all_agrees(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_with(monkeypatch, serving(metadata()))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["doctor"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "[ok] Issuer:" in out
    assert out.rstrip().endswith("Everything agrees.")


def test_cli_exits_1_and_explains(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_with(monkeypatch, serving(metadata(issuer=INTERNAL)))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["doctor"])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "[error] Issuer:" in out
    assert "    fix: Set MOCKGRAM_ISSUER" in out
    assert out.rstrip().endswith("2 problems found.")


def test_cli_without_doctor_still_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(cli, "serve", lambda **kwargs: calls.append(kwargs))
    cli.main(["--port", "9000"])
    assert calls[0]["package"] == "awesomeservice"
    assert calls[0]["argv"] == ["--port", "9000"]


# ── at start ─────────────────────────────────────────────────────────────────────────────


def test_start_logs_a_warning_for_a_mismatch(
    make_settings: Callable[..., AwesomeServiceSettings], caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.MockTransport(serving(metadata(issuer=INTERNAL)))
    app = create_app(make_settings(doctor_on_start=True), http_transport=transport)
    with (
        caplog.at_level(logging.WARNING, logger="awesomeservice.doctor"),
        TestClient(app) as browser,
    ):
        assert browser.get("/healthz").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "awesomeservice.doctor"]
    assert any("Issuer" in m and "MOCKGRAM_ISSUER" in m for m in messages)
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.name.endswith("doctor"))


def test_start_never_crashes(
    make_settings: Callable[..., AwesomeServiceSettings], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug in the transport")

    app = create_app(
        make_settings(doctor_on_start=True), http_transport=httpx.MockTransport(broken)
    )
    with (
        caplog.at_level(logging.WARNING, logger="awesomeservice.doctor"),
        TestClient(app) as browser,
    ):
        assert browser.get("/healthz").status_code == 200
    assert any("the check itself failed" in r.getMessage() for r in caplog.records)


def test_start_check_can_be_switched_off(
    make_settings: Callable[..., AwesomeServiceSettings],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    app = create_app(make_settings(), http_transport=httpx.MockTransport(handler))
    with TestClient(app):
        pass
    assert seen == []


def test_a_missing_client_secret_is_an_error_with_the_fix(
    make_settings: Callable[..., AwesomeServiceSettings],
) -> None:
    # Outside demo mode nothing fills the client secret in: the doctor says what to set.
    (finding,) = check_client_secret(make_settings(demo=False))
    assert finding.level == "error"
    assert "AWESOMESERVICE_CLIENT_SECRET" in finding.message
    assert "Mockgram printed" in finding.fix
    assert check_client_secret(make_settings(demo=False, client_secret="set-by-you")) == []


# ── "Log in with…" at another provider (AWESOMESERVICE_LOGIN_ISSUER) ──────────────────────

KEYCLOAK = "http://localhost:8080/realms/demo"


def two_providers(login_document: dict[str, str]) -> Handler:
    """Mockgram on its internal URL, and the login provider on its own."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "localhost" and request.url.port == 8080:
            if request.url.path == "/realms/demo" + OIDC_DISCOVERY_PATH:
                return httpx.Response(200, json=login_document)
            return httpx.Response(404)
        return serving(metadata())(request)

    return handler


def test_the_login_issuer_is_checked_too_when_it_is_another_provider(
    run: Callable[..., Diagnosis],
) -> None:
    diagnosis = run(
        two_providers(metadata(KEYCLOAK)), login_issuer=KEYCLOAK, login_provider_name="Keycloak"
    )
    assert levels(diagnosis)["Login issuer"] == "ok"
    assert "Keycloak's discovery document names the issuer" in finding(diagnosis, "Login issuer")
    assert diagnosis.healthy


def test_a_login_issuer_its_provider_does_not_name_is_an_error_with_the_fix(
    run: Callable[..., Diagnosis],
) -> None:
    diagnosis = run(two_providers(metadata(KEYCLOAK + "/")), login_issuer=KEYCLOAK)
    said = finding(diagnosis, "Login issuer")
    assert said.startswith("error:")
    assert "differ only by a trailing slash" in said
    assert "AWESOMESERVICE_LOGIN_ISSUER" in said and "localhost:8080's discovery" in said
    assert not diagnosis.healthy


def test_an_unreachable_login_provider_is_an_error(run: Callable[..., Diagnosis]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8080:
            raise httpx.ConnectError("refused", request=request)
        return serving(metadata())(request)

    diagnosis = run(handler, login_issuer=KEYCLOAK)
    assert finding(diagnosis, "Login issuer").startswith("error:")
    assert "could not be fetched (ConnectError)" in finding(diagnosis, "Login issuer")


def test_with_mockgram_as_the_login_provider_nothing_more_is_fetched(
    run: Callable[..., Diagnosis],
) -> None:
    diagnosis = run(serving(metadata()))
    assert "Login issuer" not in levels(diagnosis)
