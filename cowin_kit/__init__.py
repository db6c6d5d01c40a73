"""cowin-kit: a national vaccination platform as a kit."""

__version__ = "0.1.0"


def create_app(config=None):
    """Build the Flask application; see :func:`cowin_kit.app.create_app`."""
    # Imported here so `import cowin_kit` (and the CLI's root) stays cheap.
    from cowin_kit.app import create_app as _create_app

    return _create_app(config)
