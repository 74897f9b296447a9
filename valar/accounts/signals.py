"""Signals the accounts app sends, so apps below it can react without being imported here."""

from django.dispatch import Signal

#: Sent when ``auth/register/`` creates a user (inside its transaction); ``user`` and ``data``
#: (the validated input, without the password) are given. The organizations app creates the
#: named organization.
user_registered = Signal()

#: Sent after a user changed their own password (``user`` is given); the audit trail records it.
password_changed = Signal()

#: Sent after a user set a new password with an e-mailed reset token (``user`` is given).
password_reset = Signal()

#: Sent after an API token was revoked by signing out with it (``user``, ``token``).
token_signed_out = Signal()
