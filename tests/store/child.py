"""Child processes for the crash and race tests: `python -m tests.store.child MODE ...`.

race N GO       put segments 0..N-1 of recording "race", each racing another process: the
                first look for the slot is made to miss (both processes write an object
                and try to insert), so the catalog's unique key must pick one. Prints the
                object ids and how many of its own objects this process deleted as loser.
loop N SIZE     put segments 0..N-1 of recording "loop" (SIZE bytes each, a pattern
                depending on the segment): killed at random moments by the test.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from veil.store.backends import LocalFolderBackend
from veil.store.home import veil_home
from veil.store.store import RecordingStore


def payload(segment: int, size: int) -> bytes:
    return (b"segment %06d;" % segment) * (size // 15 + 1)


def race(n: int, go: float) -> None:
    backend = LocalFolderBackend(veil_home() / "objects")
    deletes = 0
    real_delete = backend.delete

    def counting_delete(key: str) -> None:
        nonlocal deletes
        deletes += 1
        real_delete(key)

    backend.delete = counting_delete  # type: ignore[method-assign]
    store = RecordingStore.open(backend=backend)
    missed: set[Any] = set()
    real_find = store._find_slot

    def first_look_misses(*slot: Any) -> Any:
        if slot not in missed:
            missed.add(slot)
            return None
        return real_find(*slot)

    store._find_slot = first_look_misses  # type: ignore[method-assign]
    time.sleep(max(0.0, go - time.time()))
    ids = [
        store.put(payload(i, 3000), klass="redacted", owner="u", recording_id="race", segment=i,
                  policy_version="1").object_id
        for i in range(n)
    ]  # fmt: skip
    store.close()
    print(json.dumps({"ids": ids, "deletes": deletes}))


def loop(n: int, size: int) -> None:
    with RecordingStore.open(chunk_size=4096) as store:
        print("ready", flush=True)
        for i in range(n):
            store.put(payload(i, size), klass="raw", owner="u", recording_id="loop", segment=i,
                      policy_version="1")  # fmt: skip
    print("done")


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "race":
        race(int(args[0]), float(args[1]))
    else:
        loop(int(args[0]), int(args[1]))
