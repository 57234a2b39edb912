"""`veil serve`: the Veil server (agents' uplink, dashboard, JSON API, employee portal).

from veil.server import Settings, create_app
app = create_app(Settings(catalog_url="sqlite:///catalog.sqlite3"))
"""

from veil.server.app import create_app
from veil.server.settings import Settings

__all__ = ["Settings", "create_app"]
