"""Background jobs: the Job record, its API, and the platform's maintenance jobs."""
