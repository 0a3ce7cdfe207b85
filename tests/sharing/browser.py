"""Headless Chromium (Debian's ``chromium``) for the room page: dump its DOM, take a
screenshot. A fresh profile each time; no network but the page's own server."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.services import missing

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("chromium is not installed (apt-get install chromium)")
    assert found is not None
    return found


async def run_chromium(profile: Path, *args: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, f"chromium exited {process.returncode}"
    return out


async def dump_dom(url: str, profile: Path) -> str:
    return (await run_chromium(profile, "--dump-dom", url)).decode()


async def screenshot(url: str, profile: Path, path: Path, size: tuple[int, int]) -> None:
    await run_chromium(profile, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", url)
    assert await asyncio.to_thread(path.exists), "chromium wrote no screenshot"
