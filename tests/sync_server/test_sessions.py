"""Dashboard sign-in without a browser: password hashing, throttling, sessions in the database,
the cookie's flags, and ``gate-server create-user --password-stdin``. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sync_server.db import make_engine
from sync_server.migrate import upgrade
from sync_server.models import AuditEntry, SignInLock, User
from sync_server.services import sessions
from tests.support.server import REPO, RunningServer, create_user, server_env

PASSWORD = "correct horse battery"


def add_user(database_url: str, role: str, password: str = PASSWORD) -> str:
    """A new user with a dashboard password, made by the real CLI; returns its name."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "create-user", name, "--role", role,
         "--password-stdin"],
        input=password + "\n", env=server_env(database_url), cwd=REPO, text=True,
        capture_output=True, check=True,
    )  # fmt: skip
    return name


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    upgrade(database_url)
    engine = make_engine(database_url)
    with sessionmaker(engine, expire_on_commit=False)() as session:
        yield session
    engine.dispose()


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = sessions.hash_password("s3cret-pass"), sessions.hash_password("s3cret-pass")
    assert first != second, "a random salt each time"
    assert first.startswith("scrypt$")
    assert sessions.verify_password("s3cret-pass", first)
    assert sessions.verify_password("s3cret-pass", second)
    assert not sessions.verify_password("s3cret-pasS", first)
    assert not sessions.verify_password("s3cret-pass", "scrypt$broken")
    assert not sessions.verify_password("s3cret-pass", "md5$1$2$3$4$5")


def test_repeated_failures_lock_the_account_for_a_while(database_url: str, db: Session) -> None:
    name = add_user(database_url, "supervisor")
    now = datetime.now(UTC)
    for _ in range(sessions.FREE_ATTEMPTS):
        refused = sessions.sign_in(db, name=name, password="wrong-one", now=now)
        assert refused.token is None and refused.refusal == "Wrong name or password."
    # Locked: even the right password is refused, with how long to wait.
    locked = sessions.sign_in(db, name=name, password=PASSWORD, now=now + timedelta(seconds=1))
    assert locked.token is None and "try again in" in locked.refusal
    assert locked.retry_after_s == sessions.LOCK_BASE_S - 1
    later = now + timedelta(seconds=sessions.LOCK_BASE_S + 1)
    # One more failure after the lock doubles it.
    again = sessions.sign_in(db, name=name, password="wrong-two", now=later)
    assert again.retry_after_s == 2 * sessions.LOCK_BASE_S
    after = later + timedelta(seconds=2 * sessions.LOCK_BASE_S + 1)
    ok = sessions.sign_in(db, name=name, password=PASSWORD, now=after)
    assert ok.token is not None
    assert db.scalars(select(SignInLock)).all() == []  # a good sign-in clears the pair's lock
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.actor == name)).all()
    assert actions.count("dashboard.sign_in_failed") == sessions.FREE_ATTEMPTS + 1
    assert "dashboard.sign_in" in actions


def test_failures_from_another_address_never_lock_the_real_supervisor_out(
    database_url: str, db: Session
) -> None:
    """The landed release: three wrong passwords from anyone locked the account, and the right
    password was refused meanwhile, up to 15 minutes, as often as someone cared to."""
    name = add_user(database_url, "supervisor")
    now = datetime.now(UTC)
    for i in range(10):
        refused = sessions.sign_in(
            db, name=name, password=f"guess-{i}", remote_addr="203.0.113.7", now=now
        )
        assert refused.token is None
    attacker = sessions.sign_in(db, name=name, password=PASSWORD, remote_addr="203.0.113.7",
                                now=now)  # fmt: skip
    assert attacker.locked and attacker.token is None  # that address is locked, even if right
    supervisor = sessions.sign_in(
        db, name=name, password=PASSWORD, remote_addr="10.0.0.21", now=now
    )
    assert supervisor.token is not None  # the real one, from the control room, gets in
    lock = db.get(SignInLock, (db.scalar(select(User.id).where(User.name == name)), "203.0.113.7"))
    # Counted until locked; refused unchecked after (not counted, not slower to lift).
    assert lock is not None and lock.failures == sessions.FREE_ATTEMPTS
    assert lock.blocked_until is not None and lock.blocked_until > now


def test_sessions_expire_when_idle_or_old_and_end_on_sign_out(
    database_url: str, db: Session
) -> None:
    name = add_user(database_url, "admin")
    now = datetime.now(UTC)
    token = sessions.sign_in(db, name=name, password=PASSWORD, now=now).token
    assert token is not None
    found = sessions.find(db, token, now=now)
    assert found is not None and (found.name, found.role) == (name, "admin")
    assert sessions.find(db, token + "x", now=now) is None
    assert sessions.find(db, token, now=now + sessions.IDLE_TTL) is None
    # Activity keeps it alive past the idle limit, never past its end.
    sessions.touch(db, found.session_id, now=now + sessions.IDLE_TTL / 2)
    assert sessions.find(db, token, now=now + sessions.IDLE_TTL) is not None
    assert sessions.find(db, token, now=now + sessions.SESSION_TTL) is None
    sessions.sign_out(db, token)
    assert sessions.find(db, token, now=now) is None


def test_a_new_password_ends_sessions_and_users_without_one_cannot_sign_in(
    database_url: str, db: Session
) -> None:
    name = add_user(database_url, "supervisor")
    token = sessions.sign_in(db, name=name, password=PASSWORD).token
    assert token is not None
    user = db.scalar(select(User).where(User.name == name))
    assert user is not None
    sessions.set_password(db, user=user, password="another-password")
    db.commit()
    assert sessions.find(db, token) is None
    db.rollback()  # sign_in wants a fresh session (it reads in a read-only transaction)
    assert sessions.sign_in(db, name=name, password=PASSWORD).token is None
    assert sessions.sign_in(db, name=name, password="another-password").token is not None
    token_only = f"api-{uuid.uuid4().hex[:8]}"
    create_user(database_url, token_only, "supervisor")  # no password: API token only
    assert sessions.sign_in(db, name=token_only, password="").token is None
    with pytest.raises(ValueError, match="at least"):
        sessions.set_password(db, user=user, password="short")


def test_cli_refuses_short_passwords_and_unknown_users(database_url: str) -> None:
    def cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sync_server.cli", *args], input=stdin,
            env=server_env(database_url), cwd=REPO, text=True, capture_output=True,
        )  # fmt: skip

    short = cli("create-user", "shorty", "--role", "supervisor", "--password-stdin", stdin="abc\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    made = cli("create-user", f"u-{uuid.uuid4().hex[:6]}", "--role", "supervisor",
               "--password-stdin", stdin="long-enough\n")  # fmt: skip
    assert made.returncode == 0 and made.stdout.split()[-1].startswith("egu_")
    unknown = cli("set-password", "nobody-here", "--password-stdin", stdin="long-enough\n")
    assert unknown.returncode == 2 and "no user" in unknown.stderr


def test_sign_in_sets_a_strict_http_only_cookie_and_never_a_url_token(
    server: RunningServer,
) -> None:
    name = add_user(server.database_url, "supervisor")
    with httpx.Client(base_url=server.url) as browser:
        assert browser.get("/dashboard").headers["location"] == "/dashboard/login"
        answer = browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
        assert "Secure" not in cookie  # plain http here; https gets Secure
        page = browser.get("/dashboard")
        assert page.status_code == 200 and name in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        # The API's bearer auth does not accept the cookie, nor the cookie a bearer token.
        assert browser.get("/api/v1/alerts").status_code == 401
        assert browser.get("/dashboard/live").status_code == 200
    with httpx.Client(base_url=server.url) as stranger:
        bearer = {"Authorization": f"Bearer {server.tokens['admin']}"}
        assert stranger.get("/dashboard/live", headers=bearer).status_code == 401


def test_repeated_wrong_passwords_are_slowed_down_over_http(server: RunningServer) -> None:
    name = add_user(server.database_url, "supervisor")
    with httpx.Client(base_url=server.url) as browser:
        for _ in range(sessions.FREE_ATTEMPTS):
            wrong = browser.post("/dashboard/login", data={"name": name, "password": "nope-nope"})
            assert wrong.status_code == 401 and "Nom ou mot de passe incorrect." in wrong.text
            assert wrong.elapsed >= timedelta(seconds=0.5)
        locked = browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert locked.status_code == 429 and "Trop d&#39;essais manqués" in locked.text
        assert 1 <= int(locked.headers["retry-after"]) <= sessions.LOCK_BASE_S
        assert "entrix_session" not in browser.cookies
