"""Shared layout, the home page and the health check."""
