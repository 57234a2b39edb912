"""The same log mines to the same cases and candidates whatever Python's string hash seed (set and
dict orders of strings change with it) and whatever the run's random pseudonym key: ties in
segmentation and ranking are broken by explicit keys, never by iteration order."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.uilog_streams import Kind, StreamSpec, build

_MINE = """
import sys
from pathlib import Path
from veil.mining.actionlogger import read_action_logger
from veil.mining.routines import rank_candidates
from veil.mining.segment import segment
events = read_action_logger(Path(sys.argv[1]))
seg = segment(events)
print(repr(seg))
print(repr(rank_candidates(events, seg)))
"""


def _digest(log: Path, seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run(
        [sys.executable, "-c", _MINE, str(log)], env=env, capture_output=True, text=True, check=True
    )
    return hashlib.sha256(done.stdout.encode()).hexdigest()


@pytest.mark.parametrize(
    "spec",
    [
        # The weakest real case (CopyPaste retries its log-in) interleaved with noise: many ties.
        StreamSpec(
            types=("StudentRecord", "CopyPaste"), kind=Kind.INTERLEAVED, seed=4, instances=8, noise=0.1
        ),
        # All three types one after another: process-map steps tie on their mean position.
        StreamSpec(types=("Reimbursement", "StudentRecord", "CopyPaste"), kind=Kind.SEQUENTIAL, seed=1),
    ],
    ids=["interleaved-noise", "three-sequential"],
)
def test_mining_does_not_depend_on_the_hash_seed_or_the_pseudonym_key(
    tmp_path: Path, spec: StreamSpec
) -> None:
    log = tmp_path / "stream.csv"
    build(spec).frame().to_csv(log, index=False)
    digests = {seed: _digest(log, seed) for seed in ("0", "1", "5", "4242")}
    assert len(set(digests.values())) == 1, digests
