#!/bin/bash
# Build what a site installs (make package), into dist/:
#   entrix_gate-<version>-py3-none-any.whl   the project's wheel (server, gate, kiosk)
#   gate-scanner/                           the kiosk's one-folder build (PyInstaller)
#   entrix-gate-<version>/ and .tar.gz      the installer: install.sh, units, templates, wheel and
#                                           the lock its dependencies come from (requirements.txt)
#   entrix-gate-kiosk_<version>_<arch>.deb  the one-folder build as a Debian package
#
#   packaging/build.sh [PYTHON]   PYTHON: the virtualenv's python with pyinstaller (.venv/bin/python)
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
python=${1:-$root/.venv/bin/python}
cd "$root"
version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
dist=$root/dist
mkdir -p "$dist"
seconds() { date +%s; }
took() { echo "   ($(($(seconds) - $1)) s)"; }

echo "== the build environment is the lock (requirements/dev.txt)"
"$python" packaging/locked.py requirements/dev.txt
echo "   $(grep -c '==' requirements/dev.txt) pins, PySide6 $("$python" -c 'import PySide6; print(PySide6.__version__)')"

echo "== wheel"
start=$(seconds)
rm -f "$dist"/entrix_gate-*.whl
# No build isolation: the virtualenv's setuptools builds it, with no download.
mkdir -p build
"$python" -m pip wheel --no-deps --no-build-isolation --wheel-dir "$dist" . > build/wheel.log 2>&1 ||
    { cat build/wheel.log; exit 1; }
wheel=$(ls "$dist"/entrix_gate-"$version"-*.whl)
echo "   $(basename "$wheel") $(du -h "$wheel" | cut -f1)"
took "$start"

echo "== one-folder build dist/gate-scanner/ (PyInstaller)"
start=$(seconds)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$root/build/pyinstaller" \
    packaging/pyinstaller/gate-scanner.spec
if [ -d scanner_app/ui ] && [ -d "$dist/gate-scanner/_internal/PySide6" ]; then
    echo "   with the kiosk UI (PySide6)"
else
    echo "   WITHOUT the kiosk UI: scanner_app/ui or PySide6 missing; the CLI works, 'run' does not"
fi
echo "   $(du -sh "$dist/gate-scanner" | cut -f1) in $(find "$dist/gate-scanner" -type f | wc -l) files"
took "$start"

echo "== installer dist/entrix-gate-$version.tar.gz"
start=$(seconds)
bundle=$dist/entrix-gate-$version
rm -rf "$bundle"
mkdir -p "$bundle/wheels" "$bundle/docs"
cp -a packaging/install.sh packaging/bin packaging/systemd packaging/kiosk packaging/udev \
    packaging/templates "$bundle/"
cp docs/deploy.md docs/hardware.md "$bundle/docs/"
cp "$wheel" "$bundle/wheels/"
cp requirements/site.txt "$bundle/requirements.txt"
tar -C "$dist" -czf "$bundle.tar.gz" "entrix-gate-$version"
echo "   $(du -h "$bundle.tar.gz" | cut -f1)"
took "$start"

echo "== Debian package of the one-folder build"
start=$(seconds)
packaging/deb/build-deb.sh "$version" "$dist/gate-scanner" "$dist"
took "$start"
