"""Two sites on one host: a SeaweedFS cluster with a master, volume server, filer and S3 gateway
per data center plus a tie-breaker master (replication "100") and a PostgreSQL primary with a
streaming standby, all on loopback.

Operators use it to try a two-site layout before deploying one (`python -m veil.sites`); the
tests and the store benchmark start it from their fixtures. See docs/sites.md.

    SiteError (StoreError, exit code 12)   a site process did not start, answer or stop in time
"""

from veil.sites._proc import SiteError
from veil.sites.postgres import PgPair, make_base_dir
from veil.sites.seaweed import S3Endpoint, SeaweedCluster, find_weed

__all__ = ["PgPair", "S3Endpoint", "SeaweedCluster", "SiteError", "find_weed", "make_base_dir"]
