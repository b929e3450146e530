"""``gate-scanner hw-test``: check a turnstile's relay board and passage sensor on site.

For installers: it reads ``[relay]`` and ``[sensor]`` from the gate's TOML file, switches each
configured channel and reads the board back, then unlocks the entry once and watches the sensor.
Every step prints one plain line; the exit status is 0 (all good), 1 (a check failed, e.g. the
board stopped answering) or 2 (no board, or the configuration is wrong).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from hardware import (
    Clock,
    HardwareConfigError,
    HardwareError,
    PassageSensor,
    Relay,
    RelayDisconnected,
    RelayTimeout,
    SystemClock,
    TurnstileConfig,
    open_relay,
    open_sensor,
)

EXIT_OK, EXIT_FAILED, EXIT_NO_BOARD = 0, 1, 2
DEFAULT_WATCH_S = 5.0


def command(
    config_path: Path | None,
    *,
    default_path: Path,
    driver: str | None = None,
    port: str | None = None,
    watch_s: float = DEFAULT_WATCH_S,
) -> int:
    """What ``gate-scanner hw-test`` runs: read the settings, test, return the exit status."""
    path = config_path or default_path
    try:
        config = load_config(path, explicit=config_path is not None, driver=driver, port=port)
    except HardwareConfigError as exc:
        print(f"gate-scanner: {exc}", file=sys.stderr)
        return EXIT_NO_BOARD
    print(f"Entrix Gate hardware test, settings from {config.source}")
    return run(config, watch_s=watch_s)


def load_config(
    path: Path, *, explicit: bool, driver: str | None = None, port: str | None = None
) -> TurnstileConfig:
    """The turnstile settings from the gate's TOML, with ``--driver``/``--port`` on top.

    Without the file, ``--driver`` alone is enough (``--driver simulated`` works anywhere).
    """
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise HardwareConfigError(f"{path} is not valid TOML: {exc}") from exc
    elif explicit or driver is None:
        raise HardwareConfigError(
            f"no configuration at {path}: pass --config PATH, or --driver simulated to try "
            "the test without hardware"
        )
    relay = dict(_table(document, "relay", path))
    sensor = _table(document, "sensor", path)
    if driver is not None:
        relay["driver"] = driver
    if port is not None:
        relay["port"] = port
    if driver == "simulated":
        # The simulator replaces the whole turnstile: keep the timings, not the wiring.
        kept = {key: sensor[key] for key in ("window_s", "poll_ms") if key in sensor}
        sensor = {**kept, "driver": "simulated"}
    source = str(path) if path.exists() else "the command line"
    return TurnstileConfig.from_document(
        {"relay": relay, **({"sensor": sensor} if sensor else {})}, source
    )


def _table(document: Mapping[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, Mapping):
        raise HardwareConfigError(f"[{name}] in {path} must be a table")
    return table


def run(
    config: TurnstileConfig,
    *,
    watch_s: float = DEFAULT_WATCH_S,
    clock: Clock | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Test the board and the sensor, printing each step; return the exit status."""
    clock = clock or SystemClock()
    out = out or sys.stdout
    err = err or sys.stderr
    relay_config = config.relay
    roles = ", ".join(
        f"{role} = channel {channel}" for role, channel in relay_config.channels.items()
    )
    print(
        f"Relay: driver {relay_config.driver}, {roles}, pulse {relay_config.pulse_ms} ms", file=out
    )
    try:
        relay = open_relay(relay_config, clock=clock)
    except HardwareError as exc:
        print(f"  FAIL  cannot open the relay board: {exc}", file=out, flush=True)
        print(f"hw-test: FAILED: relay board missing or unusable: {exc}", file=err)
        return EXIT_NO_BOARD
    failures: list[str] = []
    try:
        print(f"  opened {relay.describe()}", file=out)
        for role, channel in relay_config.channels.items():
            failure, silent = _check_channel(relay, role, channel, relay_config.pulse_s, out)
            if failure:
                failures.append(failure)
            if silent:
                break  # a board that stopped answering is not worth asking again
        if config.sensor is not None:
            failures.extend(_check_sensor(config, relay, watch_s, clock, out))
        else:
            print(
                "Sensor: none configured (no [sensor] section): passages are not confirmed",
                file=out,
            )
    finally:
        relay.close()
    if failures:
        out.flush()
        print(f"hw-test: FAILED: {failures[0]}", file=err)
        return EXIT_FAILED
    print("hw-test: all checks passed", file=out)
    return EXIT_OK


def _check_channel(
    relay: Relay, role: str, channel: int, pulse_s: float, out: TextIO
) -> tuple[str | None, bool]:
    """Energise, release and pulse one channel, reading the board back after each step.

    Returns the failure (None if all went well) and whether the board stopped answering.
    """
    print(f"Channel {channel} ({role}):", file=out)
    steps: tuple[tuple[str, Callable[[], None], bool], ...] = (
        ("energise", lambda: relay.hold_open(channel), True),
        ("release", lambda: relay.release(channel), False),
        (f"pulse {pulse_s * 1000:.0f} ms", lambda: relay.pulse(channel, pulse_s), False),
    )
    for name, action, expected in steps:
        try:
            action()
            state = relay.state(channel)
        except HardwareError as exc:
            silent = isinstance(exc, RelayTimeout | RelayDisconnected)
            print(f"  FAIL  {name}: {exc}", file=out)
            return f"{role} channel {channel}: {exc}", silent
        said = "ON" if state else "OFF"
        if not relay.reads_back:
            print(
                f"  ok    {name}: sent (this board cannot report its state: listen for the click)",
                file=out,
            )
        elif state != expected:
            print(
                f"  FAIL  {name}: the board reports {said}, expected {'ON' if expected else 'OFF'}",
                file=out,
            )
            return f"{role} channel {channel}: {name} left the relay {said}", False
        else:
            print(f"  ok    {name}: the board reports {said}", file=out)
    return None, False


def _check_sensor(
    config: TurnstileConfig, relay: Relay, watch_s: float, clock: Clock, out: TextIO
) -> list[str]:
    """Open the sensor, unlock the entry once and report what the sensor sees for ``watch_s``."""
    assert config.sensor is not None
    try:
        sensor = open_sensor(config.sensor, relay=relay, clock=clock)
    except HardwareError as exc:
        print(f"Sensor: FAIL  cannot open it: {exc}", file=out)
        return [f"passage sensor: {exc}"]
    try:
        print(f"Sensor: {sensor.describe()}", file=out)
        return _watch(sensor, config, relay, watch_s, clock, out)
    finally:
        sensor.close()


def _watch(
    sensor: PassageSensor,
    config: TurnstileConfig,
    relay: Relay,
    watch_s: float,
    clock: Clock,
    out: TextIO,
) -> list[str]:
    """Print each change of the sensor and each passage (counted on edges), with its time."""
    assert config.sensor is not None
    poll_s = config.sensor.poll_ms / 1000
    try:
        active, baseline = sensor.poll()
    except HardwareError as exc:
        print(f"  FAIL  cannot read the sensor: {exc}", file=out)
        return [f"passage sensor: {exc}"]
    print(f"  now {'ACTIVE' if active else 'inactive'}", file=out)
    entry = config.relay.entry_channel
    try:
        relay.pulse(entry, config.relay.pulse_s)
        print(f"  entry unlocked: walk through now; watching for {watch_s:g} s", file=out)
    except HardwareError as exc:
        print(f"  could not unlock the entry ({exc}); trigger the sensor by hand", file=out)
    start = clock.monotonic()
    seen, ever_inactive, last = baseline, not active, active
    while True:
        try:
            active, count = sensor.poll()
        except HardwareError as exc:
            print(f"  FAIL  the sensor could not be read: {exc}", file=out)
            return [f"passage sensor: {exc}"]
        elapsed = clock.monotonic() - start
        notes = []
        if active != last:
            notes.append("ACTIVE" if active else "inactive")
            last = active
        if count > seen:
            notes.append(f"passage {count - baseline}")
            seen = count
        if notes:
            print(f"  {elapsed:5.2f} s  {'  '.join(notes)}", file=out)
        ever_inactive = ever_inactive or not active
        if elapsed >= watch_s:
            break
        clock.sleep(min(poll_s, watch_s - elapsed))
    passages = seen - baseline
    if not ever_inactive:
        print(
            "  FAIL  the sensor stayed ACTIVE the whole time: stuck, or wired the other way "
            "round (try the opposite active_low)",
            file=out,
        )
        return ["passage sensor stuck active"]
    if passages == 0:
        print(
            "  no passage seen: did someone walk through? if so, check the sensor wiring", file=out
        )
    else:
        print(f"  ok    {passages} passage(s) seen in {watch_s:g} s", file=out)
    return []
