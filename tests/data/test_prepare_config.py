"""``PrepareConfig`` lives in ``data/prepare_config.py`` and is still importable from its old home."""

from __future__ import annotations


def test_prepare_config_old_and_new_paths_are_one_class() -> None:
    import profilerec
    from profilerec.data.prepare import PrepareConfig as old
    from profilerec.data.prepare_config import PrepareConfig as new

    assert old is new is profilerec.PrepareConfig
