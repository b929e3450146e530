#!/bin/bash
# Install Entrix Gate on Debian 12 from its wheel: the sync server, a headless gate, or a kiosk.
#
#   install.sh --role server|gate|kiosk [--wheel FILE] [--with-postgresql] [--no-apt] [--dry-run]
#
#   server  gate-server and gate-admin as entrix-server.service behind a reverse proxy, the
#           health check and nightly backup timers, /etc/entrix/server.env
#   gate    a terminal without a screen: entrix-sync.service, udev rules for the relay boards
#   kiosk   a gate with a screen: automatic login of entrix-kiosk on tty1 into a bare X session
#           running the kiosk full screen (entrix-kiosk.service, a systemd user unit)
#
# Run it as root from the unpacked installer (make package: dist/entrix-gate-<version>/) or from
# the repository after `make package`. Safe to run again (to upgrade): it never overwrites
# configuration in /etc/entrix. --dry-run prints what it would do and changes nothing.
# Walk-through: docs/deploy.md.
set -euo pipefail

PREFIX=/opt/entrix
VENV=$PREFIX/venv
ETC=/etc/entrix
STATE=/var/lib/entrix
BACKUPS=/var/backups/entrix
UNIT_DIR=/usr/local/lib/systemd/system
UDEV_RULES=/etc/udev/rules.d/70-entrix-gate.rules
SERVICE_USER=entrix
KIOSK_USER=entrix-kiosk

here=$(dirname "$(readlink -f "$0")")
role=""
wheel=""
dry_run=""
apt=1
with_postgresql=""

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --role) role=${2:-}; shift 2 ;;
        --role=*) role=${1#--role=}; shift ;;
        --wheel) wheel=${2:-}; shift 2 ;;
        --with-postgresql) with_postgresql=1; shift ;;
        --no-apt) apt=""; shift ;;
        --dry-run|-n) dry_run=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (--help)" ;;
    esac
done
case "$role" in
    server|gate|kiosk) ;;
    "") die "say which machine this is: --role server|gate|kiosk (--help)" ;;
    *) die "--role must be server, gate or kiosk, not '$role'" ;;
esac
[ -z "$with_postgresql" ] || [ "$role" = server ] || die "--with-postgresql is for --role server"
if [ -z "$dry_run" ] && [ "$(id -u)" != 0 ]; then
    die "run me as root (sudo $0 --role $role), or with --dry-run to see what I would do"
fi

# The packaging files sit beside this script: in the repository (packaging/) or in the unpacked
# installer. The wheel: --wheel, else wheels/ beside the script, else the repository's dist/.
if [ -z "$wheel" ]; then
    for candidate in "$here"/wheels/entrix_gate-*.whl "$here"/../dist/entrix_gate-*.whl; do
        [ -f "$candidate" ] && wheel=$candidate
    done
fi
[ -n "$wheel" ] || die "no wheel: build one with 'make package', or pass --wheel FILE"
[ -f "$wheel" ] || die "no wheel at $wheel"
wheel=$(readlink -f "$wheel")
# The lock: every dependency at the version the project was tested with, each file's hash checked.
# requirements.txt in the unpacked installer, requirements/site.txt in the repository.
lock=""
for candidate in "$here"/requirements.txt "$here"/../requirements/site.txt; do
    [ -f "$candidate" ] && { lock=$(readlink -f "$candidate"); break; }
done
[ -n "$lock" ] || die "no lock file (requirements.txt) beside me: use the installer from 'make package'"
docs=$here/docs
[ -d "$docs" ] || docs=$here/../docs

# --- how each step runs: for real, or printed -----------------------------------------------

run() {
    if [ -n "$dry_run" ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
    else
        "$@"
    fi
}

# Install a file (mode, owner) unless it exists: configuration is the site's, never ours.
install_config() {
    local source=$1 target=$2 mode=$3 owner=$4
    if [ -e "$target" ]; then
        echo "keep $target (exists; the new template is $PREFIX/share/templates/$(basename "$source"))"
    else
        run install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$source" "$target"
    fi
}

step() { printf '\n== %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------

packages=(python3 python3-venv python3-pip ca-certificates curl sqlite3)
case "$role" in
    server)
        # Pango lays out the authorities' report as a PDF (WeasyPrint); fonts for French and
        # Arabic in it.
        packages+=(postgresql-client libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
            fonts-noto-core)
        [ -z "$with_postgresql" ] || packages+=(postgresql)
        ;;
    gate)
        packages+=(libzbar0)
        ;;
    kiosk)
        # X without a desktop, a kiosk window manager, fonts for French and Arabic, and the
        # libraries Qt's xcb platform plugin loads.
        packages+=(libzbar0 xserver-xorg xserver-xorg-legacy xinit x11-xserver-utils
            matchbox-window-manager fonts-dejavu-core fonts-noto-core
            libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
            libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
            libegl1 libgl1 libfontconfig1 libdbus-1-3 libpulse0)
        ;;
esac

echo "Entrix Gate installer: role $role, wheel $(basename "$wheel")${dry_run:+ (dry run: nothing changes)}"
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
        echo "warning: made for Debian 12; this is ${PRETTY_NAME:-unknown}" >&2
    fi
fi

if [ -n "$apt" ]; then
    step "Debian packages"
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}"
fi

# --- users -----------------------------------------------------------------------------------

step "users"
if ! getent passwd "$SERVICE_USER" > /dev/null; then
    run adduser --system --group --home "$STATE" --no-create-home --shell /usr/sbin/nologin \
        --gecos "Entrix Gate services" "$SERVICE_USER"
else
    echo "user $SERVICE_USER exists"
fi
hardware_groups=(dialout plugdev)
getent group gpio > /dev/null && hardware_groups+=(gpio)
if [ "$role" = gate ]; then
    # Headless gates run hw-test (and future relay work) as the service user.
    run usermod -a -G "$(IFS=,; echo "${hardware_groups[*]}")" "$SERVICE_USER"
fi
# --- the program -----------------------------------------------------------------------------

step "program in $VENV"
[ -x "$VENV/bin/python" ] || run python3 -m venv "$VENV"
# Every role gets the same tested set (server, gate, kiosk, relay boards, PostgreSQL driver), from
# the lock: pip refuses a file whose hash differs and any package the lock does not name. The
# wheel goes in last, without dependencies of its own.
run "$VENV/bin/pip" install --quiet --require-hashes -r "$lock"
run "$VENV/bin/pip" install --quiet --no-deps --force-reinstall "$wheel"
run "$VENV/bin/pip" check
run install -d -m 0755 "$PREFIX/bin" "$PREFIX/share" "$PREFIX/share/templates" \
    "$PREFIX/share/kiosk" "$PREFIX/share/docs"
for command in gate-scanner gate-server gate-admin; do
    run ln -sfn "$VENV/bin/$command" "$PREFIX/bin/$command"
    run ln -sfn "$PREFIX/bin/$command" "/usr/local/bin/$command"
done
for script in entrix-backup entrix-restore entrix-healthcheck; do
    run install -m 0755 "$here/bin/$script" "$PREFIX/bin/$script"
    run ln -sfn "$PREFIX/bin/$script" "/usr/local/sbin/$script"
done
run install -m 0644 "$here/bin/entrix-db-common.sh" "$PREFIX/bin/entrix-db-common.sh"
run install -m 0644 "$here/templates/gate.toml" "$here/templates/server.env" \
    "$PREFIX/share/templates/"
run install -m 0755 "$here/kiosk/kiosk-xsession" "$here/kiosk/setup-session" "$PREFIX/share/kiosk/"
run install -m 0644 "$here/kiosk/getty-autologin.conf" "$here/kiosk/bash_profile" \
    "$here/systemd/user/entrix-kiosk.service" "$PREFIX/share/kiosk/"
for doc in deploy.md hardware.md; do
    [ ! -f "$docs/$doc" ] || run install -m 0644 "$docs/$doc" "$PREFIX/share/docs/$doc"
done

# --- configuration and state -----------------------------------------------------------------

step "configuration in $ETC, state in $STATE"
run install -d -m 0750 -o root -g "$SERVICE_USER" "$ETC"
run install -d -m 2770 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE"
case "$role" in
    server)
        if [ ! -e "$ETC/server.env" ]; then
            # A random passphrase for the signing keys: the template's placeholder never runs.
            passphrase=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
            if [ -n "$dry_run" ]; then
                echo "+ install -m 0640 -o root -g $SERVICE_USER $here/templates/server.env $ETC/server.env  (with a random ENTRIX_KEY_PASSPHRASE)"
            else
                sed "s|^ENTRIX_KEY_PASSPHRASE=.*|ENTRIX_KEY_PASSPHRASE=$passphrase|" \
                    "$here/templates/server.env" > "$ETC/server.env.new"
                if [ -n "$with_postgresql" ]; then
                    sed -i "s|^ENTRIX_DATABASE_URL=.*|ENTRIX_DATABASE_URL=postgresql+psycopg://$SERVICE_USER@/entrix|" \
                        "$ETC/server.env.new"
                fi
                chown "root:$SERVICE_USER" "$ETC/server.env.new"
                chmod 0640 "$ETC/server.env.new"
                mv "$ETC/server.env.new" "$ETC/server.env"
                echo "wrote $ETC/server.env with a random ENTRIX_KEY_PASSPHRASE: copy it somewhere safe"
            fi
        else
            echo "keep $ETC/server.env (exists)"
        fi
        run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$BACKUPS"
        ;;
    gate|kiosk)
        # Group-writable: gate-scanner enroll, run as the service's user, rewrites it.
        install_config "$here/templates/gate.toml" "$ETC/gate.toml" 0664 "root:$SERVICE_USER"
        ;;
esac

if [ -n "$with_postgresql" ]; then
    step "PostgreSQL: role and database entrix (peer authentication)"
    if [ -n "$dry_run" ] || ! runuser -u postgres -- psql -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname = '$SERVICE_USER'" | grep -q 1; then
        run runuser -u postgres -- createuser "$SERVICE_USER"
    fi
    if [ -n "$dry_run" ] || ! runuser -u postgres -- psql -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'entrix'" | grep -q 1; then
        run runuser -u postgres -- createdb --owner "$SERVICE_USER" entrix
    fi
fi

# --- systemd, udev, the kiosk session --------------------------------------------------------

step "services"
run install -d -m 0755 "$UNIT_DIR"
case "$role" in
    server)
        units=(entrix-server.service entrix-server-healthcheck.service
            entrix-server-healthcheck.timer entrix-backup.service entrix-backup.timer)
        enable=(entrix-server.service entrix-server-healthcheck.timer entrix-backup.timer)
        ;;
    gate)
        units=(entrix-sync.service)
        enable=(entrix-sync.service)
        ;;
    kiosk)
        units=()
        enable=()
        ;;
esac
for unit in "${units[@]}"; do
    run install -m 0644 "$here/systemd/$unit" "$UNIT_DIR/$unit"
done

if [ "$role" != server ]; then
    run install -m 0644 "$here/udev/70-entrix-gate.rules" "$UDEV_RULES"
    if [ -n "$dry_run" ] || [ -d /run/udev ]; then
        run udevadm control --reload-rules
        run udevadm trigger --subsystem-match=tty --subsystem-match=hidraw --subsystem-match=usb
    fi
fi

if [ "$role" = kiosk ]; then
    step "kiosk session: $KIOSK_USER logs in on tty1, startx, the kiosk full screen"
    if [ -n "$dry_run" ]; then
        "$here/kiosk/setup-session" --dry-run
    else
        "$PREFIX/share/kiosk/setup-session"
    fi
fi

if [ -n "$dry_run" ] || [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
    [ ${#enable[@]} -eq 0 ] || run systemctl enable "${enable[@]}"
else
    echo "systemd is not running here: enable the units at the next boot (systemctl enable ...)"
fi

# --- what is left to do by hand ---------------------------------------------------------------

step "next steps (docs/deploy.md)"
case "$role" in
    server)
        cat <<EOF
1. Check $ETC/server.env (database URL, public URL); keep a copy of ENTRIX_KEY_PASSPHRASE safe.
2. systemctl start entrix-server entrix-server-healthcheck.timer entrix-backup.timer
   (the server migrates the database first; journalctl -u entrix-server shows it)
3. The first admin, with the service's own user and settings:
   systemd-run --pty --quiet --uid=$SERVICE_USER --gid=$SERVICE_USER \\
       -p EnvironmentFile=$ETC/server.env -p WorkingDirectory=$STATE \\
       $PREFIX/bin/gate-server create-user alice --role admin --password
4. Put nginx or Caddy in front for TLS (docs/deploy.md has the configuration).
EOF
        ;;
    gate)
        cat <<EOF
1. sudo -u $SERVICE_USER gate-scanner enroll --server https://SERVER --code CODE --config $ETC/gate.toml
2. Set [relay] (and [sensor]) in $ETC/gate.toml, then: sudo -u $SERVICE_USER gate-scanner hw-test --config $ETC/gate.toml
3. systemctl start entrix-sync
EOF
        ;;
    kiosk)
        cat <<EOF
1. sudo -u $KIOSK_USER gate-scanner enroll --server https://SERVER --code CODE --config $ETC/gate.toml
2. Set [relay] (and [sensor], [camera], [kiosk]) in $ETC/gate.toml, then:
   sudo -u $KIOSK_USER gate-scanner hw-test --config $ETC/gate.toml
3. Reboot: $KIOSK_USER logs in on tty1 and the kiosk opens full screen.
EOF
        ;;
esac
