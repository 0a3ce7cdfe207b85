"""What the connection says when it cannot connect or is closed: pure rules, in our words.

The end-to-end cases (a refused port, an expired token, a server that goes away) are in
``test_connection.py`` against a real server; this is every branch of the wording."""

from __future__ import annotations

import socket
import ssl

import pytest

from imagechat_tui.client.connection import _close_reason, _why_unreachable
from imagechat_tui.protocol import CloseCode


def _untrusted() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    return error


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (_untrusted(), "its certificate is not trusted (self-signed certificate; --ca-file"),
        (ssl.SSLError(1, "wrong version number"), "it does not answer TLS (a plain ws:// server?)"),
        (ConnectionRefusedError(111, "refused"), "nothing is listening there"),
        (TimeoutError(), "no answer in time"),
        (socket.gaierror(-2, "Name or service not known"), "that host name is not known"),
        (ConnectionResetError(104, "reset"), "the connection was cut"),
        (OSError(101, "Network is unreachable"), "(the system said: Network is unreachable)"),
        (OSError(), "(the system said: OSError)"),
    ],
)
def test_why_a_server_cannot_be_reached(error: OSError, words: str) -> None:
    assert words in _why_unreachable(error)


@pytest.mark.parametrize(
    ("code", "reason", "said"),
    [
        (CloseCode.TOKEN_EXPIRED, "", "Your token has expired; enter a new one."),
        (
            CloseCode.UNAUTHORIZED,
            "The token was refused: bad signature.",
            "The token was refused: bad signature.",
        ),
        (CloseCode.UNAUTHORIZED, "", "The server refused the token."),
        (CloseCode.FORBIDDEN, "", "The token is not valid for this room."),
        (CloseCode.GOING_AWAY, "", "The server went away."),
        (CloseCode.TOO_SLOW, "", "Fell behind the server; catching up."),
        (1011, "internal error", "The connection closed (1011: internal error)."),
        (1006, "", "The connection closed (1006)."),
    ],
)
def test_why_the_connection_closed(code: int, reason: str, said: str) -> None:
    assert _close_reason(code, reason) == said
