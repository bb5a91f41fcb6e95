"""Every URL form in the table is refused before any connection is made.

Loopback-bound rows target the port of a real listener on 127.0.0.1 and ::1; after the
whole table has run, that listener must have seen zero connections.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import ip_address

import pytest
from loopback_listener import CountingListener

from callwright.net import (
    AddressPolicy,
    DeliveryError,
    SafeHTTPClient,
    StaticResolver,
    SystemResolver,
    UnsafeURLError,
)
from callwright.net.urls import IPAddress
from callwright.webhooks import GiveUp, deliver, generate_secret

# (url template, expected reason). "{p}" is the counting listener's port.
TABLE: list[tuple[str, str]] = [
    # IPv4 loopback in every spelling inet_aton accepts
    ("http://127.0.0.1:{p}/", "loopback"),
    ("http://127.1:{p}/", "loopback"),
    ("http://127.0.1:{p}/", "loopback"),
    ("http://2130706433:{p}/", "loopback"),
    ("http://0177.0.0.1:{p}/", "loopback"),
    ("http://0x7f.0.0.1:{p}/", "loopback"),
    ("http://0x7f.1:{p}/", "loopback"),
    ("http://0x7f000001:{p}/", "loopback"),
    ("http://017700000001:{p}/", "loopback"),
    ("http://0177.1:{p}/", "loopback"),
    ("http://0x7F.0x00.0x00.0x01:{p}/", "loopback"),
    ("http://0177.0x0.00.1:{p}/", "loopback"),
    ("http://127.0.0.1.:{p}/", "loopback"),
    ("http://127.255.255.254:{p}/", "loopback"),
    ("HTTP://127.0.0.1:{p}/", "loopback"),
    ("https://127.0.0.1:{p}/", "loopback"),
    ("http://127.0.0.1:{p}#@example.com/", "loopback"),
    ("http://127.0.0.1:{p}?@example.com/", "loopback"),
    # unspecified (Linux routes a connect to 0.0.0.0 / :: to this host)
    ("http://0.0.0.0:{p}/", "unspecified"),
    ("http://0:{p}/", "unspecified"),
    ("http://0x0:{p}/", "unspecified"),
    ("http://[::]:{p}/", "unspecified"),
    # IPv6 loopback and IPv6 forms embedding IPv4 loopback/private
    ("http://[::1]:{p}/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]:{p}/", "loopback"),
    ("http://[::ffff:127.0.0.1]:{p}/", "loopback"),
    ("http://[::ffff:7f00:1]:{p}/", "loopback"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/", "loopback"),
    ("http://[::ffff:0:127.0.0.1]:{p}/", "loopback"),
    ("http://[::127.0.0.1]:{p}/", "reserved"),
    ("http://[64:ff9b::127.0.0.1]:{p}/", "loopback"),
    ("http://[64:ff9b::a00:1]:{p}/", "private"),
    ("http://[64:ff9b:1::1]:{p}/", "reserved"),
    ("http://[2002:7f00:1::1]:{p}/", "loopback"),
    ("http://[2002:c0a8:101::1]:{p}/", "private"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]:{p}/", "reserved"),
    ("http://[fe80::1%25lo]:{p}/", "host"),
    ("http://[fe80::1%lo]:{p}/", "host"),
    ("http://[fe80::1]:{p}/", "link_local"),
    ("http://[fd00::1]:{p}/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fec0::1]/", "reserved"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[100::1]/", "reserved"),
    # cloud metadata, in every encoding
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://2852039166/", "metadata"),
    ("http://0xa9fea9fe/", "metadata"),
    ("http://0251.0376.0251.0376/", "metadata"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "metadata"),
    ("http://169.254.43518/", "metadata"),
    ("http://0xa9.254.0251.0376/", "metadata"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://169.254.170.2/v2/credentials", "metadata"),
    ("http://168.63.129.16/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://METADATA.GOOGLE.INTERNAL./", "metadata"),
    ("http://metadata/", "metadata"),
    # other special-purpose IPv4 ranges
    ("http://10.0.0.1/", "private"),
    ("http://012.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://3232235777/", "private"),
    ("http://100.64.0.1/", "private"),
    ("http://169.254.1.1/", "link_local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://255.255.255.255/", "reserved"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.0.8/", "reserved"),
    ("http://192.0.2.1/", "documentation"),
    ("http://198.51.100.7/", "documentation"),
    ("http://203.0.113.9/", "documentation"),
    ("http://198.18.0.1/", "benchmarking"),
    # names that are (or resolve to) loopback
    ("http://localhost:{p}/", "loopback"),
    ("http://LOCALHOST:{p}/", "loopback"),
    ("http://localhost.:{p}/", "loopback"),
    ("http://foo.localhost:{p}/", "loopback"),
    ("http://hooks.example.com:{p}/", "loopback"),
    ("http://v6.example.com:{p}/", "loopback"),
    ("http://mapped.example.com:{p}/", "loopback"),
    ("http://mixed.example.com:{p}/", "loopback"),
    ("http://lan.example.com:{p}/", "private"),
    ("http://127.0.0.1.nip.example:{p}/", "loopback"),
    # Unicode spellings that IDNA folds to ASCII
    ("http://127。0。0。1:{p}/", "loopback"),
    ("http://１２７.０.０.１:{p}/", "loopback"),
    ("http://①②⑦.0.0.1:{p}/", "loopback"),
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{p}/", "loopback"),
    ("http://LOCALHOST。:{p}/", "loopback"),
    # userinfo and backslash tricks
    ("http://example.com@127.0.0.1:{p}/", "userinfo"),
    ("http://user:pass@127.0.0.1:{p}/", "userinfo"),
    ("http://example.com:80@127.0.0.1:{p}/", "userinfo"),
    ("http://@127.0.0.1:{p}/", "userinfo"),
    ("http://127.0.0.1:{p}\\@example.com/", "malformed"),
    ("http://example.com\\@127.0.0.1:{p}/", "malformed"),
    ("http:\\\\127.0.0.1:{p}/", "malformed"),
    ("http://%31%32%37.0.0.1:{p}/", "host"),
    (" http://127.0.0.1:{p}/", "malformed"),
    ("http://127.0.0.1:{p}/\r\nX-Injected: 1", "malformed"),
    ("http://127.0.0.1\t:{p}/", "malformed"),
    # schemes
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:{p}/_GET", "scheme"),
    ("ftp://127.0.0.1:{p}/", "scheme"),
    ("dict://127.0.0.1:{p}/", "scheme"),
    ("ws://127.0.0.1:{p}/", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("//127.0.0.1:{p}/", "malformed"),
    ("http:/127.0.0.1:{p}/", "malformed"),
    ("http:127.0.0.1:{p}/", "malformed"),
    # ports and malformed hosts
    ("http://127.0.0.1:0/", "port"),
    ("http://example.com:0/", "port"),
    ("http://example.com:65536/", "port"),
    ("http://example.com:-1/", "port"),
    ("http://example.com:/", "port"),
    ("http://example.com:+80/", "port"),
    ("http://example.com:80:80/", "malformed"),
    ("http://[127.0.0.1]:{p}/", "host"),
    ("http://::1:{p}/", "malformed"),
    ("http://256.0.0.1/", "host"),
    ("http://1.2.3.4.5/", "host"),
    ("http://08.0.0.1/", "host"),
    ("http://0x7g.1/", "host"),
    ("http:///path", "host"),
    ("http://exa_mple..com/", "host"),
]

# A hosts file for public-looking names; anything else goes to the system resolver.
HOSTS: dict[str, list[str]] = {
    "hooks.example.com": ["127.0.0.1"],
    "v6.example.com": ["::1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "mixed.example.com": ["93.184.215.14", "127.0.0.1"],  # one public + one loopback
    "lan.example.com": ["192.168.0.10"],
    "127.0.0.1.nip.example": ["127.0.0.1"],
}


class HostsThenSystem:
    """Static answers for the table's names, the OS resolver for the rest."""

    def __init__(self) -> None:
        self.static = StaticResolver(HOSTS)
        self.system = SystemResolver()

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        if host in HOSTS:
            return await self.static.resolve(host, port)
        return await self.system.resolve(host, port)


def test_table_is_big_enough() -> None:
    assert len(TABLE) >= 60
    assert len({url for url, _ in TABLE}) == len(TABLE)


async def test_every_form_is_refused_and_nothing_connects(
    counting_listener: CountingListener,
) -> None:
    client = SafeHTTPClient(policy=AddressPolicy.production(), resolver=HostsThenSystem())
    wrong: list[str] = []
    for template, expected in TABLE:
        url = template.replace("{p}", str(counting_listener.port))
        try:
            await client.request("POST", url, content=b"{}")
        except UnsafeURLError as exc:
            if exc.reason != expected:
                wrong.append(f"{url!r}: expected {expected}, got {exc.reason} ({exc.detail})")
        except DeliveryError as exc:
            wrong.append(f"{url!r}: expected refusal {expected}, got delivery error {exc}")
        else:
            wrong.append(f"{url!r}: was sent")
    assert wrong == []
    assert counting_listener.drain() == 0


async def test_the_listener_does_count(counting_listener: CountingListener) -> None:
    """The zero above means something: with loopback allowed, the same listener counts."""
    client = SafeHTTPClient(policy=AddressPolicy(allow_loopback=True), resolver=HostsThenSystem())
    p = counting_listener.port
    for url in (f"http://0x7f.1:{p}/", f"http://[::1]:{p}/", f"http://hooks.example.com:{p}/"):
        with pytest.raises(DeliveryError):
            # Nobody answers on the counting listener, so this times out after connecting.
            await client.request("POST", url, total_timeout_s=0.2)
    assert counting_listener.drain() == 3


async def test_system_resolved_loopback_alias_is_refused(
    counting_listener: CountingListener,
) -> None:
    """A name the real resolver maps to loopback (Debian's ip6-localhost, or localhost
    looked up under another alias) is refused by address, not by name."""
    aliases = []
    for name in ("ip6-localhost", "ip6-loopback", "localhost.localdomain"):
        try:
            infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        except socket.gaierror:
            continue
        if all(ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos):
            aliases.append(name)
    if not aliases:
        pytest.skip("no loopback alias besides localhost in this machine's hosts file")
    client = SafeHTTPClient(policy=AddressPolicy.production())
    for name in aliases:
        with pytest.raises(UnsafeURLError) as info:
            await client.request("GET", f"http://{name}:{counting_listener.port}/")
        assert info.value.reason == "loopback"
    assert counting_listener.drain() == 0


async def test_deliver_gives_up_on_refused_urls(counting_listener: CountingListener) -> None:
    client = SafeHTTPClient(policy=AddressPolicy.production(), resolver=HostsThenSystem())
    attempt = await deliver(
        f"http://0177.1:{counting_listener.port}/hook",
        {},
        b"{}",
        generate_secret(),
        "evt_1",
        client=client,
    )
    assert attempt.error_category == "unsafe_url:loopback"
    assert isinstance(attempt.next_action, GiveUp)
    assert attempt.status_code is None
    assert counting_listener.drain() == 0
