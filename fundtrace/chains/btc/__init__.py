"""Bitcoin adapter: node, indexer and export records -> canonical ``fundtrace.core.model`` records.

Modules: ``network`` (address prefixes per network), ``script`` (script types, addresses),
``core_rpc`` (Bitcoin Core JSON-RPC), ``esplora`` (Esplora / mempool.space REST), ``etl``
(bitcoin-etl exports), ``shapes`` (recognize a record's format from its keys), ``resolve``
(fill input values the source left out). ``txbuild`` holds the rules all sources share so the
same transaction yields the same record whichever source it came from; ``fields`` reads
untrusted JSON with errors that name the field.
"""
