"""A bad configuration file stops Mockgram with one line: file, line, key and the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockgram import __main__ as command
from mockgram.app import create_app
from mockgram.config import ConfigError, load_config
from mockgram.config_lines import locate
from mockgram.settings import MockgramSettings

ROOT = Path(__file__).resolve().parents[2]

GOOD_CLIENT = """
[[clients]]
client_id = "shop"
secret = "s3cret"
redirect_uris = ["https://shop.test/cb"]
"""

# (file text, line, key, words the problem must contain)
CASES = {
    "wrong type": (
        '[[users]]\nusername = "alice"\npassword = 1234\n',
        3,
        "users[0].password",
        "valid string",
    ),
    "wrong type in a table": (
        '[tokens]\naccess_token_seconds = "fifteen minutes"\n',
        2,
        "tokens.access_token_seconds",
        "valid integer",
    ),
    "unknown key": (
        GOOD_CLIENT + 'redirect_uri = "https://shop.test/other"\n',
        6,
        "clients[0].redirect_uri",
        "unknown key; did you mean 'redirect_uris'?",
    ),
    "unknown top-level key": ('isuer = "https://id.test"\n', 1, "isuer", "did you mean 'issuer'"),
    "duplicate user": (
        '[[users]]\nusername = "alice"\npassword = "a"\n\n'
        '[[users]]\nusername = "bob"\npassword = "b"\n\n'
        '[[users]]\nusername = "alice"\npassword = "c"\n',
        10,
        "users[2].username",
        "duplicate: users[0] has username 'alice' too",
    ),
    "duplicate sub": (
        '[[users]]\nusername = "a"\npassword = "a"\nsub = "x"\n\n'
        '[[users]]\nusername = "b"\npassword = "b"\nsub = "x"\n',
        9,
        "users[1].sub",
        "duplicate",
    ),
    "relative redirect URI": (
        '[[clients]]\nclient_id = "shop"\nsecret = "s"\nredirect_uris = [\n'
        '  "https://shop.test/cb",\n  "/callback",\n]\n',
        6,
        "clients[0].redirect_uris[1]",
        "not an absolute URI",
    ),
    "redirect URI with a fragment": (
        '[[clients]]\nclient_id = "shop"\nsecret = "s"\nredirect_uris = ["https://s.test/#x"]\n',
        4,
        "clients[0].redirect_uris[0]",
        "fragment",
    ),
    "TOML syntax": (
        '[[users]]\nusername = "alice"\npassword "forgot the equals sign"\n',
        3,
        "password",
        "TOML syntax error",
    ),
    "TOML key written twice": (
        '[[users]]\nusername = "alice"\nusername = "bob"\n',
        3,
        "username",
        "TOML syntax error",
    ),
    "a number where a table belongs": ("tokens = 5\n", 1, "tokens", "should be a table"),
    "a username with a space": (
        '[[users]]\nusername = "a b"\npassword = "x"\n',
        2,
        "users[0].username",
        "only letters, digits",
    ),
    "missing key": ('[[users]]\nusername = "alice"\n', 1, "users[0].password", "required"),
    "confidential client without a secret": (
        '[[clients]]\nclient_id = "shop"\nredirect_uris = ["https://shop.test/cb"]\n',
        1,
        "clients[0].secret",
        "needs a secret",
    ),
    "unknown scope": (
        GOOD_CLIENT + 'scopes = ["openid", "groups"]\n',
        6,
        "clients[0].scopes[1]",
        "unknown scope 'groups'",
    ),
    "release rule naming a claim the user lacks": (
        '[[users]]\nusername = "a"\npassword = "a"\nid_token_claims = ["groups"]\n',
        4,
        "users[0].id_token_claims[0]",
        "'groups' is not a claim this user has",
    ),
    "a claim the protocol sets": (
        '[[users]]\nusername = "a"\npassword = "a"\n\n[users.claims]\naud = "other-api"\n',
        6,
        "users[0].claims.aud",
        "set by the protocol",
    ),
    "unknown photo scene": (
        '[[users]]\nusername = "a"\npassword = "a"\nphotos = [{ scene = "moon" }]\n',
        4,
        "users[0].photos[0].scene",
        "unknown scene 'moon'",
    ),
    "code lifetime over ten minutes": (
        "[tokens]\ncode_seconds = 3600\n",
        2,
        "tokens.code_seconds",
        "less than or equal to 600",
    ),
    "a signing key that is not a key": (
        '[signing]\nalgorithm = "RS256"\nkey = "not a key"\n',
        3,
        "signing.key",
        "not an RSA private key",
    ),
    "a client with no redirect URI that is no machine": (
        '[[clients]]\nclient_id = "shop"\nsecret = "s"\n',
        1,  # the key is absent: the line of its table
        "clients[0].redirect_uris",
        "at least one redirect URI",
    ),
    "client credentials for a public client": (
        '[[clients]]\nclient_id = "job"\ntoken_endpoint_auth_method = "none"\n'
        'grant_types = ["client_credentials"]\n',
        4,
        "clients[0].grant_types",
        "confidential client",
    ),
    "an unknown setting in a string": (
        GOOD_CLIENT.replace("https://shop.test/cb", "${shop_url}/cb"),
        5,
        "clients[0].redirect_uris[0]",
        "${shop_url} is not a setting",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_file_gives_one_line_naming_file_line_and_key(tmp_path: Path, case: str) -> None:
    text, line, key, problem = CASES[case]
    path = tmp_path / "mockgram.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, MockgramSettings(database_url="sqlite://"))
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert problem in message
    assert "\n" not in message


def test_an_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"nowhere\.toml: cannot read the file"):
        load_config(missing, MockgramSettings(database_url="sqlite://"))


def test_create_app_refuses_a_bad_file_before_touching_the_database(tmp_path: Path) -> None:
    path = tmp_path / "mockgram.toml"
    path.write_text('[[users]]\nusername = "alice"\npassword = 1\n', encoding="utf-8")
    database = tmp_path / "mockgram.db"
    settings = MockgramSettings(database_url=f"sqlite:///{database}", config=path)
    with pytest.raises(ConfigError):
        create_app(settings)
    assert not database.exists()  # nothing half-written


def run_command(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOCKGRAM_")}
    return subprocess.run(
        [sys.executable, "-m", "mockgram", *arguments],
        cwd=ROOT,
        env=environment | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", ["wrong type", "unknown key", "TOML syntax", "duplicate user"])
def test_the_command_exits_non_zero_with_one_line_and_no_traceback(
    tmp_path: Path, case: str
) -> None:
    text, line, key, _problem = CASES[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = run_command("--config", str(path), "--port", "0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [message] = result.stderr.strip().splitlines()  # exactly one line
    assert message.startswith(f"mockgram: {path}:{line}: {key}: ")


def test_the_command_reads_mockgram_config_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("seed_demo = 'yes'\n", encoding="utf-8")
    result = run_command("--port", "0", env={"MOCKGRAM_CONFIG": str(path)})
    assert result.returncode == 2
    assert f"{path}:1: seed_demo: " in result.stderr
    assert "Traceback" not in result.stderr


def test_a_good_file_is_handed_to_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mockgram.toml"
    path.write_text(GOOD_CLIENT, encoding="utf-8")
    # Set, then removed: monkeypatch then deletes what main() sets when the test ends.
    monkeypatch.setenv("MOCKGRAM_CONFIG", "")
    monkeypatch.delenv("MOCKGRAM_CONFIG")
    started: list[object] = []
    monkeypatch.setattr(command, "run", lambda **kwargs: started.append(kwargs["args"]))
    command.main(["--config", str(path)])
    assert len(started) == 1
    assert os.environ["MOCKGRAM_CONFIG"] == str(path.resolve())


def test_locate_finds_keys_of_nested_tables_and_arrays_of_tables() -> None:
    text = (
        'issuer = "x"\n'  # 1
        "[[users]]\n"  # 2
        'username = "a"\n'  # 3
        "[users.claims]\n"  # 4
        'team = "red"\n'  # 5
        "[[users]]\n"  # 6
        'username = "b"\n'  # 7
        "[[users.photos]]\n"  # 8
        'scene = "cat"\n'  # 9
        "[[users.photos]]\n"  # 10
        'scene = "dog"\n'  # 11
    )
    assert locate(text, ("issuer",)) == 1
    assert locate(text, ("users", 0, "claims", "team")) == 5
    assert locate(text, ("users", 1, "username")) == 7
    assert locate(text, ("users", 1, "photos", 1, "scene")) == 11
    assert locate(text, ("users", 1, "password")) == 6  # missing: the entry's header


def test_a_sub_another_stored_person_has_is_one_line_too(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'mockgram.db'}"
    first = tmp_path / "first.toml"
    first.write_text('[[users]]\nusername = "a"\npassword = "a"\nsub = "x"\n', encoding="utf-8")
    create_app(MockgramSettings(database_url=database, config=first))
    second = tmp_path / "second.toml"
    second.write_text('[[users]]\nusername = "b"\npassword = "b"\nsub = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        create_app(MockgramSettings(database_url=database, config=second))
    assert str(caught.value) == (
        f"{second}:4: users[0].sub: another stored person already has this value"
    )
