"""Domain errors of the server. The API turns them into 4xx answers that say what is wrong."""

from __future__ import annotations


class ServerError(Exception):
    status_code = 400


class NotFound(ServerError, LookupError):
    status_code = 404


class Conflict(ServerError):
    status_code = 409


class Invalid(ServerError, ValueError):
    status_code = 422
