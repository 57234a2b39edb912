"""Session-wide: no test writes the host's Veil home (its keys and ledger). Tests that need their
own home still set VEIL_HOME themselves; this is the fallback for the ones that do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_veil_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VEIL_HOME", str(tmp_path_factory.mktemp("veil-home")))
        mp.delenv("VEIL_LEDGER_KEY_DIR", raising=False)
        yield
