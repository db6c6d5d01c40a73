"""Built-in ID providers, one module per country (``in_`` for India), plus passports."""
