"""Notifications: one adapter per platform behind a small protocol, and the notifier loop."""
