"""The SeaweedFS launcher: three masters (dc1, dc2, tie-breaker), a volume server, filer and S3
gateway per site; one copy per site, each site's filer knows what the other stored, reads survive
the loss of a whole site (Raft leader included), writes fail until the operator accepts
single-copy writes, and the returned site gets its copies back."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from veil.sites import S3Endpoint, SeaweedCluster, SiteError

pytestmark = pytest.mark.sites
BUCKET = "veil-sites"


def _client(s3: S3Endpoint, url: str, secret: str | None = None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=secret or s3.secret_key,
        region_name=s3.region,
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5),
    )


def test_s3_gateway_needs_the_generated_secret(weed_cluster: SeaweedCluster) -> None:
    for url in weed_cluster.s3.urls:
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            _client(weed_cluster.s3, url, secret="not-the-secret").list_buckets()
    assert "***" in repr(weed_cluster.s3)
    assert weed_cluster.s3.secret_key not in repr(weed_cluster.s3)


def test_three_masters_one_per_site_and_a_tie_breaker_one_leads(weed_cluster: SeaweedCluster) -> None:
    assert weed_cluster.master_sites == ("dc1", "dc2", "tb")
    assert weed_cluster.wait_leader() in ("dc1", "dc2", "tb")
    for site in ("dc1", "dc2"):
        assert weed_cluster.site_processes(site) == [
            f"s3-{site}",
            f"filer-{site}",
            f"volume-{site}",
            f"master-{site}",
        ]
    assert weed_cluster.site_processes("tb") == ["master-tb"]
    weed_cluster.make_leader("dc2")
    assert weed_cluster.leader() == "dc2"


def test_each_sites_filer_knows_what_the_other_sites_gateway_stored(weed_cluster: SeaweedCluster) -> None:
    """Two filers with their own stores: an object put through one site's gateway is listed and
    read, bit for bit, through the other's (the filers replay each other's metadata)."""
    dc1, dc2 = (_client(weed_cluster.s3, url) for url in weed_cluster.s3.urls)
    dc1.create_bucket(Bucket="veil-filers")
    bodies = {f"through-dc1/{i}": os.urandom(30_000 + i) for i in range(5)}
    for key, body in bodies.items():
        dc1.put_object(Bucket="veil-filers", Key=key, Body=body)
    dc2.put_object(Bucket="veil-filers", Key="through-dc2/0", Body=b"the other way")

    def listed(c: Any) -> set[str]:
        return {o["Key"] for o in c.list_objects_v2(Bucket="veil-filers").get("Contents", [])}

    _wait(lambda: listed(dc2) == {*bodies, "through-dc2/0"} == listed(dc1), timeout=10)
    for key, body in bodies.items():
        assert dc2.get_object(Bucket="veil-filers", Key=key)["Body"].read() == body
    assert dc1.get_object(Bucket="veil-filers", Key="through-dc2/0")["Body"].read() == b"the other way"


def test_every_volume_has_a_copy_in_each_site_and_survives_either_loss(weed_cluster: SeaweedCluster) -> None:
    c1, c2 = (_client(weed_cluster.s3, url) for url in weed_cluster.s3.urls)
    c1.create_bucket(Bucket=BUCKET)
    before = {f"before/{i}": os.urandom(50_000 + i) for i in range(10)}
    for key, body in before.items():
        c1.put_object(Bucket=BUCKET, Key=key, Body=body)
    layout = weed_cluster.layout()
    assert layout and all(dcs == {"dc1", "dc2"} for dcs in layout.values()), layout
    assert set(weed_cluster.replication_of()) == {"100"}

    weed_cluster.make_leader("dc1")  # the whole site goes, the Raft leader with it
    lost = weed_cluster.stop_site("dc1")
    assert lost == ["s3-dc1", "filer-dc1", "volume-dc1", "master-dc1"]
    assert weed_cluster.wait_leader() in ("dc2", "tb")
    _wait(lambda: _live(weed_cluster) == ["dc2"], timeout=40)
    for key, body in before.items():  # every copy read from the surviving site, bit for bit
        assert c2.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    with pytest.raises((ClientError, BotoCoreError)):  # two copies asked, one site left: refused
        c2.put_object(Bucket=BUCKET, Key="lost-site/0", Body=b"x")

    weed_cluster.degrade(BUCKET, surviving="dc2")
    during = {f"degraded/{i}": os.urandom(40_000) for i in range(3)}
    for key, body in during.items():
        _retry(lambda k=key, b=body: c2.put_object(Bucket=BUCKET, Key=k, Body=b))
    assert "000" in weed_cluster.replication_of()

    weed_cluster.start_site("dc1")
    weed_cluster.restore(BUCKET)
    _wait(lambda: all(dcs == {"dc1", "dc2"} for dcs in weed_cluster.layout().values()), timeout=60)
    assert set(weed_cluster.replication_of()) == {"100"}

    weed_cluster.make_leader("dc2")
    assert weed_cluster.stop_site("dc2") == ["s3-dc2", "filer-dc2", "volume-dc2", "master-dc2"]
    weed_cluster.wait_leader()
    _wait(lambda: _live(weed_cluster) == ["dc1"], timeout=40)
    # Now the other site: everything, degraded writes included, is on dc1 and its filer knows it.
    for key, body in {**before, **during}.items():
        assert c1.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    weed_cluster.start_site("dc2")


def _live(cluster: SeaweedCluster) -> list[str] | None:
    try:
        return cluster.live_sites()
    except SiteError:  # no leader yet
        return None


def _retry(put: Callable[[], object], timeout: float = 40.0) -> None:
    """A put right after the loss may still hit the old leader's volume assignment: retried."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            put()
            return
        except (ClientError, BotoCoreError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait(ok: object, timeout: float = 20.0) -> None:
    assert callable(ok)
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)
