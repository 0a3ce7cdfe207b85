"""The app started through a real ``ssh -t`` (Debian's openssh-server on a loopback
port, keys made here): ssh forwards ``TERM`` but not ``COLORTERM``, yet the app picks
24-bit colour and the far terminal's graphics mode (Sixel, like ``xterm -ti vt340``)
from its start-up probe, whose questions and answers travel through ssh."""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.terminal_bytes_bench import Terminal
from imagechat_tui.server.node import RunningServer
from tests import x11
from tests.client.test_terminal_probe import XTERM_VT340_REPLIES
from tests.tools import require

TRUECOLOR_SGR = re.compile(rb"\x1b\[[\d;]*[34]8;2;\d+;\d+;\d+")
SIXEL = re.compile(rb"\x1bP0;1;0q")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An sshd on a free loopback port that lets our user in with a key made here."""
    require("ssh", "ssh-keygen")
    daemon = shutil.which("sshd") or (
        "/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None
    )
    if daemon is None:
        require("sshd")
    directory = tmp_path / "ssh"
    directory.mkdir()
    _keygen(directory / "host_key")
    _keygen(directory / "user_key")
    (directory / "authorized_keys").write_text((directory / "user_key.pub").read_text())
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nPidFile {directory / 'sshd.pid'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin yes\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen(
        [str(daemon), "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start") from None
                time.sleep(0.05)
        yield port, directory / "user_key"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_through_ssh_the_app_picks_truecolor_and_sixel(
    sshd: tuple[int, Path], home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    port, key = sshd
    image = home / "stripes.png"
    x11.stripes_image().save(image)
    remote = [
        "env",
        f"IMAGECHAT_HOME={home}",
        f"PYTHONPATH={x11.REPO}",
        *x11.app_argv(image, server.url, mint_token("alice"), "ssh", "auto"),
    ]
    argv = [
        "ssh",
        "-t",
        "-i",
        str(key),
        "-p",
        str(port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        f"{getpass.getuser()}@127.0.0.1",
        shlex.join(remote),
    ]
    env = {**os.environ, "TERM": "xterm"}  # xterm's own default TERM: 8 colours to Rich
    env.pop("COLORTERM", None)
    terminal = Terminal(argv, 160, 48, env, XTERM_VT340_REPLIES)
    try:
        await terminal.until_written(b"Connected", timeout=90)
        await terminal.until_written(b"\x1bP0;1;0q", timeout=30)
        written = b"".join(terminal.log)
    finally:
        code = await terminal.close()
    assert terminal.answered  # the probe's questions came through ssh
    assert len(TRUECOLOR_SGR.findall(written)) > 100
    assert SIXEL.search(written)
    assert code == 0
