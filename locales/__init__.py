"""Gettext catalogues shipped with cowin-kit (data only; see cowin_kit.paths)."""
