"""`imagechat-tui invite list|revoke` on the server's host, against its running server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imagechat_tui.server.node import RunningServer
from tests.sharing.test_http_api import redeem, share
from tests.sharing.test_two_users import run_cli


async def test_list_then_revoke_by_link_or_id(
    server: RunningServer, mint_token: Callable[..., str], home: Path
) -> None:
    code = await share(server, mint_token("alice"), role="viewer", max_uses=3)
    other = await share(server, mint_token("alice"), room="other")
    database = f"sqlite:///{home / 'imagechat.sqlite3'}"

    listed = await run_cli("invite", "list", "--database", database, home=home)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[1:]
    assert len(rows) == 2 and all("active" in row for row in rows)
    assert any("viewer" in row and "0/3" in row and "local/design" in row for row in rows)
    assert code not in listed.stdout  # codes are never shown: only stored hashed

    link = f"{server.http_url}/r/design?invite={code}"
    revoked = await run_cli("invite", "revoke", link, "--database", database, home=home)
    assert revoked.returncode == 0 and "revoked invite" in revoked.stdout
    assert (await redeem(server, code)).json()["reason"] == "revoked"

    other_id = next(row.split()[0] for row in rows if "local/other" in row)
    by_id = await run_cli("invite", "revoke", other_id, "--database", database, home=home)
    assert by_id.returncode == 0, by_id.stderr
    assert (await redeem(server, other)).status_code == 410

    unknown = await run_cli("invite", "revoke", "nosuchinvite", "--database", database, home=home)
    assert unknown.returncode != 0 and unknown.stderr.count("\n") == 1
    listed = await run_cli("invite", "list", "--database", database, home=home)
    assert listed.stdout.count("revoked") == 2
