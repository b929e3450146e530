"""Turnstile relays and their controller. No Qt, no web: drivers only."""
