#!/bin/bash
# Wrap the kiosk's one-folder build (dist/gate-scanner/) in a Debian package:
#   /opt/entrix/gate-scanner/        the build; /usr/bin/gate-scanner and /opt/entrix/bin/gate-scanner
#   entrix-sync.service, the kiosk's user unit and session files, the udev rules, the templates
# The postinst creates the user entrix, /var/lib/entrix and /etc/entrix/gate.toml (if absent).
# The kiosk session is not switched on by the package: /opt/entrix/share/kiosk/setup-session.
#
#   build-deb.sh VERSION ONE_FOLDER_BUILD OUT_DIR
set -euo pipefail

version=$1
build=$2
out=$3
here=$(dirname "$(readlink -f "$0")")
packaging=$(dirname "$here")
root=$(dirname "$packaging")
arch=$(dpkg --print-architecture)
name=entrix-gate-kiosk
deb=$out/${name}_${version}_${arch}.deb
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

[ -x "$build/gate-scanner" ] || { echo "build-deb.sh: no one-folder build at $build" >&2; exit 2; }

install -d "$stage/DEBIAN" "$stage/opt/entrix/bin" "$stage/usr/bin" \
    "$stage/opt/entrix/share/kiosk" "$stage/opt/entrix/share/templates" \
    "$stage/opt/entrix/share/docs" "$stage/lib/systemd/system" "$stage/usr/lib/systemd/user" \
    "$stage/lib/udev/rules.d"
cp -a "$build" "$stage/opt/entrix/gate-scanner"
ln -s ../gate-scanner/gate-scanner "$stage/opt/entrix/bin/gate-scanner"
ln -s /opt/entrix/gate-scanner/gate-scanner "$stage/usr/bin/gate-scanner"
install -m 0644 "$packaging/systemd/entrix-sync.service" "$stage/lib/systemd/system/"
install -m 0644 "$packaging/systemd/user/entrix-kiosk.service" "$stage/usr/lib/systemd/user/"
install -m 0644 "$packaging/udev/70-entrix-gate.rules" "$stage/lib/udev/rules.d/"
install -m 0755 "$packaging/kiosk/kiosk-xsession" "$packaging/kiosk/setup-session" \
    "$stage/opt/entrix/share/kiosk/"
install -m 0644 "$packaging/kiosk/getty-autologin.conf" "$packaging/kiosk/bash_profile" \
    "$packaging/systemd/user/entrix-kiosk.service" "$stage/opt/entrix/share/kiosk/"
install -m 0644 "$packaging/templates/gate.toml" "$stage/opt/entrix/share/templates/"
install -m 0644 "$root/docs/deploy.md" "$root/docs/hardware.md" "$stage/opt/entrix/share/docs/"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: Entrix Gate developers <gates@entrix.invalid>
Section: misc
Priority: optional
Installed-Size: $size
Depends: adduser, libzbar0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libegl1, libgl1, libfontconfig1, libdbus-1-3
Recommends: xserver-xorg, xserver-xorg-legacy, xinit, x11-xserver-utils, matchbox-window-manager, fonts-dejavu-core, fonts-noto-core, libpulse0
Description: Entrix Gate terminal (gate-scanner, kiosk and headless sync)
 The gate side of Entrix Gate as one self-contained folder (PyInstaller):
 gate-scanner enroll, sync, check, hw-test and the full-screen kiosk (run).
 Decides locally on signed QR codes, drives the turnstile relay and syncs
 with the Entrix Gate server. See /opt/entrix/share/docs/deploy.md.
CONTROL
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    getent passwd entrix > /dev/null ||
        adduser --system --group --home /var/lib/entrix --no-create-home \
            --shell /usr/sbin/nologin --gecos "Entrix Gate services" entrix
    usermod -a -G dialout,plugdev entrix
    install -d -m 0750 -o root -g entrix /etc/entrix
    install -d -m 2770 -o entrix -g entrix /var/lib/entrix
    [ -e /etc/entrix/gate.toml ] ||
        install -m 0664 -o root -g entrix /opt/entrix/share/templates/gate.toml /etc/entrix/gate.toml
    if [ -d /run/udev ]; then udevadm control --reload-rules || true; fi
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
exit 0
POSTINST
cat > "$stage/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
# Configuration, the replica and the token stay (they are the site's); remove by hand:
# /etc/entrix /var/lib/entrix
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
POSTRM
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"
mkdir -p "$out"
dpkg-deb --root-owner-group --build -Zgzip -z6 "$stage" "$deb" > /dev/null
echo "   $(basename "$deb") $(du -h "$deb" | cut -f1)"
