"""Staff users from a CSV file (`cowin-kit users import`): every line checked first, with the
same rules as one user at a time (cowin_kit.accounts.staff_users), and nothing written
unless every line is right. A problem names the line, the column and the fix, in English,
like the other imports (cowin_kit.csvfiles)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from cowin_kit.accounts import staff_users
from cowin_kit.accounts.service import EMAIL_RE
from cowin_kit.csvfiles import CsvProblems, read_rows

USER_COLUMNS = ("email", "role", "division_code", "facility_code")
# The service's field names, as the file's columns.
_COLUMN = {"email": "email", "role": "role", "division": "division_code",
           "facility": "facility_code"}


def _problem(exc: staff_users.AccountError, row: dict[str, str]) -> str:
    column = _COLUMN.get(exc.field or "", "")
    if exc.field == "role" and exc.status != 403:
        return f"role {row['role']!r}: use one of {', '.join(staff_users.ROLES)}"
    text = exc.text().rstrip(".")
    return f"{column}: {text}" if column else text


def import_users_csv(session: Session, by: staff_users.Manager,
                     path: Path | str) -> list[tuple[str, str]]:
    """Create the file's users: [(e-mail, one-time password)] in the file's order. Raises
    CsvProblems naming every wrong line; nothing is written then. The caller commits."""
    rows = read_rows(path, USER_COLUMNS)
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        address = row["email"].strip().lower()
        if address in seen:
            problems.append((line, f"email: {address} is repeated (first on line "
                                   f"{seen[address]}); give each user one line"))
            continue
        seen[address] = line
        try:
            staff_users.check_scope(session, by, row["role"], row["division_code"],
                                    row["facility_code"])
        except staff_users.AccountError as exc:
            problems.append((line, _problem(exc, row)))
            continue
        if not address:
            problems.append((line, "email: is empty; give the user's e-mail address"))
        elif not EMAIL_RE.match(address) or len(address) > 254:
            problems.append((line, f"email: {row['email']!r} is not an e-mail address; "
                                   "write it like name@example.org"))
        elif staff_users.find_user(session, address) is not None:
            problems.append((line, f"email: a staff user {address} already exists; remove "
                                   "the line, or manage that user with `cowin-kit users`"))
    if problems:
        raise CsvProblems(str(path), problems)
    created = []
    nested = session.begin_nested()
    for line, row in rows:
        try:
            user, password = staff_users.create_user(session, by, row["email"], row["role"],
                                                     row["division_code"],
                                                     row["facility_code"])
        except staff_users.AccountError as exc:  # e.g. a malformed address
            problems.append((line, _problem(exc, row)))
            continue
        created.append((user.email, password))
    if problems:
        nested.rollback()
        raise CsvProblems(str(path), problems)
    nested.commit()
    return created
