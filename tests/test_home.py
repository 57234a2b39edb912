"""Host-local keys: created once, 0600, the same for every concurrent first user."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from veil.store.home import load_or_create_key


def test_concurrent_first_use_gets_one_key(tmp_path: Path) -> None:
    for round_ in range(30):
        home = tmp_path / str(round_)
        barrier = threading.Barrier(6)
        keys: list[bytes] = []

        def first_use(
            home: Path = home, barrier: threading.Barrier = barrier, keys: list[bytes] = keys
        ) -> None:
            barrier.wait()
            keys.append(load_or_create_key("finding-hmac", home))

        threads = [threading.Thread(target=first_use) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(keys) == 6 and len(set(keys)) == 1
        key_file = home / "keys" / "finding-hmac.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_bytes() == keys[0]
