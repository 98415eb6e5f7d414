"""Tracore provider keys: the domain. Nothing in this package knows about Flask requests."""
