"""Signals the accounts app sends, so apps below it can react without being imported here."""

from django.dispatch import Signal

#: Sent after ``auth/register/`` created a user; ``user`` and ``data`` (the validated input,
#: without the password) are given. The organizations app creates the named organization.
user_registered = Signal()
