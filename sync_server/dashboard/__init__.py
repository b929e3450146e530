"""The supervisors' dashboard: server-rendered pages kept live by server-sent events."""
