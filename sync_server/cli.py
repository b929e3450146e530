"""``gate-server``: the sync server's command line (serve, migrate, create-user: to come)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gate-server",
        description="Entrix Gate sync server. Not available yet in this version: the gate works "
        "standalone with 'gate-scanner seed-demo' and 'gate-scanner check'.",
    )
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
