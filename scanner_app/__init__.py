"""The gate terminal: local replica, decisions, sync client, camera pipeline and kiosk UI."""

__version__ = "0.1.0"
