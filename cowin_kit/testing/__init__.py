"""Test helpers for cowin-kit and for plugin authors.

Installed as a pytest plugin (entry point ``pytest11: cowin_kit``), so these fixtures are
available in any test suite of an environment where cowin-kit is installed:

``cowin_kit_country``   the profile the fixtures provision (override it; default "PE")
``cowin_kit_database_url``  a fresh, empty database for this test (SQLite file, or a new
                        PostgreSQL database when COWIN_KIT_TEST_DATABASE_URL is set)
``cowin_kit_instance``  a provisioned instance folder (demo data, an administrator)
``database``            its :class:`cowin_kit.db.Database`, isolated per test
``db_session``          a session on it, rolled back after the test
``app`` / ``client``    the Flask app for that instance and its test client
``cli_runner``          a click CliRunner; ``run_cli(*args)`` runs `cowin-kit …` in-process

Each test gets its own copy of a database provisioned once per test session, so tests
may commit freely and run concurrently against real connections.
"""

ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "test-admin-password-1"
