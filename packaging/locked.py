"""Is this environment the lock? Compares what is installed with a lock export's pins.

    python packaging/locked.py requirements/dev.txt     # exit 0: every pin installed as locked

The lock is uv.lock, exported by ``make lock`` to requirements/dev.txt (every extra) and
requirements/site.txt (what a site installs). ``make package`` runs this before it builds, so a
one-folder kiosk is never made from packages the tests did not run; the test suite runs it on its
own virtualenv. Pins whose markers do not apply here (another Python, another platform) are left
out. Standard library and ``packaging`` only (or pip's own copy of it, in a site's virtualenv).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.utils import canonicalize_name
except ImportError:  # a site's virtualenv: no `packaging`, but pip carries its own copy
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(;(?P<marker>[^\\]+))?"
)


def pins(lock: Path) -> Iterator[tuple[str, str]]:
    """(canonical name, version) of each requirement of the export that applies here."""
    for line in lock.read_text(encoding="utf-8").splitlines():
        found = PIN.match(line)
        if not found:
            continue
        marker = found.group("marker")
        if marker and not Marker(marker.strip()).evaluate():
            continue
        yield canonicalize_name(found.group("name")), found.group("version")


def mismatches(lock: Path) -> list[str]:
    """Every locked package that is missing here or installed at another version."""
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    wrong = []
    for name, version in pins(lock):
        have = installed.get(name)
        if have != version:
            wrong.append(f"{name}: locked {version}, installed {have or 'nothing'}")
    return wrong


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    lock = Path(argv[0])
    wrong = mismatches(lock)
    for line in wrong:
        print(f"not as locked in {lock}: {line}", file=sys.stderr)
    if wrong:
        print("install from the lock: make venv (or pip install --require-hashes -r LOCK)",
              file=sys.stderr)  # fmt: skip
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
