"""Beneficiaries and the ID documents they register with."""
