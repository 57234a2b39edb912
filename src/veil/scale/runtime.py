"""Starting Ray for Veil: a local Ray by default, the cluster named by `RAY_ADDRESS` otherwise.

Ray must never reach the network on its own: usage statistics are off, no dashboard is started, no
runtime environment is asked for (so nothing is downloaded: Veil's models ship inside its Python
packages, installed on every node beforehand), and a local Ray listens on 127.0.0.1 only.
Workers' output stays in their own log files (`log_to_driver=False`): Veil's logging filter runs in
every actor, and nothing a worker prints reaches the user's terminal.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from veil.exceptions import EngineError

log = logging.getLogger(__name__)

QUIET_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage report to the Ray project
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
    "RAY_DEDUP_LOGS": "0",
}


def ensure(num_cpus: int | None = None) -> Any:
    """Ray, started if this process has not yet: `RAY_ADDRESS` joins a cluster (its resources are
    the cluster's), else a local Ray with `num_cpus` CPUs. Returns the `ray` module."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    if ray.is_initialized():
        return ray
    address = os.environ.get("RAY_ADDRESS")
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "the cluster in RAY_ADDRESS" if address else "a local Ray"
        raise EngineError(f"could not start {where} ({type(exc).__name__})") from exc
    _notices_to_log()
    return ray


def _notices_to_log() -> None:
    """Ray prints its cluster's error notices ("a worker died ...") on the driver's stdout, which
    carries `--json` results: they go to the log (stderr) instead, without their text (the actor
    that died is handled, and reported, by `veil.scale.work`)."""
    from ray._private import worker

    def to_log(data: dict[str, Any], ignore_prefix: bool = False) -> None:
        log.warning("Ray reported an error from %s (details in Ray's own logs)", data.get("pid", "?"))

    if hasattr(worker, "print_to_stdstream"):
        worker.print_to_stdstream = to_log


def cluster_cpus() -> int:
    """CPUs Ray can schedule on (all nodes), at least 1."""
    import ray

    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))
