"""Notifications: in-app messages per user and organization, live over WebSocket and by e-mail."""
