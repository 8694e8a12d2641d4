"""Clustering heuristics: each turns canonical transactions into :class:`Link` evidence."""
