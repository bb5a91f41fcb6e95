"""Strict URL parsing and IPv4 literal decoding."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callwright.net import UnsafeURLError, parse_url
from callwright.net.urls import parse_ipv4_loose


@pytest.mark.parametrize(
    ("raw", "scheme", "host", "port", "target", "host_header"),
    [
        (
            "https://Hooks.Example.COM/x",
            "https",
            "hooks.example.com",
            443,
            "/x",
            "hooks.example.com",
        ),
        ("http://example.com", "http", "example.com", 80, "/", "example.com"),
        ("http://example.com?q=1", "http", "example.com", 80, "/?q=1", "example.com"),
        (
            "http://example.com:8080/a/b?c=d#e",
            "http",
            "example.com",
            8080,
            "/a/b?c=d",
            "example.com:8080",
        ),
        ("https://example.com:443/", "https", "example.com", 443, "/", "example.com"),
        ("http://example.com./", "http", "example.com", 80, "/", "example.com"),
        ("http://[2606:4700::1]:8443/", "http", "2606:4700::1", 8443, "/", "[2606:4700::1]:8443"),
        ("http://8.8.8.8/", "http", "8.8.8.8", 80, "/", "8.8.8.8"),
        ("http://0x08.0x08.0x08.0x08/", "http", "8.8.8.8", 80, "/", "8.8.8.8"),
        (
            "http://bücher.example/p",
            "http",
            "xn--bcher-kva.example",
            80,
            "/p",
            "xn--bcher-kva.example",
        ),
        ("http://example.com/ä%20b", "http", "example.com", 80, "/%C3%A4%20b", "example.com"),
        ("http://example.com/%2e%2e/", "http", "example.com", 80, "/%2e%2e/", "example.com"),
        ("http://1.2.3.example/", "http", "1.2.3.example", 80, "/", "1.2.3.example"),
    ],
)
def test_parses(raw: str, scheme: str, host: str, port: int, target: str, host_header: str) -> None:
    url = parse_url(raw)
    assert (url.scheme, url.host, url.port, url.target, url.host_header) == (
        scheme,
        host,
        port,
        target,
        host_header,
    )


def test_ip_literals_are_typed() -> None:
    assert parse_url("http://127.1/").ip == IPv4Address("127.0.0.1")
    assert parse_url("http://[::ffff:7f00:1]/").ip == IPv6Address("::ffff:127.0.0.1")
    assert parse_url("http://example.com/").ip is None


def test_too_long() -> None:
    with pytest.raises(UnsafeURLError) as info:
        parse_url("http://example.com/" + "a" * 3000)
    assert info.value.reason == "malformed"


def _inet_aton(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1",
        "127.1",
        "127.0.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7F000001",
        "017700000001",
        "0177.0x0.00.1",
        "0xa9fea9fe",
        "169.254.43518",
        "0",
        "0x0",
        "00",
        "1.2.3.4",
        "255.255.255.255",
        "4294967295",
        "4294967296",
        "256.1.1.1",
        "1.256.1.1",
        "1.1.65536",
        "1.1.65535",
        "08",
        "09.1",
        "0x",
        "0x.1",
        "1.2.3.4.5",
        "1..2",
        "0xg",
        "1.2.3.04",
        "0x100.1",
        "1.0x1000000",
    ],
)
def test_ipv4_decoding_matches_inet_aton(text: str) -> None:
    """Where glibc's inet_aton (what getaddrinfo uses for numeric hosts) accepts a
    spelling, we decode it to the same address."""
    expected = _inet_aton(text)
    ours = parse_ipv4_loose(text)
    if expected is not None:
        assert ours == expected
    elif ours is not None:
        # We accept a few spellings inet_aton rejects (WHATWG: "0x" is 0); never the
        # other way round, and then we still check the decoded address.
        assert text.lower().startswith("0x") or ".0x" in text.lower()


_part = st.one_of(
    st.integers(0, 255).map(str),
    st.integers(0, 255).map(lambda n: "0" + format(n, "o")),
    st.integers(0, 255).map(lambda n: "0x" + format(n, "x")),
)


@given(st.lists(_part, min_size=4, max_size=4), st.integers(1, 4))
def test_ipv4_decoding_property(parts: list[str], n_parts: int) -> None:
    text = ".".join(parts[:n_parts])
    expected = _inet_aton(text)
    if expected is not None:
        assert parse_ipv4_loose(text) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("http://example.com\\foo", "malformed"),
        ("http://exa\x00mple.com/", "malformed"),
        ("http://example.com/\x7f", "malformed"),
        ("mailto:a@b.c", "scheme"),
        ("http://a@b/", "userinfo"),
        ("http://[::1/", "malformed"),
        ("http://[::1]x/", "malformed"),
        ("http://" + "a" * 64 + ".com/", "host"),
        ("http://-a.com/", "host"),
        ("http://a-.com/", "host"),
        ("http://.com/", "host"),
        ("http://example.com:99999/", "port"),
        ("http://example.com:８０/", "port"),
    ],
)
def test_refuses(raw: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        parse_url(raw)
    assert info.value.reason == reason


@settings(max_examples=200)
@given(st.integers(0, 2**32 - 1).map(IPv4Address))
def test_every_spelling_of_an_address_parses_to_it(a: IPv4Address) -> None:
    b = a.packed
    n = int(a)
    spellings = [
        str(a),
        str(n),
        hex(n),
        "0" + format(n, "o"),
        ".".join(f"0x{x:x}" for x in b),
        ".".join(f"0{x:o}" for x in b),
        f"{b[0]}.{b[1]}.{(b[2] << 8) | b[3]}",
        f"{b[0]}.{(b[1] << 16) | (b[2] << 8) | b[3]}",
        f"0x{b[0]:x}.{b[1]}.0{b[2]:o}.{b[3]}",
        str(a) + ".",
    ]
    for text in spellings:
        assert parse_url(f"http://{text}/").ip == a, text
        assert _inet_aton(text.rstrip(".")) == a, text
