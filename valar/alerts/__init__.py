"""Alert rules over the metrics engine's sources, their firings and the checker."""
