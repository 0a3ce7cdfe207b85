from __future__ import annotations

import stat
from pathlib import Path

import pytest

from imagechat_tui.client.accounts import ANY_ROOM, Accounts, config_dir


def test_names_and_tokens_persist_in_a_file_only_its_owner_reads(home: Path) -> None:
    accounts = Accounts()
    assert accounts.path.parent == config_dir() == home / "config"
    accounts.default_name = "Bea"
    accounts.server("http://h:1").tokens["r1"] = "tok-r1"
    accounts.server("http://h:1").name = "Bea B."
    accounts.save()
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(accounts.path.parent.stat().st_mode) == 0o700

    again = Accounts()
    assert again.default_name == "Bea"
    assert again.server("http://h:1").token_for("r1") == "tok-r1"
    assert again.server("http://h:1").token_for("r2") is None
    again.server("http://h:1").tokens[ANY_ROOM] = "tok-any"
    assert again.server("http://h:1").token_for("r2") == "tok-any"


def test_xdg_config_home_is_used_without_imagechat_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMAGECHAT_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "imagechat-tui"


def test_a_damaged_file_is_named_not_overwritten(home: Path) -> None:
    path = config_dir() / "accounts.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"accounts\.json"):
        Accounts()
    assert path.read_text() == "{not json"
