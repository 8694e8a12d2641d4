"""Network clients for live collection: nodes and indexers, returning their raw JSON.

``http`` is the one HTTP/JSON-RPC layer (retries, pacing, redaction) the chain modules
``bitcoin``, ``ethereum`` and ``solana`` build on; chain parsers map the JSON they return.
``nodes`` starts disposable dev nodes (anvil, litecoind -regtest) for round-trip tests.
"""
