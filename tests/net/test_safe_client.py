"""The safe client against real servers on loopback: pinning, TLS, limits, redirects."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
from loopback_listener import CountingListener

from callwright.net import (
    AddressPolicy,
    ClientLimits,
    DeliveryError,
    SafeHTTPClient,
    StaticResolver,
    UnsafeURLError,
)
from callwright.webhooks.testing import RecordingReceiver, ScriptedResponse

LOOPBACK = AddressPolicy(allow_loopback=True)


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for hook.test, made with the openssl CLI."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=hook.test",
            "-addext",
            "subjectAltName=DNS:hook.test",
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


def server_context(cert_files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_files[0]), str(cert_files[1]))
    return ctx


def client_context(cert_files: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert_files[0]))


async def test_request_reaches_receiver_with_original_host() -> None:
    async with RecordingReceiver() as rx:
        resolver = StaticResolver({"hook.test": ["127.0.0.1"]})
        client = SafeHTTPClient(policy=LOOPBACK, resolver=resolver)
        resp = await client.request(
            "POST",
            f"http://hook.test:{rx.port}/in?x=1#frag",
            headers=[("X-Token", "abc")],
            content=b'{"a":1}',
        )
    assert resp.status_code == 200
    assert resp.body == b"ok"
    assert resp.peer == "127.0.0.1"
    [req] = rx.requests
    assert req.method == "POST"
    assert req.target == "/in?x=1"
    assert req.headers["host"] == f"hook.test:{rx.port}"
    assert req.headers["x-token"] == "abc"
    assert req.body == b'{"a":1}'


async def test_connects_to_checked_address_and_resolves_once() -> None:
    """DNS rebinding: the second answer points at another listener; it must stay idle."""
    async with RecordingReceiver(host="127.0.0.1") as good:
        async with RecordingReceiver(host="127.0.0.3", port=good.port) as evil:
            resolver = StaticResolver({"hook.test": [["127.0.0.1"], ["127.0.0.3"]]})
            client = SafeHTTPClient(policy=LOOPBACK, resolver=resolver)
            resp = await client.request("POST", f"http://hook.test:{good.port}/", content=b"{}")
            assert resp.status_code == 200
            assert resolver.lookups == ["hook.test"]
            assert (good.connections, evil.connections) == (1, 0)
            # A second request resolves again (one lookup per request) and follows it.
            await client.request("POST", f"http://hook.test:{good.port}/", content=b"{}")
            assert resolver.lookups == ["hook.test", "hook.test"]
            assert (good.connections, evil.connections) == (1, 1)


async def test_falls_back_to_next_checked_address() -> None:
    async with RecordingReceiver() as rx:
        # 127.0.0.5 has no listener on this port: connection refused, then 127.0.0.1.
        resolver = StaticResolver({"hook.test": ["127.0.0.5", "127.0.0.1"]})
        client = SafeHTTPClient(policy=LOOPBACK, resolver=resolver)
        resp = await client.request("GET", f"http://hook.test:{rx.port}/")
    assert resp.peer == "127.0.0.1"
    assert resp.status_code == 200


async def test_tls_uses_original_name_for_sni_and_verification(
    cert_files: tuple[Path, Path],
) -> None:
    async with RecordingReceiver(ssl_context=server_context(cert_files)) as rx:
        resolver = StaticResolver({"hook.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        client = SafeHTTPClient(
            policy=LOOPBACK, resolver=resolver, ssl_context=client_context(cert_files)
        )
        resp = await client.request("POST", f"https://hook.test:{rx.port}/", content=b"{}")
        assert resp.status_code == 200
        assert rx.requests[0].server_name == "hook.test"
        assert rx.requests[0].headers["host"] == f"hook.test:{rx.port}"
        # Same address, wrong name: the certificate does not match, so no request.
        with pytest.raises(DeliveryError) as info:
            await client.request("POST", f"https://other.test:{rx.port}/", content=b"{}")
        assert info.value.category == "tls"
        # The public trust store does not know this self-signed certificate.
        public = SafeHTTPClient(policy=LOOPBACK, resolver=resolver)
        with pytest.raises(DeliveryError) as info:
            await public.request("POST", f"https://hook.test:{rx.port}/", content=b"{}")
        assert info.value.category == "tls"
    assert len(rx.requests) == 1


async def test_body_cap() -> None:
    big = 5 * 1024 * 1024
    async with RecordingReceiver(respond=lambda _r: ScriptedResponse(body_bytes=big)) as rx:
        client = SafeHTTPClient(policy=LOOPBACK, limits=ClientLimits(max_response_bytes=64 * 1024))
        resp = await client.request("GET", rx.url())
        assert len(resp.body) == 64 * 1024
        assert resp.truncated
        small = await client.request("GET", rx.url(), max_response_bytes=10)
        assert small.body == b"x" * 10
        full = await client.request("GET", rx.url(), max_response_bytes=big)
        assert len(full.body) == big and not full.truncated


async def test_total_timeout() -> None:
    async with RecordingReceiver(respond=lambda _r: ScriptedResponse(delay_s=5.0)) as rx:
        client = SafeHTTPClient(policy=LOOPBACK, limits=ClientLimits(total_timeout_s=0.3))
        t0 = time.monotonic()
        with pytest.raises(DeliveryError) as info:
            await client.request("POST", rx.url(), content=b"{}")
        elapsed = time.monotonic() - t0
    assert info.value.category == "timeout" and info.value.retryable
    assert 0.25 <= elapsed < 2.0


async def test_connection_refused_and_dns_failure() -> None:
    closed = RecordingReceiver()
    await closed.start()
    port = closed.port
    await closed.close()
    client = SafeHTTPClient(policy=LOOPBACK, resolver=StaticResolver({}))
    with pytest.raises(DeliveryError) as info:
        await client.request("POST", f"http://127.0.0.1:{port}/")
    assert info.value.category == "connect" and info.value.retryable
    with pytest.raises(DeliveryError) as info:
        await client.request("POST", "http://nowhere.test/")
    assert info.value.category == "dns" and info.value.retryable


async def test_redirect_is_returned_not_followed(counting_listener: CountingListener) -> None:
    """The redirecting hop (127.0.0.2) is allow-listed; its target is never contacted —
    not even when the allow-list would let the client reach it."""
    target = f"http://127.0.0.1:{counting_listener.port}/"
    redirect = ScriptedResponse(status=302, headers=(("Location", target),), body=b"")
    async with RecordingReceiver(host="127.0.0.2", respond=lambda _r: redirect) as rx:
        for allowed in ("127.0.0.2/32", "127.0.0.0/8"):
            client = SafeHTTPClient(policy=AddressPolicy(allowed_networks=(ip_network(allowed),)))
            resp = await client.request("POST", rx.url(), content=b"{}")
            assert resp.status_code == 302
            assert resp.header("location") == target
        assert len(rx.requests) == 2
    assert counting_listener.drain() == 0


async def test_allow_list_does_not_open_metadata() -> None:
    client = SafeHTTPClient(policy=AddressPolicy(allowed_networks=(ip_network("169.254.0.0/16"),)))
    with pytest.raises(UnsafeURLError) as info:
        await client.request("GET", "http://169.254.169.254/")
    assert info.value.reason == "metadata"


async def test_ipv6_loopback_literal_with_flag() -> None:
    async with RecordingReceiver(host="::1") as rx:
        client = SafeHTTPClient(policy=LOOPBACK)
        resp = await client.request("PUT", rx.url(), content=b"{}")
    assert resp.status_code == 200
    assert resp.peer == "::1"
    assert rx.requests[0].headers["host"] == f"[::1]:{rx.port}"
    assert rx.requests[0].method == "PUT"


async def test_mapped_address_is_dialled_as_ipv4() -> None:
    async with RecordingReceiver() as rx:
        client = SafeHTTPClient(policy=LOOPBACK)
        resp = await client.request("GET", f"http://[::ffff:127.0.0.1]:{rx.port}/")
    assert resp.peer == "127.0.0.1"


async def test_caller_cannot_set_framing_headers(counting_listener: CountingListener) -> None:
    client = SafeHTTPClient(policy=LOOPBACK)
    url = f"http://127.0.0.1:{counting_listener.port}/"
    for name in ("Host", "content-length", "Transfer-Encoding"):
        with pytest.raises(ValueError):
            await client.request("POST", url, headers=[(name, "x")])
    with pytest.raises(ValueError):
        await client.request("TRACE", url)
    assert counting_listener.drain() == 0
