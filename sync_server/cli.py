"""``gate-server``: run the sync server, migrate its database, create users."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from sync_server import __version__
from sync_server.core.config import get_settings
from sync_server.roles import ROLES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gate-server",
        description="Entrix Gate sync server. The database is $ENTRIX_DATABASE_URL "
        "(default: sqlite:///entrix-server.db in the current folder).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API (and migrate the database first)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (8000)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate at start")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    user = commands.add_parser(
        "create-user", help="create a back-office user and print its API token (shown once)"
    )
    user.add_argument("name")
    user.add_argument(
        "--role",
        choices=list(ROLES),
        required=True,
        help="admin: everything; venue_admin: the --venue(s) given; supervisor: reads and "
        "acknowledges; controller: no back office",
    )
    user.add_argument(
        "--venue", action="append", default=[], metavar="CODE",
        help="a venue a venue_admin manages, or whose gates a supervisor or controller's kiosk "
        "PIN opens (repeat for several)",
    )  # fmt: skip
    _password_args(user)
    user.set_defaults(run=_create_user)

    password = commands.add_parser(
        "set-password", help="set a user's dashboard password (ends their browser sessions)"
    )
    password.add_argument("name")
    _password_args(password, required=True)
    password.set_defaults(run=_set_password)

    restored = commands.add_parser(
        "mark-restored",
        help="after restoring the database from a backup: give it a new epoch, so that every "
        "gate sends its scans again and resyncs (entrix-restore runs it)",
    )
    restored.set_defaults(run=_mark_restored)

    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        result: int = args.run(args)
    except SQLAlchemyError as exc:
        print(f"gate-server: database error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        # The settings refused (a default secret outside development, a malformed value).
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        print(f"gate-server: settings refused: {problems}", file=sys.stderr)
        return 2
    except _PasswordRefused as exc:
        print(f"gate-server: {exc}", file=sys.stderr)
        return 2
    return result


def _migrate(_args: argparse.Namespace) -> int:
    from sync_server.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    print(f"database up to date: {_safe(url)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not args.no_migrate:
        _migrate(args)
    from sync_server.connections import IDLE_TIMEOUT_S, HeaderTimeoutProtocol, raise_file_limit

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    raise_file_limit()  # before the workers start: they inherit it
    uvicorn.run(
        "sync_server.api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        http=HeaderTimeoutProtocol,
        timeout_keep_alive=IDLE_TIMEOUT_S,
    )
    return 0


def _mark_restored(_args: argparse.Namespace) -> int:
    from sync_server.db import get_sessionmaker
    from sync_server.feed import new_epoch
    from sync_server.migrate import upgrade
    from sync_server.services import audit

    upgrade(get_settings().database_url)
    with get_sessionmaker()() as session:
        epoch = new_epoch(session)
        audit.record(session, actor="cli", action="server.restored", target="database",
                     detail={"epoch": epoch})  # fmt: skip
        session.commit()
    print(f"database marked as restored (epoch {epoch}): every gate will send its scans again")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from sync_server.db import get_sessionmaker
    from sync_server.errors import Conflict, Invalid
    from sync_server.migrate import upgrade
    from sync_server.services import audit, users

    upgrade(get_settings().database_url)
    password = _read_password(args)
    with get_sessionmaker()() as session:
        try:
            _, token = users.create_user(
                session, name=args.name, role=args.role, venues=args.venue, password=password
            )
        except (Conflict, Invalid) as exc:
            print(f"gate-server: {exc}", file=sys.stderr)
            return 2
        audit.record(
            session, actor="cli", action="user.create", target=args.name,
            detail={"role": args.role, "venues": sorted(args.venue)},
        )  # fmt: skip
        session.commit()
    print(f"user {args.name} ({args.role}) created. API token, shown only now:")
    print(token)
    return 0


def _password_args(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    how = parser.add_mutually_exclusive_group(required=required)
    how.add_argument(
        "--password", action="store_true", help="ask for a dashboard password (typed twice)"
    )
    how.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the dashboard password from the first line of standard input (scripts)",
    )


class _PasswordRefused(Exception):
    """The password given cannot be used (too short, or the two typings differ)."""


def _read_password(args: argparse.Namespace) -> str | None:
    """The password asked for on the command line, or None when none was asked for."""
    from sync_server.services.sessions import MIN_PASSWORD

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.password:
        import getpass

        password = getpass.getpass("dashboard password: ")
        if getpass.getpass("again: ") != password:
            raise _PasswordRefused("the two passwords differ")
    else:
        return None
    if len(password) < MIN_PASSWORD:
        raise _PasswordRefused(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def _set_password(args: argparse.Namespace) -> int:
    from sync_server.db import get_sessionmaker
    from sync_server.migrate import upgrade
    from sync_server.models import User
    from sync_server.services import audit, sessions

    upgrade(get_settings().database_url)
    password = _read_password(args)
    assert password is not None  # the option group is required
    with get_sessionmaker()() as session:
        user = session.scalar(select(User).where(User.name == args.name))
        if user is None:
            print(f"gate-server: no user {args.name!r}", file=sys.stderr)
            return 2
        sessions.set_password(session, user=user, password=password)
        audit.record(session, actor="cli", action="user.set_password", target=args.name)
        session.commit()
    print(f"dashboard password of {args.name} set; their browser sessions were ended")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
