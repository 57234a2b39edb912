"""The SeaweedFS launcher: one copy per site, reads survive a lost site, writes fail until the
operator accepts single-copy writes, and the returned site gets its copies back."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from veil.sites import S3Endpoint, SeaweedCluster

pytestmark = pytest.mark.sites
BUCKET = "veil-sites"


def _client(s3: S3Endpoint, secret: str | None = None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3.url,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=secret or s3.secret_key,
        region_name=s3.region,
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5),
    )


def test_s3_gateway_needs_the_generated_secret(weed_cluster: SeaweedCluster) -> None:
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        _client(weed_cluster.s3, secret="not-the-secret").list_buckets()
    assert "***" in repr(weed_cluster.s3)
    assert weed_cluster.s3.secret_key not in repr(weed_cluster.s3)


def test_every_volume_has_a_copy_in_each_site_and_survives_either_loss(weed_cluster: SeaweedCluster) -> None:
    c = _client(weed_cluster.s3)
    c.create_bucket(Bucket=BUCKET)
    before = {f"before/{i}": os.urandom(50_000 + i) for i in range(10)}
    for key, body in before.items():
        c.put_object(Bucket=BUCKET, Key=key, Body=body)
    layout = weed_cluster.layout()
    assert layout and all(dcs == {"dc1", "dc2"} for dcs in layout.values()), layout
    assert set(weed_cluster.replication_of()) == {"100"}

    weed_cluster.stop_site("dc1")
    _wait(lambda: weed_cluster.live_sites() == ["dc2"])
    for key, body in before.items():  # every copy read from the surviving site, bit for bit
        assert c.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    with pytest.raises((ClientError, BotoCoreError)):  # two copies asked, one site left: refused
        c.put_object(Bucket=BUCKET, Key="lost-site/0", Body=b"x")

    weed_cluster.degrade(BUCKET, surviving="dc2")
    during = {f"degraded/{i}": os.urandom(40_000) for i in range(3)}
    for key, body in during.items():
        c.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert "000" in weed_cluster.replication_of()

    weed_cluster.start_site("dc1")
    weed_cluster.restore(BUCKET)
    _wait(lambda: all(dcs == {"dc1", "dc2"} for dcs in weed_cluster.layout().values()), timeout=60)
    assert set(weed_cluster.replication_of()) == {"100"}

    weed_cluster.stop_site("dc2")  # now the other site: everything, degraded writes included, is on dc1
    _wait(lambda: weed_cluster.live_sites() == ["dc1"])
    for key, body in {**before, **during}.items():
        assert c.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    weed_cluster.start_site("dc2")


def _wait(ok: object, timeout: float = 20.0) -> None:
    assert callable(ok)
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)
