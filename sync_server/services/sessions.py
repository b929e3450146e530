"""Dashboard sign-in: scrypt passwords, login throttling and browser sessions, all in the database
so that every server process shares them (a session made by one is known to the others)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync_server import roles
from sync_server.core.security import hash_token
from sync_server.db import read_only
from sync_server.models import SignInLock, User, WebSession
from sync_server.services import audit

SESSION_TTL = timedelta(hours=12)
"""A session ends this long after sign-in, whatever happens: a shift, not a week."""
IDLE_TTL = timedelta(hours=2)
TOUCH_EVERY = timedelta(seconds=60)
"""``last_seen_at`` is written at most this often: a page view is not a write."""
FREE_ATTEMPTS = 3
LOCK_BASE_S = 5
LOCK_MAX_S = 900
MIN_PASSWORD = 8
DASHBOARD_ROLES = tuple(sorted(roles.BACK_OFFICE))

_N, _R, _P = 2**14, 8, 1  # 16 MiB and ~50 ms per hash: slow for guessing, fine for a sign-in
_SALT_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, _unb64(digest))


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
"""Checked for unknown names, so that a wrong name takes as long as a wrong password."""


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in attempt gave: a session token, or a refusal in words for the form."""

    token: str | None = None
    refusal: str = ""
    retry_after_s: int = 0
    locked: bool = False
    """Refused unchecked: the account is locked after repeated failures."""


@dataclass(frozen=True, slots=True)
class SessionUser:
    """Who holds a browser session."""

    session_id: int
    name: str
    role: str
    last_seen_at: datetime
    language: str | None = None
    """The pages' language the user chose, if any."""
    user_id: int = 0


def csrf_token(session_token: str) -> str:
    """The session's anti-forgery token: derived from its secret, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"entrix-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str) -> bool:
    return given.isascii() and hmac.compare_digest(csrf_token(session_token), given)


def _lock_seconds(failures: int) -> int:
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(LOCK_BASE_S * 2 ** (failures - FREE_ATTEMPTS), LOCK_MAX_S))


def sign_in(
    session: Session,
    *,
    name: str,
    password: str,
    remote_addr: str = "",
    now: datetime | None = None,
) -> SignIn:
    """Check a name and password; on success open a session. Commits (failures count too).

    ``session`` must be fresh: the password is checked in a read-only transaction, so that the
    slow hash never holds SQLite's write lock, and the outcome is written in a second one.
    """
    now = now or datetime.now(UTC)
    user = read_only(session).scalar(select(User).where(User.name == name))
    usable = user is not None and not user.disabled and user.role in DASHBOARD_ROLES
    if user is None or not usable or user.password_hash is None:
        session.rollback()
        verify_password(password, _DUMMY_HASH)
        return SignIn(refusal="Wrong name or password.")
    pair = (user.id, remote_addr[:64])
    lock = session.get(SignInLock, pair)
    blocked = None if lock is None else lock.blocked_until
    if blocked is not None and blocked > now:
        session.rollback()
        wait = max(1, int((blocked - now).total_seconds() + 0.999))
        return SignIn(
            refusal=f"Too many failed attempts: try again in {wait} s.",
            retry_after_s=wait,
            locked=True,
        )
    good = verify_password(password, user.password_hash)
    session.rollback()  # end the read; the writes below take the write lock only now
    user = session.get_one(User, user.id)
    lock = session.get(SignInLock, pair)
    if not good:
        # Per account and address: another address's failures never lock this one out.
        if lock is None:
            lock = SignInLock(user_id=pair[0], remote_addr=pair[1], failures=0)
            session.add(lock)
        lock.failures += 1
        lock.last_at = now
        wait = _lock_seconds(lock.failures)
        lock.blocked_until = now + timedelta(seconds=wait) if wait else None
        audit.record(
            session, actor=name, action="dashboard.sign_in_failed", remote_addr=remote_addr
        )
        session.commit()
        return SignIn(refusal="Wrong name or password.", retry_after_s=wait)
    if lock is not None:
        session.delete(lock)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_TTL,
            last_seen_at=now,
        )
    )
    audit.record(session, actor=name, action="dashboard.sign_in", remote_addr=remote_addr)
    session.commit()
    return SignIn(token=token)


def find(session: Session, token: str, *, now: datetime | None = None) -> SessionUser | None:
    """The live session behind a cookie's token, or None (unknown, expired, idle, user disabled)."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    web, user = row
    if web.expires_at <= now or web.last_seen_at + IDLE_TTL <= now:
        return None
    if user.disabled or user.role not in DASHBOARD_ROLES:
        return None
    return SessionUser(web.id, user.name, user.role, web.last_seen_at, user.language, user.id)


def set_language(session: Session, name: str, language: str) -> None:
    """Remember the pages' language a user chose (every browser they sign in from). Commits."""
    user = session.scalar(select(User).where(User.name == name))
    if user is not None and user.language != language:
        user.language = language
        session.commit()


def adopt_language(session: Session, name: str, language: str) -> None:
    """A user who never chose a language takes the one they signed in with. Commits."""
    user = session.scalar(select(User).where(User.name == name))
    if user is not None and user.language is None:
        user.language = language
        session.commit()


def touch_due(user: SessionUser, *, now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) - user.last_seen_at >= TOUCH_EVERY


def touch(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    """Record activity (keeps the session from idling out). Commits."""
    web = session.get(WebSession, session_id)
    if web is not None:
        web.last_seen_at = now or datetime.now(UTC)
        session.commit()


def sign_out(session: Session, token: str, *, now: datetime | None = None) -> None:
    """End this session, and sweep expired ones while at it. Commits."""
    now = now or datetime.now(UTC)
    session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.commit()


def set_password(session: Session, *, user: User, password: str) -> None:
    """Give ``user`` a dashboard password (in the caller's transaction); ends their sessions."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    session.flush()  # a new user gets its id
    session.execute(delete(SignInLock).where(SignInLock.user_id == user.id))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
