"""Who is looking at the dashboard: the session cookie, its CSRF token, and role checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status

from shared.i18n import Language, from_accept_language, language_or_default
from sync_server import roles
from sync_server.api.deps import SessionDep, scope_of
from sync_server.db import get_sessionmaker, read_only
from sync_server.services import sessions

COOKIE = "entrix_session"
LANGUAGE_COOKIE = "entrix_lang"
"""The language picked before signing in (the sign-in page's own choice)."""
PREFIX = "/dashboard"
LOGIN = f"{PREFIX}/login"


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in supervisor or admin, with the secret of their session."""

    name: str
    role: str
    token: str
    remote_addr: str
    session_id: int = 0
    language: Language = Language.FR
    venues: frozenset[str] | None = None
    """The venues the account is confined to (``deps.scope_of``); None: every venue."""

    @property
    def audience(self) -> tuple[Language, frozenset[str] | None]:
        """Whom the live sections are rendered for (``dashboard.live.Audience``)."""
        return self.language, self.venues

    @property
    def csrf(self) -> str:
        return sessions.csrf_token(self.token)

    @property
    def is_admin(self) -> bool:
        """Everything, every venue (the platform's superadmin)."""
        return self.role == roles.ADMIN

    @property
    def writes(self) -> bool:
        """An admin, or a venue admin (in their venues)."""
        return self.role in roles.WRITERS

    def manages(self, venue: str) -> bool:
        return roles.manages(self, venue)


def set_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly and SameSite=Strict always; Secure when the page came over https."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(sessions.SESSION_TTL.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def request_language(request: Request, chosen: str | None = None) -> Language:
    """The pages' language: the user's own choice, else the one picked on the sign-in page
    (cookie), else the browser's (``Accept-Language``), else French."""
    if chosen:
        return language_or_default(chosen)
    picked = request.cookies.get(LANGUAGE_COOKIE)
    if picked:
        return language_or_default(picked)
    return from_accept_language(request.headers.get("accept-language"))


def set_language_cookie(response: Response, request: Request, language: Language) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language.value,
        max_age=365 * 86_400,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def optional_viewer(request: Request, session: SessionDep) -> Viewer | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    # Without the write lock, and ended at once: see api.deps.current_user.
    user = sessions.find(read_only(session), token)
    session.commit()
    if user is None:
        return None
    if sessions.touch_due(user):
        with get_sessionmaker()() as writer:  # the request's own session may be read-only
            sessions.touch(writer, user.session_id)
    client = request.client.host if request.client else ""
    language = request_language(request, user.language)
    venues = None
    if user.role in (roles.VENUE_ADMIN, roles.SUPERVISOR):
        venues = scope_of(read_only(session), user.user_id, user.role)
        session.commit()
    return Viewer(user.name, user.role, token, client, user.session_id, language, venues)


OptionalViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


def page_viewer(viewer: OptionalViewerDep) -> Viewer:
    """For pages: not signed in sends the browser to the sign-in form."""
    if viewer is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", {"Location": LOGIN})
    return viewer


def data_viewer(viewer: OptionalViewerDep) -> Viewer:
    """For the stream and the JSON: not signed in is a plain 401."""
    if viewer is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in at /dashboard/login")
    return viewer


ViewerDep = Annotated[Viewer, Depends(page_viewer)]
DataViewerDep = Annotated[Viewer, Depends(data_viewer)]


def check_csrf(viewer: Viewer, given: str) -> None:
    if not sessions.csrf_ok(viewer.token, given):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this form is stale or forged: reload the dashboard"
        )


def admin_viewer(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
    """For the admin's pages and forms (keys, the audit log, new venues): refused (403) before
    the form is read."""
    check_admin(viewer)
    return viewer


def writer_viewer(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
    """For the back office's forms: an admin, or a venue admin (each change then checks the
    venue, in the API's own functions); refused (403) before the form is read."""
    if not viewer.writes:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this action needs the admin role (or venue_admin, for its own venues)",
        )
    return viewer


AdminViewerDep = Annotated[Viewer, Depends(admin_viewer)]
WriterViewerDep = Annotated[Viewer, Depends(writer_viewer)]


def check_writer(viewer: Viewer, venue: str) -> None:
    """An admin, or that venue's admin."""
    if not viewer.manages(venue):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the admin role")


def check_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the admin role")
