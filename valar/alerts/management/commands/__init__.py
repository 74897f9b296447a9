"""``manage.py check_alerts``."""
