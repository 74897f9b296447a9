"""The ops app keeps no tables of its own: health reads the database and cache directly."""
