"""The audit trail: an append-only record of who did what to which object, and from where."""
