"""Django's SQLite backend with SQLite's real limit of parameters per statement."""
