"""``gate.toml`` is read once and strictly: a wrong value is refused with its section and key,
never taken for another (issue 13: ``show_holder_name = "no"`` showed holder names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_app.config import ConfigError, TerminalConfig

GOOD = """
[gate]
server = "http://10.0.0.5:8000"
name = "NORD-1"

[sync]
poll_interval_s = 30

[kiosk]
show_holder_name = false
answer_s = 3

[camera]
source = "/dev/video0"
fps = 30

[scanning]
decoder = "pyzbar"

[wedge]
min_length = 8

[relay]
driver = "simulated"
exit_channel = 2

[sensor]
driver = "simulated"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_whole_with_its_turnstile(tmp_path: Path) -> None:
    config = TerminalConfig.load(write(tmp_path, GOOD))
    assert config.gate == "NORD-1" and config.sync.poll_interval_s == 30.0
    assert config.kiosk.show_holder_name is False and config.kiosk.answer_s == 3.0
    assert config.camera_settings().source == "/dev/video0"
    assert config.scan_settings().decoder == "pyzbar"
    assert config.wedge.min_length == 8
    assert config.turnstile is not None and config.turnstile.relay.exit_channel == 2
    assert config.turnstile.sensor is not None


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        ("kiosk", 'show_holder_name = "no"', r"\[kiosk\] show_holder_name must be true or false"),
        ("sync", 'poll_interval_s = "30"', r"\[sync\] poll_interval_s must be a number, not '30'"),
        ("kiosk", 'answer_s = "3"', r"\[kiosk\] answer_s must be a number, not '3'"),
        ("kiosk", "answer_s = 0.1", r"\[kiosk\] answer_s must be 0.5 to 60 s"),
        ("kiosk", "fulscreen = true", r"\[kiosk\] has unknown setting\(s\) fulscreen; known: "),
        ("sync", "upload_batch = 2.5", r"\[sync\] upload_batch must be int"),
        ("sync", "upload_batch = true", r"\[sync\] upload_batch must be int"),
        ("gate", "name = 7", r"\[gate\] name must be a string, in quotes, not 7"),
        ("gate", 'token = "egd_x"', r"\[gate\] has unknown setting\(s\) token"),
        ("camera", 'width = "1280"', r"\[camera\] width must be int"),
        ("camera", "focus = 3", r"\[camera\] has unknown setting\(s\) focus"),
        ("scanning", 'debounce_s = "2"', r"\[scanning\] debounce_s must be a number"),
        ("wedge", "min_length = [6]", r"\[wedge\] min_length must be int"),
        ("relay", 'pulse_ms = "200"', r"\[relay\] pulse_ms must be int"),
        ("sensor", "window_s = 0", r"\[sensor\] window_s must be 0 to 120 s"),
    ],
)
def test_each_kind_of_bad_value_is_refused_by_section_and_key(
    tmp_path: Path, section: str, line: str, message: str
) -> None:
    text = GOOD.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
    key = line.split(" = ")[0]
    # The key given twice would be a TOML error, not ours: drop the file's own line for it.
    text = "\n".join(
        row for row in text.splitlines() if not (row.startswith(f"{key} = ") and row != line)
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as refused:
        TerminalConfig.load(path)
    assert str(refused.value).startswith(str(path))


def test_an_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown section\(s\) \[kisok\]"):
        TerminalConfig.load(write(tmp_path, GOOD + '\n[kisok]\nlanguage = "ar"\n'))


def test_a_sensor_without_a_relay_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[sensor\] without \[relay\]"):
        TerminalConfig.load(write(tmp_path, '[sensor]\ndriver = "simulated"\n'))


def test_a_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[camera\] must be a table"):
        TerminalConfig.load(write(tmp_path, 'camera = "0"\n'))
