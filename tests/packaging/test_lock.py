"""Installs come from the lock: uv.lock, exported to requirements/ (issue 12).

`make lock-check` (part of `make test`) holds uv.lock to pyproject.toml and the exports to
uv.lock; these tests hold the virtualenv to the export and the site's set to the tested one.
"""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "requirements" / "dev.txt"
SITE = ROOT / "requirements" / "site.txt"
locked: dict[str, Any] = runpy.run_path(str(ROOT / "packaging" / "locked.py"))


def lock_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {canonicalize_name(p["name"]): p["version"] for p in lock["package"]}


def test_this_virtualenv_is_the_lock() -> None:
    assert locked["mismatches"](DEV) == []


def test_the_lock_holds_one_version_of_each_package_for_every_python() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    names = [canonicalize_name(p["name"]) for p in lock["package"]]
    assert len(names) == len(set(names)), "a package forks by Python version: see fork-strategy"


def test_the_exports_pin_what_uv_lock_pins_with_hashes() -> None:
    versions = lock_versions()
    for export in (DEV, SITE):
        text = export.read_text(encoding="utf-8")
        pins = dict(locked["pins"](export))
        assert pins, export
        for name, version in pins.items():
            assert versions[name] == version, f"{export.name}: {name}"
        # every requirement line carries at least one hash (pip --require-hashes needs them)
        blocks = [b for b in text.split("\n") if "==" in b and not b.startswith("#")]
        assert text.count("--hash=sha256:") >= len(blocks)


def test_a_site_runs_a_subset_of_what_the_tests_ran() -> None:
    dev = dict(locked["pins"](DEV))
    site = dict(locked["pins"](SITE))
    assert set(site) <= set(dev)
    assert {name: dev[name] for name in site} == site
    for tool in ("pytest", "mypy", "uv", "pyinstaller", "playwright"):
        assert tool not in site, f"{tool} is a development tool, not for a site"


def test_every_runtime_dependency_and_extra_is_in_the_site_set() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in ("hardware", "postgres"):
        wanted += project["optional-dependencies"][extra]
    site = dict(locked["pins"](SITE))
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in site, f"{name} is a dependency but not in requirements/site.txt"
        assert requirement.specifier.contains(site[name]), f"{name} {site[name]} vs {requirement}"


def test_the_lock_pins_a_pyside6_that_keeps_the_kiosk_alive_on_python_3_11() -> None:
    """6.12.0 aborts the kiosk within minutes on 3.11; test_bindings.py is the real guard."""
    versions = lock_versions()
    assert versions["pyside6-essentials"] == versions["pyside6-addons"] == versions["shiboken6"]
    assert versions["pyside6-essentials"] != "6.12.0"
