"""Tests of alert rules: definitions, firing state, delivery, endpoints, the command."""
