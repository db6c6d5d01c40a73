"""The per-request accessors (cowin_kit.runtime): the write session, the read session that
may point at a replica, and a module cheap to import."""
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from cowin_kit.app import create_app
from cowin_kit.db import Base
from cowin_kit.geography.models import Division
from cowin_kit.runtime import db_session, deployment, read_session


def _replica(path) -> str:
    """A second database (a SQLite file) with the schema and one state the primary lacks."""
    import cowin_kit.models  # noqa: F401 - every table in Base.metadata

    url = f"sqlite:///{path.as_posix()}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Division(code="XX-REP", level=1, name="Only on the replica"))
        session.commit()
    engine.dispose()
    return url


def test_read_session_uses_the_read_database_url(cowin_kit_instance, tmp_path):
    url = _replica(tmp_path / "replica.db")
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "READ_DATABASE_URL": url,
                      "TESTING": True})
    try:
        with app.test_request_context():
            dep = deployment()
            assert read_session().get_bind().url.database == str(tmp_path / "replica.db")
            assert db_session().get_bind() is dep.db.engine
            assert dep.replica_dbs and dep.replica_dbs[0] is not dep.db
            assert read_session() is read_session() and read_session() is not db_session()
            names = set(db_session().scalars(select(Division.name).where(Division.level == 1)))
            assert names and "Only on the replica" not in names
        # The public lists come from the read database.
        states = app.test_client().get("/api/v2/admin/location/states").get_json()["states"]
        assert [s["state_name"] for s in states] == ["Only on the replica"]
    finally:
        app.extensions["cowin_kit"].dispose()


def test_read_session_is_the_primary_database_by_default(app):
    with app.test_request_context():
        dep = deployment()
        assert dep.replica_dbs == [] and dep.read_db is dep.db
        assert read_session().get_bind() is dep.db.engine
        assert read_session() is not db_session()  # used the same way once it is a replica


def test_runtime_imports_neither_the_factory_nor_views():
    code = ("import sys, cowin_kit.runtime; "
            "print(sorted(m for m in sys.modules if m.startswith('cowin_kit')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert "cowin_kit.app" not in loaded and "views" not in loaded
    assert "sqlalchemy" not in subprocess.run(
        [sys.executable, "-c", "import sys, cowin_kit.runtime; print(list(sys.modules))"],
        capture_output=True, text=True, check=True).stdout


def test_no_own_data_path_reads_from_the_read_session():
    """read_session() may be a replica a few seconds behind: only the modules that serve
    public or aggregate reads use it; a citizen's or a staff member's own pages never do."""
    root = Path(__file__).resolve().parents[1] / "cowin_kit"
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if "read_session()" in p.read_text(encoding="utf-8"))
    assert users == sorted([
        "api/certificates.py",  # the public revocation list, for verifiers
        "api/public.py",  # public search, locations
        "api/reports.py",  # public figures
        "portal/search_views.py",  # public search (who books comes from db_session)
        "reporting/dashboard_page.py", "reporting/open_data_views.py",
        "replicas.py", "runtime.py",  # where it is made
        "staff/audit_views.py",  # the audit log's CSV export only (the pages: db_session)
        "staff/report_views.py",  # officials' aggregate reports and exports
        "web/trust_views.py", "web/verify_views.py",  # published keys, revocations
        "web/views.py",  # the home page's figures
    ]), users
