# Shared by entrix-backup and entrix-restore (sourced, not run): where the database is.
# shellcheck shell=bash

# Read KEY=value lines of a systemd EnvironmentFile into the environment, without overriding
# variables already set (a plain `source` would run the file as shell: passwords may hold `$`).
load_env_file() {
    local file=$1 line key value
    [ -r "$file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in ''|'#'*|';'*) continue ;; esac
        key=${line%%=*}
        value=${line#*=}
        key=${key//[[:space:]]/}
        [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
            value=${BASH_REMATCH[1]}
        fi
        [ -n "${!key+set}" ] || export "$key=$value"
    done < "$file"
}

# The database's kind ("sqlite" or "postgresql") from an SQLAlchemy URL.
db_kind() {
    case "$1" in
        sqlite:*|sqlite+*) echo sqlite ;;
        postgresql:*|postgresql+*|postgres:*) echo postgresql ;;
        *) echo "unsupported database URL: $(redact "$1") (sqlite:/// or postgresql://)" >&2
           return 2 ;;
    esac
}

# The file of an SQLite URL: sqlite:///relative.db (to the current folder, as the server reads
# it) or sqlite:////absolute/path.db; any ?query is dropped.
sqlite_path() {
    local rest=${1#*:///}
    rest=${rest%%\?*}
    [ -n "$rest" ] || { echo "no file in SQLite URL $1" >&2; return 2; }
    case "$rest" in /*) echo "$rest" ;; *) echo "$PWD/$rest" ;; esac
}

# A libpq URL (what pg_dump takes) from an SQLAlchemy one: drop the +driver.
libpq_url() {
    local url=$1
    echo "postgresql://${url#*://}"
}

# The URL without its password, for messages.
redact() {
    sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<< "$1"
}
