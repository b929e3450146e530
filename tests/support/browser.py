"""Debian's Chromium driven by Playwright (headless), for the dashboard's tests: launching it
with no outside lookups, and signing a supervisor in through the real form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-quic",
    "--disable-gpu",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make system-deps)"
)
PASSWORD_LABELS = {"en": ("Name", "Password", "Sign in"), "fr": ("Nom", "Mot de passe",
                   "Se connecter"), "ar": ("الاسم", "كلمة المرور", "دخول")}  # fmt: skip
LIVE = {"en": "● Live", "fr": "● En direct", "ar": "● مباشر"}


def sign_in(
    browser: Browser,
    base_url: str,
    name: str,
    password: str,
    *,
    locale: str = "en-US",
    **context: Any,
) -> Page:
    """A fresh browser context (its language from ``locale``, as a browser's is), signed in
    through the form, its live stream connected."""
    context.setdefault("viewport", {"width": 1440, "height": 1000})
    page = browser.new_context(locale=locale, **context).new_page()
    page.goto(f"{base_url}/dashboard")
    expect(page).to_have_url(f"{base_url}/dashboard/login")
    label_name, label_password, button = PASSWORD_LABELS[locale[:2]]
    page.get_by_label(label_name).fill(name)
    page.get_by_label(label_password).fill(password)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(f"{base_url}/dashboard")
    expect(page.locator("#conn")).to_have_text(LIVE[page_language(page)], timeout=5_000)
    return page


def page_language(page: Page) -> str:
    return str(page.locator("html").get_attribute("lang"))
