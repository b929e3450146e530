"""PyInstaller's entry script for the gate's one-folder build: ``gate-scanner``'s ``main``."""

import sys

from scanner_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
