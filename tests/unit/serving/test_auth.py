"""Token parsing and lookup, the bearer header, and the non-loopback bind rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from featurestore.errors import ConfigError
from featurestore.serving.auth import (
    TOKENS_ENV,
    Scope,
    TlsFiles,
    Tokens,
    bearer,
    check_bind,
    is_loopback,
    load_tokens,
    parse_tokens,
)


def test_parse_tokens_reads_lines_commas_and_comments() -> None:
    tokens = parse_tokens("read:r1, write:w1\n# comment\n\n  read:r2  # trailing\n", "test")
    assert tokens.scope_of("r1") == Scope.READ
    assert tokens.scope_of("r2") == Scope.READ
    assert tokens.scope_of("w1") == Scope.WRITE


@pytest.mark.parametrize(
    "text",
    [
        "r1",  # no scope
        "admin:r1",  # unknown scope
        "read:",  # empty token
        "read: ",  # blank token
    ],
)
def test_parse_tokens_rejects_malformed_entries(text: str) -> None:
    with pytest.raises(ConfigError, match="expected 'read:<token>' or 'write:<token>'"):
        parse_tokens(text, "token file t")


@pytest.mark.parametrize(
    ("token", "scope"),
    [
        ("w", Scope.WRITE),  # a write token
        ("r", Scope.READ),  # a read token
        ("both", Scope.WRITE),  # listed twice: the wider scope wins
        ("", None),  # empty never matches
        ("r ", None),  # no trimming of what the client sent
        ("R", None),  # case matters
        (None, None),  # no token at all
    ],
)
def test_scope_of(token: str | None, scope: Scope | None) -> None:
    tokens = parse_tokens("read:r\nwrite:w\nread:both\nwrite:both", "t")
    assert tokens.scope_of(token) == scope


def test_load_tokens_merges_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens"
    path.write_text("read:from-file\n")
    monkeypatch.setenv(TOKENS_ENV, "write:from-env")
    tokens = load_tokens(path)
    assert tokens.scope_of("from-file") == Scope.READ
    assert tokens.scope_of("from-env") == Scope.WRITE


def test_load_tokens_missing_or_empty_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKENS_ENV, raising=False)
    with pytest.raises(ConfigError, match="cannot read it"):
        load_tokens(tmp_path / "missing")
    (tmp_path / "empty").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="has no tokens"):
        load_tokens(tmp_path / "empty")
    assert not load_tokens(None)


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ([("authorization", "Bearer abc")], "abc"),  # the standard form
        ([("authorization", "bearer abc")], "abc"),  # scheme is case-insensitive
        ([("authorization", b"Bearer abc")], "abc"),  # bytes values (Flight)
        ([("authorization", "Basic abc")], None),  # another scheme is no token
        ([("x-other", "Bearer abc")], None),  # other headers are ignored
        (None, None),  # no metadata
    ],
)
def test_bearer(metadata: list[tuple[str, str | bytes]] | None, token: str | None) -> None:
    assert bearer(metadata) == token


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),  # all of 127/8
        ("::1", True),
        ("[::1]", True),  # bracketed IPv6
        ("localhost", True),
        ("0.0.0.0", False),  # every interface
        ("10.0.0.5", False),
        ("[::]", False),
        ("example.com", False),  # names other than localhost are not trusted
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_check_bind_refuses_open_non_loopback_without_auth(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without auth"):
        check_bind("0.0.0.0", tokens=Tokens(), tls=None, insecure=False)
    tls_only = TlsFiles(cert=tmp_path / "c", key=tmp_path / "k")
    with pytest.raises(ConfigError, match="--insecure"):
        check_bind("0.0.0.0", tokens=Tokens(), tls=tls_only, insecure=False)
    # Each of these makes it acceptable: loopback, tokens, mTLS, an explicit --insecure.
    check_bind("127.0.0.1", tokens=Tokens(), tls=None, insecure=False)
    check_bind("0.0.0.0", tokens=parse_tokens("read:x", "t"), tls=None, insecure=False)
    mtls = TlsFiles(cert=tmp_path / "c", key=tmp_path / "k", client_ca=tmp_path / "ca")
    check_bind("0.0.0.0", tokens=Tokens(), tls=mtls, insecure=False)
    check_bind("0.0.0.0", tokens=Tokens(), tls=None, insecure=True)
