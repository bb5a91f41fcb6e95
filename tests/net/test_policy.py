"""Address classification and policy flags."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callwright.net import (
    AddressPolicy,
    StaticResolver,
    UnsafeURLError,
    check_url,
    classify_address,
)
from callwright.net.ssrf import connect_form, embedded_ipv4


@pytest.mark.parametrize(
    ("addr", "reason"),
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001:80b::200e", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),  # NAT64 of a public address
        ("2002:808:808::1", None),  # 6to4 of a public address
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.20.0.1", "private"),
        ("172.32.0.1", None),
        ("192.168.100.1", "private"),
        ("100.64.0.1", "private"),
        ("100.127.255.255", "private"),
        ("100.128.0.1", None),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link_local"),
        ("fe80::abcd", "link_local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("ff05::2", "multicast"),
        ("192.0.2.5", "documentation"),
        ("2001:db8::5", "documentation"),
        ("3fff::1", "documentation"),
        ("198.19.255.255", "benchmarking"),
        ("240.1.1.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::127.0.0.1", "reserved"),
        ("2001::1", "reserved"),  # Teredo
        ("2001:10::1", "reserved"),  # ORCHID
        ("5f00::1", "reserved"),
        ("4000::1", "reserved"),  # outside 2000::/3 global unicast
        ("64:ff9b:1::1", "reserved"),
        ("64:ff9b::c0a8:1", "private"),
        ("2002:a9fe:a9fe::", "metadata"),
        ("::ffff:0:a00:1", "private"),  # SIIT
    ],
)
def test_classify(addr: str, reason: str | None) -> None:
    assert classify_address(ip_address(addr)) == reason


def test_embedded_and_connect_forms() -> None:
    assert str(embedded_ipv4(ip_address("2002:c0a8:0101::1"))) == "192.168.1.1"  # type: ignore[arg-type]
    assert str(connect_form(ip_address("::ffff:10.0.0.1"))) == "10.0.0.1"
    assert str(connect_form(ip_address("64:ff9b::a00:1"))) == "64:ff9b::a00:1"


def test_flags() -> None:
    prod, emb = AddressPolicy.production(), AddressPolicy.embedded()
    lan = AddressPolicy(allow_private=True)
    lo = ip_address("127.0.0.1")
    assert prod.refusal(lo) == "loopback"
    assert emb.refusal(lo) is None
    assert emb.refusal(ip_address("::ffff:127.0.0.1")) is None
    assert emb.refusal(ip_address("10.0.0.1")) == "private"
    assert lan.refusal(ip_address("10.0.0.1")) is None
    assert lan.refusal(ip_address("100.64.1.1")) is None
    assert lan.refusal(ip_address("fd00::1")) is None
    assert lan.refusal(lo) == "loopback"
    # Flags never relax link-local, metadata or translated forms of private space.
    for policy in (emb, lan, AddressPolicy(allow_loopback=True, allow_private=True)):
        assert policy.refusal(ip_address("169.254.1.1")) == "link_local"
        assert policy.refusal(ip_address("100.100.100.200")) == "metadata"
        assert policy.refusal(ip_address("64:ff9b::7f00:1")) == "loopback"
        assert policy.refusal(ip_address("2002:a00:1::1")) == "private"
        assert policy.refusal(ip_address("0.0.0.0")) == "unspecified"


def test_allow_list() -> None:
    policy = AddressPolicy(allowed_networks=(ip_network("10.5.0.0/16"), ip_network("fe80::/10")))
    assert policy.refusal(ip_address("10.5.1.1")) is None
    assert policy.refusal(ip_address("::ffff:10.5.1.1")) is None
    assert policy.refusal(ip_address("10.6.1.1")) == "private"
    assert policy.refusal(ip_address("fe80::1")) is None
    assert policy.refusal(ip_address("169.254.169.254")) == "metadata"


_v4 = st.integers(0, 2**32 - 1).map(IPv4Address)


@settings(max_examples=300)
@given(_v4)
def test_embedded_forms_judged_like_the_ipv4_address(a: IPv4Address) -> None:
    n = int(a)
    reason = classify_address(a)
    assert classify_address(IPv6Address((0xFFFF << 32) | n)) == reason  # ::ffff:a
    assert classify_address(IPv6Address((0x64FF9B << 96) | n)) == reason  # 64:ff9b::a
    assert classify_address(IPv6Address((0x2002 << 112) | (n << 80))) == reason  # 6to4


@settings(max_examples=300)
@given(_v4)
def test_public_verdict_implies_python_is_global(a: IPv4Address) -> None:
    """Our table is at least as strict as the stdlib's idea of "global"."""
    if classify_address(a) is None:
        assert a.is_global and not a.is_multicast


@settings(max_examples=200)
@given(st.integers(0, 2**128 - 1).map(IPv6Address))
def test_public_ipv6_is_global_unicast(a: IPv6Address) -> None:
    if classify_address(a) is None:
        assert a in ip_network("2000::/3") or embedded_ipv4(a) is not None
        assert not a.is_multicast and not a.is_link_local and not a.is_loopback


async def test_require_https() -> None:
    policy = AddressPolicy(allow_http=False)
    resolver = StaticResolver({"hooks.example.com": ["93.184.215.14"]})
    with pytest.raises(UnsafeURLError) as info:
        await check_url("http://hooks.example.com/", policy=policy, resolver=resolver)
    assert info.value.reason == "scheme"
    checked = await check_url("https://hooks.example.com/", policy=policy, resolver=resolver)
    assert [str(a) for a in checked.addresses] == ["93.184.215.14"]


async def test_ip_literals_are_never_resolved() -> None:
    resolver = StaticResolver({})
    checked = await check_url(
        "http://0x5d.0xb8.0xd7.0x0e/", policy=AddressPolicy(), resolver=resolver
    )
    assert [str(a) for a in checked.addresses] == ["93.184.215.14"]
    assert resolver.lookups == []
