"""Python SDK for the Tracore provider keys API."""
