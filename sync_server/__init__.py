"""The central server: back-office API, gate change feed and scan upload, supervisors' dashboard."""
