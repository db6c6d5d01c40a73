"""Figures read from the database when Prometheus scrapes: one small indexed query each,
kept a few seconds (METRICS_CACHE_SECONDS) so that frequent scrapes, or several Prometheus
servers, cost the database nothing more."""
from __future__ import annotations

import threading
import time

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

# Counting stops here, so that a scrape costs the same whatever the backlog (the figure then
# reads "at least CAP"; an alert fires long before).
CAP = 100_000

_OUTBOX = text("SELECT count(*) FROM (SELECT 1 FROM notification_outbox "
               "WHERE status IN ('pending', 'sending') LIMIT :cap) AS waiting")
_ROLLUP_BACKLOG = text("SELECT count(*) FROM (SELECT 1 FROM dose WHERE rollup_batch IS NULL "
                       "LIMIT :cap) AS waiting")


def replicas(dep) -> list:
    """The read replicas' Databases (DATABASE_REPLICA_URLS, READ_DATABASE_URL)."""
    return list(dep.replica_dbs)


class DeploymentCollector:
    """prometheus_client collector of the figures above, for one deployment."""

    def __init__(self, dep):
        self.dep = dep
        self._lock = threading.Lock()
        self._read_at, self._figures = None, None

    def figures(self) -> dict:
        ttl = self.dep.settings["METRICS_CACHE_SECONDS"]
        with self._lock:
            now = time.monotonic()
            if self._figures is None or self._read_at is None or now - self._read_at >= ttl:
                self._figures, self._read_at = self._read(), time.monotonic()
            return self._figures

    def _read(self) -> dict:
        from cowin_kit.db import utcnow
        from cowin_kit.notifications.models import OutboxMessage, OutboxStatus
        from cowin_kit.replicas import measure_lag, primary_lsn
        from cowin_kit.reporting.models import RollupState

        oldest_due = select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING.value)
        folded_at = select(RollupState.folded_at).where(RollupState.id == 1)

        figures: dict = {"database_up": 0, "replicas": []}
        try:
            with self.dep.db.engine.connect() as conn:
                now = utcnow()
                figures["outbox"] = conn.execute(_OUTBOX, {"cap": CAP}).scalar_one()
                oldest = conn.execute(oldest_due).scalar()
                figures["outbox_overdue"] = max(0.0, (now - oldest).total_seconds()) \
                    if oldest is not None else 0.0
                figures["rollup_backlog"] = conn.execute(_ROLLUP_BACKLOG,
                                                         {"cap": CAP}).scalar_one()
                folded = conn.execute(folded_at).scalar()
                figures["folded_ago"] = None if folded is None else max(
                    0.0, (now - folded).total_seconds())
                figures["database_up"] = 1
        except SQLAlchemyError:
            pass
        found = replicas(self.dep)
        # Measured as the read sessions measure it (cowin_kit.replicas), against the
        # primary's WAL position, so the gauge shows what decides where reads go.
        lsn = primary_lsn(self.dep.db) if found else None
        for index, db in enumerate(found):
            entry = {"replica": str(index), "up": 0, "lag": None}
            try:
                lag = measure_lag(db, lsn)
                if db.engine.dialect.name == "postgresql":
                    entry["lag"] = lag
                entry["up"] = 1
            except SQLAlchemyError:
                pass
            figures["replicas"].append(entry)
        return figures

    def collect(self):
        f = self.figures()
        yield GaugeMetricFamily("cowin_kit_database_up", "1 when the primary database "
                                "answered the last reading of the figures below, else 0.",
                                value=f["database_up"])
        if f["database_up"]:
            yield GaugeMetricFamily(
                "cowin_kit_outbox_pending", "SMS in the outbox not yet sent (pending or being "
                f"sent), counted up to {CAP}.", value=f["outbox"])
            yield GaugeMetricFamily(
                "cowin_kit_outbox_oldest_due_seconds", "How long the oldest pending SMS has "
                "been due (0: none is late); grows when `cowin-kit worker` is not sending.",
                value=f["outbox_overdue"])
            yield GaugeMetricFamily(
                "cowin_kit_rollup_backlog_doses", "Doses recorded but not yet folded into "
                f"the report rollups, counted up to {CAP}.", value=f["rollup_backlog"])
            if f["folded_ago"] is not None:
                yield GaugeMetricFamily(
                    "cowin_kit_rollup_last_fold_age_seconds", "Seconds since the worker "
                    "last folded doses into the report rollups.", value=f["folded_ago"])
        if f["replicas"]:
            up = GaugeMetricFamily("cowin_kit_replica_up", "1 when the read replica "
                                   "answered, by its position in the configuration.",
                                   labels=["replica"])
            lag = GaugeMetricFamily("cowin_kit_replica_lag_seconds", "How far the read "
                                    "replica's replay is behind (PostgreSQL streaming "
                                    "replicas only).", labels=["replica"])
            for entry in f["replicas"]:
                up.add_metric([entry["replica"]], entry["up"])
                if entry["lag"] is not None:
                    lag.add_metric([entry["replica"]], entry["lag"])
            yield up
            if lag.samples:
                yield lag

