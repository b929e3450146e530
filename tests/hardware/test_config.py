"""Reading ``[relay]`` and ``[sensor]``: every driver's example parses, mistakes are named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hardware.config import RelayConfig, SensorConfig, TurnstileConfig
from hardware.errors import HardwareConfigError

EXAMPLES = {
    "lcus": """
        [relay]
        driver = "lcus"
        port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
        board_channels = 4
        entry_channel = 1
        exit_channel = 2
        pulse_ms = 250
    """,
    "hid": """
        [relay]
        driver = "hid"
        serial = "QAAMZ"
        entry_channel = 1
        exit_channel = 2
    """,
    "modbus": """
        [relay]
        driver = "modbus"
        port = "/dev/ttyUSB0"
        unit = 3
        coil_base = 0
        board_channels = 8
        [sensor]
        driver = "modbus"
        port = "/dev/ttyUSB0"
        unit = 3
        input_address = 0
        window_s = 6
    """,
    "gpio": """
        [relay]
        driver = "gpio"
        pins = [17, 27]
        active_low = true
        exit_channel = 2
        [sensor]
        driver = "gpio"
        pin = 22
    """,
    "simulated": """
        [relay]
        driver = "simulated"
        exit_channel = 2
        [sensor]
        driver = "simulated"
        walk_s = 0.8
    """,
}


@pytest.mark.parametrize("driver", sorted(EXAMPLES))
def test_each_documented_example_parses(driver):
    config = TurnstileConfig.from_document(tomllib.loads(EXAMPLES[driver]))
    assert config.relay.driver == driver


def test_values_are_typed_as_the_drivers_need():
    config = TurnstileConfig.from_document(tomllib.loads(EXAMPLES["gpio"]))
    assert config.relay.pins == (17, 27)
    assert config.relay.channels == {"entry": 1, "exit": 2}
    assert config.relay.channel_count == 2
    assert config.sensor is not None
    assert config.sensor.active_low is True
    modbus = TurnstileConfig.from_document(tomllib.loads(EXAMPLES["modbus"]))
    assert modbus.sensor is not None
    assert modbus.sensor.window_s == 6.0
    assert isinstance(modbus.sensor.window_s, float)


def test_defaults_are_the_issue_s():
    relay = RelayConfig(driver="simulated")
    sensor = SensorConfig(driver="simulated")
    assert (relay.pulse_s, sensor.window_s, relay.entry_channel, relay.exit_channel) == (
        0.2,
        5.0,
        1,
        None,
    )


def test_the_board_size_defaults_to_the_highest_channel_used():
    assert RelayConfig(driver="lcus", port="/dev/x", exit_channel=3).channel_count == 3
    assert RelayConfig(driver="lcus", port="/dev/x", board_channels=8).channel_count == 8


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"driver": "lcus", "port": "/dev/x", "pulse_msec": 200}, "unknown setting.*pulse_msec"),
        ({"driver": "lcus", "port": "/dev/x", "pulse_ms": "200"}, "pulse_ms must be int"),
        ({"driver": "lcus", "port": "/dev/x", "entry_channel": True}, "entry_channel must be int"),
        ({"driver": "lcus"}, "needs port"),
        ({"driver": "gpio"}, "needs pins"),
        ({"driver": "x10"}, "not one of"),
        ({"port": "/dev/x"}, "needs driver"),
        ({"driver": "gpio", "pins": 17}, "must be a list"),
        ({"driver": "simulated", "entry_channel": 0}, "counts from 1"),
        ({"driver": "simulated", "exit_channel": 1}, "must differ"),
        ({"driver": "simulated", "pulse_ms": 60_000}, "pulse_ms must be 0 to 10000"),
    ],
)
def test_mistakes_are_refused_by_name(section, message):
    with pytest.raises(HardwareConfigError, match=message):
        RelayConfig.from_mapping(section)


def test_a_sensor_needs_its_pin_and_a_sane_window():
    with pytest.raises(HardwareConfigError, match="needs pin"):
        SensorConfig.from_mapping({"driver": "gpio"})
    with pytest.raises(HardwareConfigError, match="window_s"):
        SensorConfig.from_mapping({"driver": "simulated", "window_s": 0})


def test_no_relay_section_is_explained(tmp_path: Path):
    path = tmp_path / "gate.toml"
    path.write_text('[gate]\nname = "NORD-1"\n', encoding="utf-8")
    with pytest.raises(HardwareConfigError, match=r"no \[relay\] section in .*gate.toml"):
        TurnstileConfig.load(path)


def test_load_reads_the_gate_file_and_ignores_other_sections(tmp_path: Path):
    path = tmp_path / "gate.toml"
    path.write_text('[gate]\nname = "NORD-1"\n' + EXAMPLES["simulated"], encoding="utf-8")
    config = TurnstileConfig.load(path)
    assert config.sensor is not None
    assert config.sensor.walk_s == 0.8


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(HardwareConfigError, match="no configuration file"):
        TurnstileConfig.load(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[relay\n", encoding="utf-8")
    with pytest.raises(HardwareConfigError, match="not valid TOML"):
        TurnstileConfig.load(broken)


def test_every_example_in_the_hardware_doc_parses():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "hardware.md").read_text("utf-8")
    blocks = doc.split("```toml\n")[1:]
    drivers = set()
    for block in blocks:
        config = TurnstileConfig.from_document(tomllib.loads(block.split("```")[0]))
        drivers.add(config.relay.driver)
    assert drivers == {"lcus", "hid", "modbus", "gpio", "simulated"}
