"""Reporting: the dose rollups (models, rollups), the figures read from them (queries), the
public dashboard, officials' reports and the open data built on those figures."""
