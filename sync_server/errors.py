"""Domain errors of the server. The API turns them into 4xx answers that say what is wrong."""

from __future__ import annotations


class ServerError(Exception):
    """``str()`` is the English message the API answers with; ``said`` names the same refusal
    in :data:`sync_server.words.REFUSALS`, with ``values`` for its placeholders, so that a page
    says it in its own language."""

    status_code = 400

    def __init__(self, message: str, *, said: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.said = said
        self.values = values


class NotFound(ServerError, LookupError):
    status_code = 404


class Forbidden(ServerError):
    status_code = 403


class Conflict(ServerError):
    status_code = 409


class Invalid(ServerError, ValueError):
    status_code = 422
