"""wss:// with certificates made by trustme: the server serves TLS, clients that trust the
CA join, clients that do not cannot connect; the app's --ca-file and Connection work."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest
import trustme
from typer.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage

from imagechat_tui.cli import app
from imagechat_tui.client.connection import Connection, ConnState
from imagechat_tui.client.target import ssl_context
from imagechat_tui.model import Actor
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica
from tests.wsclient import WsClient, create_op


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def cert_files(ca: trustme.CA, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(server certificate chain, server key, CA certificate) as PEM files."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_pem = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key.write_bytes(cert.private_key_pem.bytes())
    ca_pem.write_bytes(ca.cert_pem.bytes())
    return chain, key, ca_pem


async def test_wss_with_a_trusted_ca(start, mint_token, cert_files) -> None:
    chain, key, ca_pem = cert_files
    server = await start(tls_cert=chain, tls_key=key)
    assert server.url.startswith("wss://") and server.http_url.startswith("https://")
    context = ssl.create_default_context(cafile=str(ca_pem))
    ws = await connect(server.url, ssl=context)
    client = WsClient(ws)
    await client.send({"op": "join", "room": "room-1", "token": mint_token("alice")})
    assert (await client.recv_type("joined"))["user"]["id"] == "alice"
    await client.recv_type("snapshot")
    await client.send(create_op(text="over TLS"))
    (event,) = await client.recv_events(1)
    assert event["chat"]["comments"][0]["text"] == "over TLS"
    await client.close()
    async with httpx.AsyncClient(verify=context) as http:
        assert (await http.get(f"{server.http_url}/health")).status_code == 200
        assert (await http.get(f"{server.http_url}/stats")).status_code == 401


async def test_a_client_that_does_not_trust_the_ca_cannot_connect(start, cert_files) -> None:
    chain, key, _ = cert_files
    server = await start(tls_cert=chain, tls_key=key)
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(server.url, ssl=ssl.create_default_context())
    # Plain ws:// to a TLS port does not get a WebSocket either.
    with pytest.raises(InvalidMessage):  # TLS bytes are no HTTP response
        await connect(server.url.replace("wss://", "ws://"), open_timeout=5)


async def test_the_apps_connection_joins_over_wss_with_its_ca_file(
    start, mint_token, cert_files
) -> None:
    chain, key, ca_pem = cert_files
    server = await start(tls_cert=chain, tls_key=key)
    states: list[ConnState] = []
    connected = asyncio.Event()

    def on_state(state: ConnState) -> None:
        states.append(state)
        if state.connected:
            connected.set()

    connection = Connection(
        server.url,
        mint_token("alice"),
        Replica("room-1", Actor(User(id="?", name="?"))),
        on_state=on_state,
        on_received=lambda _: None,
        ssl_context=ssl_context(str(ca_pem)),
    )
    task = asyncio.create_task(connection.run())
    async with asyncio.timeout(10):
        await connected.wait()
    assert connection.user == User(id="alice", name="alice")
    await connection.close()
    await task


async def test_tls_needs_both_certificate_and_key(start, cert_files) -> None:
    chain, key, _ = cert_files
    with pytest.raises(ValueError, match="both"):
        await start(tls_cert=chain)
    with pytest.raises(ValueError, match="TLS"):
        await start(tls_cert=key, tls_key=key)  # a key is not a certificate


def test_serve_refuses_half_a_tls_configuration_and_negative_limits(home, cert_files) -> None:
    chain, _, _ = cert_files
    runner = CliRunner()
    half = runner.invoke(app, ["serve", "--port", "0", "--tls-cert", str(chain)])
    assert half.exit_code == 2 and "--tls-key" in half.output
    negative = runner.invoke(app, ["serve", "--port", "0", "--ops-burst", "-1"])
    assert negative.exit_code == 2 and "--ops-burst" in negative.output
    zero = runner.invoke(app, ["serve", "--port", "0", "--max-text", "0"])
    assert zero.exit_code == 2 and "--max-text" in zero.output
    no_burst = runner.invoke(app, ["serve", "--port", "0", "--ops-burst", "0"])
    assert no_burst.exit_code == 2 and "burst" in no_burst.output
