"""The bounds every input and report of the API stays within (documented in docs/api.md).

They exist so that no input can make the server fail or work without end: dates stay far from
the edges of the calendar (date arithmetic cannot overflow), JSON bodies cannot nest deeper
than the code that walks them, and a report never holds more cells than a client can use.
"""

import datetime

#: The earliest date the API accepts, in bodies and in query parameters.
MIN_DATE = datetime.date(1900, 1, 1)
#: The latest date the API accepts, in bodies and in query parameters.
MAX_DATE = datetime.date(2200, 12, 31)
#: How deep arrays and objects may nest in a JSON body (a document at the top is depth 1).
MAX_JSON_DEPTH = 32
#: The most cells (buckets x series) one report may hold.
MAX_REPORT_CELLS = 50_000


def date_range_message() -> str:
    """The message of a date outside the accepted range."""
    return f"Give a date from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}."
