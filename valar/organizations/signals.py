"""Signals the organizations app sends, so apps below it react without being imported here."""

from django.dispatch import Signal

#: Sent after an organization's settings changed; ``organization`` and ``changed`` (the names
#: of the settings that changed, e.g. ``lead_scoring_weights``) are given.
organization_settings_changed = Signal()
