"""``gate-scanner hw-test``: what an installer sees, on the simulator and on a pty LCUS board."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from hardware.clock import FakeClock
from hardware.config import RelayConfig, SensorConfig, TurnstileConfig
from scanner_app import hwtest
from scanner_app.cli import main


def gate_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text('[gate]\nname = "NORD-1"\n' + body, encoding="utf-8")
    return path


SIMULATED = """
[relay]
driver = "simulated"
exit_channel = 2
pulse_ms = 20
[sensor]
driver = "simulated"
walk_s = 0.05
"""


def test_the_simulator_passes_every_check(tmp_path, capsys):
    path = gate_file(tmp_path, SIMULATED)
    assert main(["hw-test", "--config", str(path), "--watch-s", "0.5"]) == 0
    out = capsys.readouterr().out
    assert f"settings from {path}" in out
    for channel, role in ((1, "entry"), (2, "exit")):
        assert f"Channel {channel} ({role}):" in out
    assert out.count("ok    energise: the board reports ON") == 2
    assert out.count("ok    pulse 20 ms: the board reports OFF") == 2
    assert "passage 1" in out
    assert "passage 2" not in out  # the channel checks send nobody through
    assert out.rstrip().endswith("hw-test: all checks passed")


def test_driver_simulated_works_without_any_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENTRIX_GATE_CONFIG", raising=False)
    assert main(["hw-test", "--driver", "simulated", "--watch-s", "0.1"]) == 0
    assert "settings from the command line" in capsys.readouterr().out


def test_driver_simulated_overrides_a_real_board_in_the_file(tmp_path, capsys):
    path = gate_file(tmp_path, '[relay]\ndriver = "lcus"\nport = "/dev/ttyNOPE9"\n')
    code = main(["hw-test", "--config", str(path), "--driver", "simulated", "--watch-s", "0.1"])
    assert code == 0
    assert "simulated relay board" in capsys.readouterr().out


def test_a_missing_board_exits_2_with_the_reason(tmp_path, capsys):
    path = gate_file(tmp_path, '[relay]\ndriver = "lcus"\nport = "/dev/ttyNOPE9"\n')
    assert main(["hw-test", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert "no relay board at /dev/ttyNOPE9: is it plugged in?" in captured.out
    assert "hw-test: FAILED: relay board missing" in captured.err


def test_a_board_that_does_not_answer_exits_1_and_stops_asking(tmp_path, capsys):
    path = gate_file(
        tmp_path, '[relay]\ndriver = "simulated"\nexit_channel = 2\nsimulate_fault = "timeout"\n'
    )
    assert main(["hw-test", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert "FAIL  energise: the simulated relay board does not answer" in captured.out
    assert "Channel 2" not in captured.out
    assert "hw-test: FAILED: entry channel 1" in captured.err


def test_no_file_and_no_driver_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENTRIX_GATE_CONFIG", raising=False)
    assert main(["hw-test"]) == 2
    assert "--driver simulated" in capsys.readouterr().err


def test_an_explicit_file_that_is_missing_is_an_error(tmp_path, capsys):
    assert main(["hw-test", "--config", str(tmp_path / "nope.toml"), "--driver", "lcus"]) == 2
    assert "no configuration at" in capsys.readouterr().err


def test_a_typo_in_the_file_is_named(tmp_path, capsys):
    path = gate_file(tmp_path, '[relay]\ndriver = "simulated"\npulse_msec = 200\n')
    assert main(["hw-test", "--config", str(path)]) == 2
    assert "unknown setting(s) pulse_msec" in capsys.readouterr().err


def test_an_lcus_board_gets_exactly_the_test_s_bytes(tmp_path, lcus_board, capsys):
    board = lcus_board(2)
    path = gate_file(
        tmp_path,
        f'[relay]\ndriver = "lcus"\nport = "{board.path}"\nexit_channel = 2\npulse_ms = 20\n',
    )
    assert main(["hw-test", "--config", str(path)]) == 0
    per_channel = "A0 0{c} 01 A{on} FF A0 0{c} 00 A{off} FF A0 0{c} 01 A{on} A0 0{c} 00 A{off} FF"
    expected = b"".join(bytes.fromhex(per_channel.format(c=c, on=c + 1, off=c)) for c in (1, 2))
    assert board.wait_for(len(expected)) == expected
    out = capsys.readouterr().out
    assert "opened LCUS relay board on" in out
    assert "Sensor: none configured" in out


def test_an_lcus_board_that_never_answers_exits_1(tmp_path, lcus_board, capsys):
    board = lcus_board(2, answers_status=False)
    path = gate_file(
        tmp_path,
        f'[relay]\ndriver = "lcus"\nport = "{board.path}"\nexit_channel = 2\ntimeout_s = 0.2\n',
    )
    assert main(["hw-test", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert "did not answer the status query (FF)" in captured.out
    assert "Channel 2" not in captured.out
    board.wait_for(5)  # the frame and the one query, for the board's own byte check


def run_with_fake_clock(config: TurnstileConfig, watch_s: float = 3.0) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = hwtest.run(config, watch_s=watch_s, clock=FakeClock(), out=out, err=err)
    return code, out.getvalue() + err.getvalue()


def test_the_watch_reports_each_change_at_its_time():
    config = TurnstileConfig(
        RelayConfig(driver="simulated"), SensorConfig(driver="simulated", walk_s=1.0)
    )
    code, text = run_with_fake_clock(config)
    assert code == 0
    # Someone walks 1 s after the unlock, which the 0.2 s pulse precedes; polled every 20 ms.
    entered = re.search(r"(\d+\.\d\d) s  ACTIVE  passage 1\n", text)
    left = re.search(r"(\d+\.\d\d) s  inactive\n", text)
    assert entered is not None
    assert left is not None
    assert float(entered[1]) == pytest.approx(0.8, abs=0.021)
    assert float(left[1]) == pytest.approx(1.2, abs=0.021)
    assert "ok    1 passage(s) seen in 3 s" in text


def test_nobody_walking_through_is_said_but_not_a_failure():
    config = TurnstileConfig(
        RelayConfig(driver="simulated"), SensorConfig(driver="simulated", nobody=True)
    )
    code, text = run_with_fake_clock(config)
    assert code == 0
    assert "no passage seen" in text


def test_a_stuck_sensor_fails():
    config = TurnstileConfig(
        RelayConfig(driver="simulated"), SensorConfig(driver="simulated", stuck=True)
    )
    code, text = run_with_fake_clock(config)
    assert code == 1
    assert "stayed ACTIVE the whole time" in text


@pytest.mark.parametrize("fault", ["missing", "error"])
def test_simulated_faults_fail(fault):
    code, text = run_with_fake_clock(
        TurnstileConfig(RelayConfig(driver="simulated", simulate_fault=fault))
    )
    assert code == {"missing": 2, "error": 1}[fault]
    assert "FAIL" in text
