"""Accounts: users, sign-in, sessions, API tokens, preferences and the login log."""
