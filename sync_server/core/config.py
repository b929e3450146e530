"""Server settings, from the environment (prefix ``ENTRIX_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_KEY_PASSPHRASE = "entrix-development-only"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTRIX_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///entrix-server.db"
    """SQLAlchemy URL: a SQLite file by default, ``postgresql+psycopg://...`` in production."""
    key_passphrase: str = DEV_KEY_PASSPHRASE
    """Encrypts the signing keys' private halves at rest (in the database)."""
    enrollment_code_ttl_s: int = 24 * 3600
    gate_silent_after_s: int = 60
    connections_per_address: int = 256
    """Connections one address may hold open at once (per server process); the reverse proxy's
    addresses (FORWARDED_ALLOW_IPS) are not counted."""
    streams_per_credential: int = 4
    """Event streams one device token, or one dashboard session, may hold open at once (per
    server process): a gate needs one, a supervisor a tab or two."""
    guess_limit_per_minute: int = 30
    """Failed enrollment codes and unknown tokens allowed per source address per minute (per
    server process); beyond, 429 until the minute ends."""
    gate_max_passages_per_minute: int = 60
    """One lane lets about one person through every 1.5 s: more granted scans than this in one
    minute at one gate are held in quarantine, not applied (``services.plausibility``)."""
    scan_order_tolerance_s: int = 120
    """A device's record dated more than this before an earlier record of it is held."""
    gate_clock_unverified_after_s: int = 6 * 3600
    """A gate back after this long without setting its clock against the server's raises an
    alert (it decided time windows on a clock nobody checked); its tile says so while it is
    away that long."""
    default_timezone: str = "UTC"
    """The IANA time zone (``Africa/Tunis``) a venue gets when it is created without one, and
    that upgrading gives the venues there already (migration 0009): set it before upgrading."""
    silent_check_interval_s: float = 10.0
    zone_alert_ratio: float = 0.95
    feed_page_max: int = 10_000
    feed_poll_interval_s: float = 0.2
    snapshot_dir: str = ""
    """Where the gates' ready replicas are kept (``sync_server.snapshots``; a cache, rebuilt
    when lost). Empty: a folder under the system's temporary directory."""
    holder_base_url: str = ""
    """Where holders' phones reach this server's holder pages (``https://tickets.example.tn``):
    the links given out start with it. Empty: the address the back office was called at."""
    wallet_issuer_id: str = ""
    """The Google Wallet issuer id of the organiser (from Google's Pay & Wallet console): the
    wallet export's object and class ids start with it. Empty: no wallet export."""
    """How often each server process looks for new changes to tell its gates' event streams."""

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.environment != "development" and self.key_passphrase == DEV_KEY_PASSPHRASE:
            raise ValueError(
                "ENTRIX_KEY_PASSPHRASE must be set to a secret of your own outside development"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
