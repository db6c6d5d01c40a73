"""Plugins shipped with the kit, registered through the same entry points as any other."""
