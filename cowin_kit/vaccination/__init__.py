"""Doses given to people (and, with the vaccinators' issue, adverse events)."""
