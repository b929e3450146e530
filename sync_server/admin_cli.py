"""``gate-admin``: the back office's client of the sync server API (coming with the server)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gate-admin",
        description="Entrix Gate back-office client. Not available yet in this version: it needs "
        "the sync server.",
    )
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
