"""`cowin-kit serve`: the development server."""
from __future__ import annotations

import click

from cowin_kit.cli.common import Refused, instance_option, load_instance


@click.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show debug pages.")
def serve(instance, host, port, debug):
    """Run the development server. For production use gunicorn (see docs/operators.md)."""
    import socket

    from cowin_kit.app import create_app
    from cowin_kit.cli.common import open_database
    from cowin_kit.config import ConfigError
    from cowin_kit.profiles import ProfileError

    settings = load_instance(instance)
    open_database(settings).dispose()  # refuses, with the reason, when it does not answer
    try:
        app = create_app({"INSTANCE_PATH": settings.instance_path})
    except (ConfigError, ProfileError) as exc:
        raise Refused(str(exc)) from None
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Refused(f"cannot listen on {host}:{port}: {exc.strerror}; choose another "
                          "--port or --host.") from None
    click.echo(f"Serving {app.extensions['cowin_kit'].profile.name} on http://{host}:{port}/ "
               "(development server; use gunicorn in production)")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)
