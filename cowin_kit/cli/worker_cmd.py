"""`cowin-kit worker` (sends the SMS outbox, queues reminders) and `cowin-kit
notifications status|remind` (what operators look at, and the reminder scan by hand)."""
from __future__ import annotations

import click

from cowin_kit.cli.common import Refused, db_errors_refused, instance_option, load_instance


def _app(instance):
    """The worker's app: its primary is reached directly (DATABASE_DIRECT_URL behind
    PgBouncer in transaction mode), since the reminder scan holds a session-level advisory
    lock for the whole scan."""
    from cowin_kit.app import create_app
    from cowin_kit.cli.common import command_name
    from cowin_kit.config import ConfigError
    from cowin_kit.profiles import ProfileError

    settings = load_instance(instance)
    try:
        return create_app({"INSTANCE_PATH": settings.instance_path,
                           "DIRECT_DATABASE": command_name()})
    except (ConfigError, ProfileError) as exc:
        raise Refused(str(exc)) from None


def reminder_task(dep):
    """The reminder scan as the worker runs it: today in the deployment's time zone."""
    def queue_reminders():
        from cowin_kit.notifications import reminders

        today = dep.today()
        count = reminders.queue_reminders(
            dep.db, today=today, days_before=dep.settings["REMINDER_DAYS_BEFORE"],
            url=reminders.portal_url(dep.settings))
        if count:
            import logging

            logging.getLogger("cowin_kit.notifications").info("queued %s reminders", count)
        return count
    return queue_reminders


def make_worker(dep, stop_event=None):
    from cowin_kit.notifications.worker import Worker

    kwargs = {"stop_event": stop_event} if stop_event is not None else {}
    return Worker.from_settings(dep.db, dep.messenger, dep.settings, **kwargs)


def rollup_task(dep):
    """Folding newly recorded doses into the dashboard's rollups, as the worker runs it."""
    def fold_rollups():
        from cowin_kit.reporting import rollups

        with dep.db.Session() as session:
            return rollups.fold(session, dep.profile["reporting"]["age_bands"]).doses
    return fold_rollups


def export_task(dep):
    """Building the officials' CSV exports a chunk at a time (and removing old ones), as the
    worker runs it."""
    def build_report_exports():
        from cowin_kit.reporting import exports

        today = dep.today()
        with dep.db.Session() as session, dep.reads.session() as read:
            return exports.work(session, read, dep.profile,
                                exports.folder_for(dep.settings.instance_path), today)
    return build_report_exports


def background_tasks(dep) -> list:
    from cowin_kit.reporting.exports import POLL_SECONDS

    minutes = dep.settings["REMINDER_SCAN_MINUTES"]
    tasks = [(minutes * 60, reminder_task(dep))] if minutes else []
    if seconds := dep.settings["ROLLUP_SECONDS"]:
        tasks.append((seconds, rollup_task(dep)))
    tasks.append((POLL_SECONDS, export_task(dep)))
    return tasks


def print_status(dep) -> None:
    from cowin_kit.notifications.worker import queue_status

    with dep.db.Session() as session:
        status = queue_status(session)
    for name, count in status.counts.items():
        click.echo(f"{name:<8} {count}")
    age = status.oldest_due_age()
    click.echo("oldest message waiting: " + (
        "none" if age is None else f"{int(age.total_seconds())} s (due since "
        f"{status.oldest_due.isoformat(timespec='seconds')})"))
    if status.stuck_claims:
        click.echo(f"claims expired (a worker stopped mid-batch; claimable again): "
                   f"{status.stuck_claims}")


@click.command()
@instance_option
@click.option("--once", is_flag=True, help="Send every message due now, then exit.")
@click.option("--status", "status_only", is_flag=True,
              help="Print the outbox's counts by status and the oldest message waiting, then "
                   "exit (the same as `cowin-kit notifications status`).")
@click.option("--no-reminders", is_flag=True,
              help="Do not look for people to remind (another worker, or cron with "
                   "`cowin-kit notifications remind`, does it).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Serve this worker's Prometheus metrics (messages sent and failed, the "
                   "gateway's latency, its background tasks) at http://HOST:PORT/metrics; "
                   "0: a free port. Read by the bearer METRICS_TOKEN, or from this machine "
                   "only without one. Off unless given; not with --once or --status.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="The address --metrics-port listens on (0.0.0.0: every interface; set "
                   "METRICS_TOKEN then).")
@db_errors_refused
def worker(instance, once, status_only, no_reminders, metrics_port, metrics_host):
    """Send the SMS outbox through the configured gateway, with retries and back-off.

    Runs until stopped: SIGTERM or Ctrl-C finishes the message being sent, gives the rest
    of its batch back and exits. Several workers may run at once, on one machine or many.
    Every REMINDER_SCAN_MINUTES it also queues the reminders due (unless --no-reminders).
    `cowin-kit serve` runs the same loop in the background for development.
    """
    import os
    import signal
    import threading

    if metrics_port is not None:
        # One process counting in its own memory, served on its own port: the web's
        # multiprocess folder (gunicorn's, emptied when gunicorn starts) is not its own.
        # Before create_app, which imports prometheus_client.
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    app = _app(instance)
    dep = app.extensions["cowin_kit"]
    server = None
    try:
        if status_only:
            print_status(dep)
            return
        if metrics_port is not None and not once:
            server = _serve_metrics(dep, metrics_host, metrics_port)
        stop = threading.Event()
        work = make_worker(dep, stop)
        if once:
            if not no_reminders:
                reminder_task(dep)()
            tally = work.drain()
            click.echo(f"sent {tally.sent}, to retry {tally.retried}, failed {tally.failed}")
            return

        def stop_gracefully(signum, _frame):
            click.echo(f"worker: {signal.Signals(signum).name}, stopping after the message "
                       "being sent", err=True)
            stop.set()

        signal.signal(signal.SIGTERM, stop_gracefully)
        signal.signal(signal.SIGINT, stop_gracefully)
        click.echo(f"worker: sending through {dep.settings['SMS_GATEWAY']!r}; SIGTERM or "
                   "Ctrl-C to stop", err=True)
        work.run_forever(dep.settings["WORKER_POLL_SECONDS"],
                         every=[] if no_reminders else background_tasks(dep))
        click.echo("worker: stopped", err=True)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        dep.dispose()


def _serve_metrics(dep, host: str, port: int):
    """Start the worker's metrics server (cowin_kit.metrics.background), or refuse."""
    if not dep.settings["METRICS_ENABLED"]:
        raise Refused("--metrics-port needs METRICS_ENABLED (it is false).")
    from cowin_kit.metrics import background

    try:
        server = background.serve(host, port, dep.settings["METRICS_TOKEN"])
    except OSError as exc:
        raise Refused(f"cannot listen on {host}:{port} for metrics: "
                               f"{exc.strerror or exc}") from None
    click.echo(f"worker: metrics at http://{host}:{server.server_port}/metrics", err=True)
    return server


@click.group()
def notifications():
    """The SMS outbox: its state, and the reminder scan."""


@notifications.command("status")
@instance_option
@db_errors_refused
def status(instance):
    """Counts by status and the oldest message waiting (a growing age: no worker runs,
    or the gateway fails; see the failed messages' last_error)."""
    dep = _app(instance).extensions["cowin_kit"]
    try:
        print_status(dep)
    finally:
        dep.dispose()


@notifications.command("remind")
@instance_option
@db_errors_refused
def remind(instance):
    """Queue today's dose reminders now (the worker does it every REMINDER_SCAN_MINUTES;
    run this from cron daily when REMINDER_SCAN_MINUTES is 0). Safe to run again: each
    reminder is queued once."""
    dep = _app(instance).extensions["cowin_kit"]
    try:
        click.echo(f"queued {reminder_task(dep)()} reminders")
    finally:
        dep.dispose()
