"""From files of raw node / indexer responses and ETL exports to canonical ``Batch`` records."""
