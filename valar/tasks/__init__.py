"""Tasks: create, assign, track and complete work, per person and per team."""
