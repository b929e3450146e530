"""The central server: back-office API, gate change feed and scan upload, supervisors' dashboard."""

__version__ = "0.1.0"
