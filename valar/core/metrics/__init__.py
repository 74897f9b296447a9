"""The metrics engine: every number of the product is one validated, cached GROUP BY.

Apps register their sources in their own ``metrics.py`` (:func:`register`); :func:`run`
validates a query spec, runs it as one SQL ``GROUP BY`` scoped to the organization, fills empty
buckets and returns a document ``{labels, series, totals, currency, query, generated_at}``,
cached under the organization's versions of the sources involved. :func:`run_for` does the
same for a member: under ``view: own`` only the rows they own are counted. :func:`figures`
answers current, uncached figures over any window of instants (alert rules).
"""

from valar.core.metrics.engine import MetricsError, figures, run, run_for
from valar.core.metrics.registry import Dimension, Source, get_source, register, sources

__all__ = [
    "Dimension",
    "MetricsError",
    "figures",
    "Source",
    "get_source",
    "register",
    "run",
    "run_for",
    "sources",
]
