"""What `imagechat-tui IMAGE` does before its first frame (find the image, mint the
local token, read who we are from it, build the app and its screen) imports none of
what only the link or a command needs later: PyJWT with cryptography (~150 ms), the
websockets client, httpx, rich's progress bars, typer (the CLI's). The time is measured
by bench/app_startup.py; here, which modules a real launch up to the first frame loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LATER = ("jwt", "cryptography", "websockets.asyncio.client", "httpx", "rich.progress", "typer")

_PROBE = """
import json, sys
from rich.console import Console
from imagechat_tui.client.target import resolve
from imagechat_tui.tui import launch
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.workspace import Workspace

target = resolve(sys.argv[1], None, None, None, None, Console(stderr=True))
assert target.token.count(".") == 2 and target.user.id, target
later = json.loads(sys.argv[2])
print(json.dumps([m for m in later if any(n == m or n.startswith(m + ".") for n in sys.modules)]))
"""


def test_launch_to_first_frame_imports_nothing_the_link_needs(tmp_path: Path) -> None:
    image = Path(__file__).parents[2] / "examples" / "dashboard.png"
    env = {**os.environ, "IMAGECHAT_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(image), json.dumps(LATER)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


_CLI_PROBE = """
import json, os, sys
import textual.app

def stop(app, *args, **kwargs):  # the app is built: report what the launch loaded
    print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
    os._exit(0)

textual.app.App.run = stop
sys.argv = ["imagechat-tui", *sys.argv[1:]]
from imagechat_tui.entry import main  # what the installed command runs
main()
"""


def _packages_loaded_at_app_run(home: Path, *args: str, **env: str) -> set[str]:
    """The top-level packages a real ``imagechat-tui ARGS`` has loaded when it runs the
    app (the probe stops there)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    done = subprocess.run(
        [sys.executable, "-c", _CLI_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "IMAGECHAT_HOME": str(home), **env},
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_imagechat_tui_file_alone_skips_typer(tmp_path: Path) -> None:
    """``imagechat-tui FILE`` with no option and none of open's variables set: typer
    would pass every default, so open runs without typer (its import, the commands'
    modules, and its parsing, which imports pydantic for an adapter per option). With an
    option or a variable, typer parses as before."""
    image = str(Path(__file__).parents[2] / "examples" / "dashboard.png")
    assert {"typer", "pydantic"}.isdisjoint(_packages_loaded_at_app_run(tmp_path, image))
    # (typer itself, not pydantic: typer before 0.29 parses without pydantic)
    assert "typer" in _packages_loaded_at_app_run(tmp_path, image, "--graphics", "auto")
    assert "typer" in _packages_loaded_at_app_run(tmp_path, image, IMAGECHAT_ALERT="bell")
