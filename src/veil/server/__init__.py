"""`veil serve`: the Veil server (agents' uplink, dashboard, JSON API, employee portal).

    from veil.server.app import create_app
    from veil.server.settings import Settings
    app = create_app(Settings(catalog_url="sqlite:///catalog.sqlite3"))

Nothing is imported here: the `veil` command line mounts `veil serve` without loading FastAPI (the
`server` extra) until a server command runs.
"""
