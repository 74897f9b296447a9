"""Insights: company figures, team leaderboards, and dashboards saved as documents."""
