"""The configuration file: who exists, which apps are registered, and how tokens are made.

`python -m mockgram --config FILE` (or MOCKGRAM_CONFIG=FILE) reads a TOML file; the built-in
demo — John, Jane, AwesomeService and its other clients — is itself such a file,
mockgram/demo/mockgram.toml, used when none is given. examples/mockgram.toml explains each key.

The file is checked whole before anything is written, with pydantic models that refuse unknown
keys. A bad file stops Mockgram at start with one line naming the file, the line, the key and
what is wrong (ConfigError) — never a traceback. A string may name a setting as
`${awesomeservice_url}` (see SETTING_NAMES), so the demo follows AWESOMESERVICE_URL.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from mockgram.clients import without_front_channel
from mockgram.config_lines import locate
from mockgram.demo.painter import SCENES
from mockgram.keys import RS256, parse_pinned_key
from mockgram.oauth.claims import PROTOCOL_CLAIMS
from mockgram.people import PeopleError, check_redirect_uri
from mockgram.scopes import SCOPES, ScopeInfo
from mockgram.settings import MockgramSettings
from shared.response_types import RESPONSE_TYPES

DEMO_CONFIG = Path(__file__).resolve().parent / "demo" / "mockgram.toml"
# The settings a string may name as ${name}.
SETTING_NAMES = (
    "issuer",
    "demo_password",
    "awesomeservice_url",
    "awesomeservice_client_id",
    "awesomeservice_client_secret",
    "debugger_client_secret",
)
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Claims a person's own argument sets (people.upsert_user), not their `claims` table.
_COLUMN_CLAIMS = ("name", "email", "email_verified", "preferred_username")

Loc = tuple[str | int, ...]


class ConfigError(Exception):
    """A configuration file Mockgram cannot use; str() is the one line to show."""

    def __init__(self, file: Path, line: int | None, key: str, problem: str) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
        self.file, self.line, self.key, self.problem = file, line, key, problem


def _absolute_uri(value: str) -> str:
    try:
        return check_redirect_uri(value, owner="This client")
    except PeopleError as exc:
        raise ValueError(str(exc).removeprefix("This client: ")) from exc


def _issuer(value: str) -> str:
    # RFC 8414 §2: an https (or, for local tests, http) URL with no query or fragment.
    if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", value):
        raise ValueError("the issuer must be an http(s) URL without query or fragment")
    return value.rstrip("/")


def _username(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.@-]+", value):
        raise ValueError("a username has only letters, digits and _ . @ -")
    return value


def _scope_name(value: str) -> str:
    # RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    if not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", value):
        raise ValueError("a scope name has no spaces, quotes or backslashes (RFC 6749 §3.3)")
    return value


def _scene(value: str) -> str:
    if value not in SCENES:
        raise ValueError(f"unknown scene {value!r}; one of: {', '.join(SCENES)}")
    return value


class Strict(BaseModel):
    # Unknown keys are mistakes (a typo would otherwise be silently ignored); no type guessing.
    model_config = ConfigDict(extra="forbid", strict=True)


class PhotoConfig(Strict):
    scene: Annotated[str, AfterValidator(_scene)]
    caption: str = ""
    taken_at: datetime | None = None


NonEmpty = Annotated[str, Field(min_length=1)]


class UserConfig(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_username)]
    password: NonEmpty
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    email: Annotated[str, Field(max_length=200)] = ""
    email_verified: bool = False
    sub: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    claims: dict[str, Any] = {}
    id_token_claims: list[str] = []
    access_token_claims: list[str] = []
    userinfo_claims: list[str] | None = None
    photos: list[PhotoConfig] = []


class ClientConfig(Strict):
    client_id: Annotated[str, Field(min_length=1, max_length=100)]
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    secret: NonEmpty | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] = (
        "client_secret_basic"
    )
    # Required, unless the client is a machine (only grants without a browser, below).
    redirect_uris: list[Annotated[str, AfterValidator(_absolute_uri)]] = []
    scopes: list[str] = ["openid", "profile", "email"]
    # None: ["code"], or none at all for a machine client.
    response_types: list[str] | None = None
    grant_types: (
        list[
            Literal[
                "authorization_code",
                "implicit",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ]
        ]
        | None
    ) = None
    id_token_signed_response_alg: Literal["RS256", "ES256"] | None = None
    # RP-Initiated Logout §3.1, RFC 9126 §6, FAPI 2.0 (mockgram/oauth/fapi.py).
    post_logout_redirect_uris: list[Annotated[str, AfterValidator(_absolute_uri)]] = []
    require_pushed_authorization_requests: bool = False
    fapi2_security_profile: bool = False

    @property
    def machine(self) -> bool:
        """Registered only for grants without a browser: no redirect URI, no response type."""
        return without_front_channel(self.grant_types)

    @property
    def response_type_list(self) -> list[str]:
        """response_types as written, or the default: ["code"], [] for a machine client."""
        if self.response_types is not None:
            return self.response_types
        return [] if self.machine else ["code"]

    # RFC 9449 §5.2: every token request of this client must carry a DPoP proof.
    dpop_bound_access_tokens: bool = False


class ScopeConfig(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_scope_name)]
    title: NonEmpty
    description: str = ""
    dangerous: bool = False
    claims: list[str] = []


class TokensConfig(Strict):
    access_token_seconds: Annotated[int, Field(ge=1)] | None = None
    id_token_seconds: Annotated[int, Field(ge=1)] | None = None
    refresh_token_seconds: Annotated[int, Field(ge=1)] | None = None
    # RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
    code_seconds: Annotated[int, Field(ge=1, le=600)] | None = None


class SigningConfig(Strict):
    algorithm: Literal["RS256", "ES256"] = "RS256"
    key: NonEmpty | None = None  # a private JWK (JSON) or PEM, inline
    key_file: NonEmpty | None = None  # …or in a file, relative to this one
    kid: NonEmpty | None = None


class MockgramConfig(Strict):
    issuer: Annotated[str, AfterValidator(_issuer)] | None = None
    seed_demo: bool = False
    tokens: TokensConfig = TokensConfig()
    signing: SigningConfig | None = None
    scopes: list[ScopeConfig] = []
    users: list[UserConfig] = []
    clients: list[ClientConfig] = []


class LoadedConfig(BaseModel):
    """A checked configuration: its model, and the settings it fills in."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    file: Path
    text: str
    config: MockgramConfig
    settings_values: dict[str, Any]

    def error(self, loc: Loc, problem: str) -> ConfigError:
        """A problem found later (writing to the database), pointed at like the others."""
        return _error_at(self.file, self.text, loc, problem)

    def apply_to(self, settings: MockgramSettings) -> MockgramSettings:
        """The settings with what the file says, where the environment or caller said nothing."""
        explicit = settings.model_fields_set
        updates = {k: v for k, v in self.settings_values.items() if k not in explicit}
        return settings.model_copy(update=updates)


def load_config(file: Path, settings: MockgramSettings | None = None) -> LoadedConfig:
    """Read and check `file`; ConfigError (one line: file, line, key, problem) if it is bad."""
    settings = settings or MockgramSettings()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, None, "", f"cannot read the file ({_reason(exc)})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(file, text, exc) from None
    raw = _fill_placeholders(file, text, raw, settings)
    try:
        config = MockgramConfig.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(file, text, exc) from None
    problem = _cross_checks(config)
    if problem is not None:
        loc, message = problem
        raise _error_at(file, text, loc, message)
    values = _settings_values(file, text, config)
    return LoadedConfig(file=file, text=text, config=config, settings_values=values)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def dotted(loc: Sequence[str | int]) -> str:
    """("users", 1, "claims") → users[1].claims, as people write it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_at(file: Path, text: str, loc: Loc, problem: str, value: object = None) -> ConfigError:
    return ConfigError(file, locate(text, loc, value), dotted(loc), problem)


def _syntax_error(file: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    """tomllib's message with its line; the key written on that line, when one is."""
    message = str(exc)
    found = re.search(r"\(at line (\d+), column \d+\)", message)
    line = int(found.group(1)) if found else getattr(exc, "lineno", None)
    problem = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    key = ""
    if line:
        lines = text.splitlines()
        written = lines[line - 1] if 0 < line <= len(lines) else ""
        key_match = re.match(r"""\s*\[*\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)""", written)
        key = key_match.group(1) if key_match else ""
    return ConfigError(file, line, key, f"TOML syntax error: {problem}")


def _first_error(file: Path, text: str, exc: ValidationError) -> ConfigError:
    """The first problem pydantic found, in plain words."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the real one "missing": the misspelling is the news.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc: Loc = tuple(part for part in error["loc"] if not isinstance(part, str) or part)
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else f"; known keys: {', '.join(allowed)}"
        message = f"unknown key{hint}"
    elif kind == "missing":
        message = "this key is required but missing"
    elif kind in ("model_type", "dict_type"):
        message = f"should be a table, got {type(error.get('input')).__name__}"
    elif kind.endswith("_type"):
        message = f"{message}, got {type(error.get('input')).__name__} {error.get('input')!r}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "literal_error":
        message = f"{message}, got {error.get('input')!r}"
    # A literal list's index ("grant_types[1]") is worth keeping; a union's branch name is not.
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "list["))))
    loc = tuple(p for p in loc if p not in ("str", "int", "bool", "list", "dict", "none"))
    return _error_at(file, text, loc, message, error.get("input"))


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys the table at `loc` may have."""
    model: type[BaseModel] = MockgramConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly, in a list, or optionally."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _fill_placeholders(
    file: Path, text: str, value: Any, settings: MockgramSettings, loc: Loc = ()
) -> Any:
    """Replace ${setting} in every string with that setting's value."""
    if isinstance(value, dict):
        return {k: _fill_placeholders(file, text, v, settings, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_placeholders(file, text, v, settings, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in SETTING_NAMES:
            problem = (
                f"${{{name}}} is not a setting one can name; one of: {', '.join(SETTING_NAMES)}"
            )
            raise _error_at(file, text, loc, problem)
        return str(getattr(settings, name))

    return _PLACEHOLDER.sub(setting, value)


def _cross_checks(config: MockgramConfig) -> tuple[Loc, str] | None:
    """What one key alone cannot say: duplicates, and names that must exist elsewhere."""
    known_scopes = set(SCOPES) | {scope.name for scope in config.scopes}
    seen: dict[tuple[str, str], int] = {}
    for kind, items, field in (
        ("scopes", config.scopes, "name"),
        ("users", config.users, "username"),
        ("users", config.users, "sub"),
        ("clients", config.clients, "client_id"),
    ):
        for index, item in enumerate(items):
            value = getattr(item, field)
            if value is None:
                continue
            first = seen.setdefault((kind + field, value), index)
            if first != index:
                return (kind, index, field), f"duplicate: {kind}[{first}] has {field} {value!r} too"
    for index, scope in enumerate(config.scopes):
        reserved = [claim for claim in scope.claims if claim in PROTOCOL_CLAIMS]
        if reserved:
            return ("scopes", index, "claims"), f"{reserved[0]!r} is set by the protocol itself"
    for index, user in enumerate(config.users):
        problem = _user_problem(user)
        if problem is not None:
            return ("users", index, *problem[0]), problem[1]
    for index, client in enumerate(config.clients):
        problem = _client_problem(client, known_scopes)
        if problem is not None:
            return ("clients", index, *problem[0]), problem[1]
    return None


def _user_problem(user: UserConfig) -> tuple[Loc, str] | None:
    for claim in user.claims:
        if claim in PROTOCOL_CLAIMS:
            return ("claims", claim), "set by the protocol itself, not per person"
        if claim in _COLUMN_CLAIMS:
            return ("claims", claim), f"write it as the user's own key {claim!r}, not a claim"
    has = set(user.claims) | {"name", "preferred_username", "picture"}
    has |= {"email", "email_verified"} if user.email else set()
    for rule in ("id_token_claims", "access_token_claims", "userinfo_claims"):
        for position, claim in enumerate(getattr(user, rule) or []):
            if claim not in has:
                return (rule, position), f"{claim!r} is not a claim this user has"
    return None


def _client_problem(client: ClientConfig, known_scopes: set[str]) -> tuple[Loc, str] | None:
    public = client.token_endpoint_auth_method == "none"
    if public and client.secret is not None:
        return ("secret",), "a public client (token_endpoint_auth_method = 'none') has no secret"
    if not public and client.secret is None:
        return (
            "secret",
        ), "a confidential client needs a secret (or token_endpoint_auth_method = 'none')"
    for position, scope in enumerate(client.scopes):
        if scope not in known_scopes:
            return ("scopes", position), f"unknown scope {scope!r}; add it under [[scopes]]"
    if public and "client_credentials" in (client.grant_types or []):
        return ("grant_types",), "client_credentials needs a confidential client with a secret"
    words: set[str] = set()
    for position, response_type in enumerate(client.response_type_list):
        if response_type not in RESPONSE_TYPES:
            known = ", ".join(RESPONSE_TYPES)
            return ("response_types", position), f"unknown {response_type!r}; one of: {known}"
        words |= set(response_type.split())
    if client.fapi2_security_profile and (public or client.response_type_list != ["code"]):
        # FAPI 2.0 §5.3.2: confidential clients, response_type code only.
        return ("fapi2_security_profile",), "a FAPI 2.0 client is confidential and uses code only"
    # RFC 6749 §3.1.2.2: a client that uses the authorization endpoint registers where to return.
    if words and not client.redirect_uris:
        return (
            "redirect_uris",
        ), "at least one redirect URI (only a device or machine client has none)"
    if client.grant_types is not None:
        # RFC 7591 §2.1: the grant types the response types need must be listed.
        if "code" in words and "authorization_code" not in client.grant_types:
            return ("grant_types",), "response type code needs the authorization_code grant"
        if words & {"token", "id_token"} and "implicit" not in client.grant_types:
            return ("grant_types",), "token and id_token response types need the implicit grant"
    return None


def _settings_values(file: Path, text: str, config: MockgramConfig) -> dict[str, Any]:
    """The settings the file fills in (only what it says)."""
    values: dict[str, Any] = {"seed_demo_data": config.seed_demo}
    if config.issuer is not None:
        values["issuer"] = config.issuer
    lifetimes = {
        "access_token_seconds": "access_token_ttl_seconds",
        "id_token_seconds": "id_token_ttl_seconds",
        "refresh_token_seconds": "refresh_token_ttl_seconds",
        "code_seconds": "code_ttl_seconds",
    }
    for key, setting in lifetimes.items():
        value = getattr(config.tokens, key)
        if value is not None:
            values[setting] = value
    if config.scopes:
        values["configured_scopes"] = tuple(
            ScopeInfo(
                s.name,
                s.title,
                s.description,
                dangerous=s.dangerous,
                # openid is the request itself, reworded or not (mockgram/scopes.py).
                required=s.name in SCOPES and SCOPES[s.name].required,
                claims=tuple(s.claims),
            )
            for s in config.scopes
        )
    signing = config.signing
    if signing is not None:
        values["signing_alg"] = signing.algorithm
        key_text = signing.key
        where: Loc = ("signing", "key")
        if signing.key_file is not None:
            where = ("signing", "key_file")
            if key_text is not None:
                raise _error_at(file, text, where, "give key or key_file, not both")
            path = (file.parent / signing.key_file).resolve()
            try:
                key_text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _error_at(file, text, where, f"cannot read {path} ({_reason(exc)})") from None
        if key_text is not None:
            try:
                key = parse_pinned_key(key_text, alg=signing.algorithm, kid=signing.kid)
            except ValueError as exc:
                raise _error_at(file, text, where, str(exc)) from None
            values["signing_key"] = key_text
            values["signing_key_id"] = str(key.kid)
        elif signing.kid is not None:
            raise _error_at(file, text, ("signing", "kid"), "a kid needs a key or key_file")
    return values


def id_token_alg(client: ClientConfig, config: MockgramConfig) -> str:
    """The client's own choice, else the file's signing algorithm (OIDC Registration §2)."""
    if client.id_token_signed_response_alg is not None:
        return client.id_token_signed_response_alg
    return config.signing.algorithm if config.signing is not None else RS256
