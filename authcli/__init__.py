"""authcli: see web authentication work, one real HTTP exchange at a time."""

__version__ = "0.1.0"
