"""Operations: health, demo data, and (later) metrics and job status."""
