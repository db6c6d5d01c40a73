"""Alembic migrations, run with `cowin-kit db upgrade` (see cowin_kit.migrate)."""
