"""`cowin-kit serve`: the development server."""
from __future__ import annotations

import os

import click

from cowin_kit.cli.common import instance_option, load_instance, operator_gettext


@click.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show debug pages.")
@click.option("--no-worker", is_flag=True,
              help="Do not send the SMS outbox from this process (a `cowin-kit worker` "
                   "runs beside it).")
def serve(instance, host, port, debug, no_worker):
    """Run the development server, and the notification worker's loop in a background
    thread (SMS sent through the outbox, reminders), so this one command runs everything.
    For production use `cowin-kit web` and a separate `cowin-kit worker` (see
    docs/operators.md)."""
    from cowin_kit.cli.common import check_address, open_database, web_app

    settings = load_instance(instance)
    open_database(settings, web=True).dispose()  # refuses, with the reason, when it does not answer
    app = web_app(settings)
    check_address(host, port)
    gettext = operator_gettext()
    click.echo(gettext("Serving %(country)s on %(address)s (development server; use "
                       "`cowin-kit web` in production)") % {
        "country": app.extensions["cowin_kit"].profile.name,
        "address": f"http://{host}:{port}/"})
    # With --debug the reloader runs the app in a child process: the worker goes there.
    if not no_worker and (not debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true"):
        _start_worker(app.extensions["cowin_kit"])
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


def _start_worker(dep) -> None:
    """The notification worker's loop in a daemon thread (it ends with the server)."""
    import threading

    from cowin_kit.cli.worker_cmd import background_tasks, make_worker

    work = make_worker(dep)
    thread = threading.Thread(
        target=work.run_forever, args=(dep.settings["WORKER_POLL_SECONDS"],),
        kwargs={"every": background_tasks(dep)}, name="cowin-kit-worker", daemon=True)
    thread.start()
    gettext = operator_gettext()
    click.echo(gettext("Sending notifications from this process (--no-worker to leave it to "
                       "`cowin-kit worker`)"))
