"""Master key loading, organisation key wrapping and master key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.settings import Settings, SettingsError
from airlock.vault.crypto import VaultIntegrityError, new_key
from airlock.vault.keys import (
    MasterKey,
    generate_master_key,
    load_master_key,
    parse_master_key,
    rewrap_org_keys,
    unwrap_org_key,
    wrap_org_key,
)


def test_master_key_parses_base64_and_never_shows_its_secret() -> None:
    value = generate_master_key()
    key = parse_master_key(value)
    assert value not in repr(key) and key.secret.hex() not in repr(key)
    assert len(key.key_id) == 16


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ="])
def test_bad_master_key_names_the_setting_not_the_value(value: str) -> None:
    with pytest.raises(SettingsError, match="AIRLOCK_MASTER_KEY") as err:
        parse_master_key(value)
    assert value not in str(err.value)


def test_missing_master_key_outside_dev_stops(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AIRLOCK_MASTER_KEY is missing"):
        load_master_key(Settings(dev=False, data_dir=tmp_path, master_key=""))


def test_dev_master_key_is_generated_once_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(dev=True, data_dir=tmp_path, master_key="")
    first = load_master_key(settings)
    assert "WARNING" in capsys.readouterr().err
    assert (tmp_path / "master.key").stat().st_mode & 0o077 == 0
    assert load_master_key(settings) == first
    assert capsys.readouterr().err == ""


def test_org_key_is_bound_to_org_and_version() -> None:
    master = MasterKey(new_key())
    org_key = new_key()
    stored = wrap_org_key(master, org_key, org_id="org-a", version=1)
    assert unwrap_org_key(master, stored) == org_key
    for forged in (
        type(stored)("org-b", 1, stored.master_key_id, stored.wrapped),
        type(stored)("org-a", 2, stored.master_key_id, stored.wrapped),
    ):
        with pytest.raises(VaultIntegrityError, match="failed authentication"):
            unwrap_org_key(master, forged)


def test_rotation_keeps_org_keys_and_the_old_master_opens_nothing() -> None:
    old, new = MasterKey(new_key()), MasterKey(new_key())
    org_keys = {f"org-{i}": new_key() for i in range(3)}
    stored = [wrap_org_key(old, k, org_id=o, version=1) for o, k in org_keys.items()]
    rotated = rewrap_org_keys(stored, old=old, new=new)
    for item in rotated:
        assert item.master_key_id == new.key_id
        assert unwrap_org_key(new, item) == org_keys[item.org_id]
        with pytest.raises(VaultIntegrityError, match="wrapped under master key"):
            unwrap_org_key(old, item)
        # Even ignoring the key id check, the old master key cannot unwrap the new blob.
        faked = type(item)(item.org_id, item.version, old.key_id, item.wrapped)
        with pytest.raises(VaultIntegrityError, match="failed authentication"):
            unwrap_org_key(old, faked)


def test_rotation_to_the_same_key_is_refused() -> None:
    key = MasterKey(new_key())
    with pytest.raises(ValueError, match="same"):
        rewrap_org_keys([], old=key, new=key)
