"""Finance: the income and expense ledger, categories, attachments and summaries."""
