"""Live collection from nodes and indexers: block ranges and address-first walks.

Pure core (no Django): the loops here talk to the network through ``fundtrace.clients`` and
to storage through the ``CollectionStore`` protocol, so the same logic runs under the Django
command, in tests against real dev nodes, and in benchmarks.
"""
