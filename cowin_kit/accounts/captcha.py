"""The captcha of Co-WIN's ``auth/getRecaptcha`` and ``appointment/schedule`` (setting
CAPTCHA_ON_SCHEDULE). No Flask: cowin_kit.api.captcha serves it.

A captcha is a short sum ("7 + 12 = ?") drawn as an SVG, with a ``<title>`` that asks the
same question in a sentence of the reader's language, so that a screen reader reads it out
and a blind person can answer as anyone else does. That text is also what makes it no
obstacle to a program; what the check enforces is that each booking costs a fresh answer of
the same account, in time: the answer is kept only as a keyed hash, is good for one booking
attempt, for CAPTCHA_TTL_SECONDS, in TRIES tries, and an account has one captcha at a time
(a new one replaces the last).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import CaptchaChallenge
from cowin_kit.db import utcnow
from cowin_kit.errors import UserError
from cowin_kit.plugins.builtin.ids.base import ascii_digits
from cowin_kit.plugins.interfaces import N_

TRIES = 3
LARGEST_TERM = 20  # each term 1..20: 39 possible answers
WIDTH, HEIGHT = 150, 50  # Co-WIN's captcha's size

MSG_INVALID = N_("Please enter a valid security code: the answer to your latest captcha "
                 "(auth/getRecaptcha). Each one is good for one booking, for a few minutes "
                 "and 3 tries.")
MSG_QUESTION = N_("Security question: how much is %(a)s plus %(b)s? Type the answer in "
                  "figures.")


class CaptchaRefused(UserError):
    """Co-WIN's "Please enter valid security code" (APPOIN0044)."""

    status, code = 400, "APPOIN0044"


@dataclass(frozen=True)
class Question:
    a: int
    b: int

    @property
    def answer(self) -> int:
        return self.a + self.b


def new_question() -> Question:
    return Question(1 + secrets.randbelow(LARGEST_TERM), 1 + secrets.randbelow(LARGEST_TERM))


def _key(settings) -> bytes:
    return hmac.new(str(settings["SECRET_KEY"]).encode("utf-8"), b"cowin-kit captcha",
                    hashlib.sha256).digest()


def _answer_hash(settings, challenge_id: str, answer: str) -> str:
    # Keyed and salted with the row's id: 39 possible answers are no secret without the key,
    # and two rows with the same answer do not look alike.
    return hmac.new(_key(settings), f"{challenge_id}:{answer}".encode(),
                    hashlib.sha256).hexdigest()


def issue(session: Session, *, account_id: int, settings, question: Question,
          now: datetime | None = None) -> None:
    """Make ``question`` the account's captcha, replacing any earlier one. Flushed; the
    caller commits."""
    now = now or utcnow()
    session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.account_id == account_id))
    challenge_id = str(uuid.uuid4())
    session.add(CaptchaChallenge(
        id=challenge_id, account_id=account_id, created_at=now, attempts=0,
        answer_hash=_answer_hash(settings, challenge_id, str(question.answer)),
        expires_at=now + timedelta(seconds=settings["CAPTCHA_TTL_SECONDS"])))
    session.flush()


def _normalised(answer) -> str | None:
    if isinstance(answer, bool) or answer is None:
        return None
    if isinstance(answer, int):
        return str(answer)
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    if not isinstance(answer, str) or len(answer) > 20:
        return None
    text = ascii_digits(answer).strip()
    return str(int(text)) if text.isascii() and text.isdigit() else None


def use(session: Session, *, account_id: int, answer, settings,
        now: datetime | None = None) -> None:
    """Spend the account's captcha with ``answer``; CaptchaRefused (400, field ``captcha``)
    when there is none in force or the answer is wrong. Every try counts (atomically, so
    parallel guesses get no more than TRIES) and a right answer is used at once, whatever
    becomes of the booking: the caller commits in both cases."""
    now = now or utcnow()
    refused = CaptchaRefused(MSG_INVALID, "captcha")
    challenge = session.scalar(select(CaptchaChallenge)
                               .where(CaptchaChallenge.account_id == account_id))
    if challenge is None:
        raise refused
    taken = session.execute(
        update(CaptchaChallenge)
        .where(CaptchaChallenge.id == challenge.id, CaptchaChallenge.used_at.is_(None),
               CaptchaChallenge.attempts < TRIES, CaptchaChallenge.expires_at > now)
        .values(attempts=CaptchaChallenge.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    given = _normalised(answer)
    if taken != 1 or given is None or not hmac.compare_digest(
            _answer_hash(settings, challenge.id, given), challenge.answer_hash):
        raise refused
    spent = session.execute(
        update(CaptchaChallenge)
        .where(CaptchaChallenge.id == challenge.id, CaptchaChallenge.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if spent != 1:  # a parallel booking used it first
        raise refused


# --- drawing -------------------------------------------------------------------------------

def svg(question: Question, title: str, lang: str | None = None) -> str:
    """The captcha as an SVG image: the sum drawn in dark, slightly turned figures over a
    few light curves (legible at a glance, with contrast well above 4.5:1), and ``title``
    (the question in words) as its accessible name."""
    rng = secrets.SystemRandom()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="captcha-title"'
             + (f' lang="{escape(lang)}"' if lang else "") + ">",
             f'<title id="captcha-title">{escape(title)}</title>',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f7f7f2"/>']
    for _ in range(4):  # curves that cross the figures without hiding them
        y0, y1, y2, y3 = (rng.randint(8, HEIGHT - 8) for _ in range(4))
        colour = rng.choice(("#b9c7d8", "#d8c3b9", "#c3d8b9", "#cdb9d8"))
        parts.append(f'<path d="M2 {y0} C40 {y1} 100 {y2} 148 {y3}" stroke="{colour}" '
                     f'stroke-width="{rng.choice((1, 1.5, 2))}" fill="none"/>')
    # Figures of one number sit close together, with wider gaps between the terms, so that
    # "19 + 16" cannot be read as "1 9 + 1 6".
    tokens = [str(question.a), "+", str(question.b), "=", "?"]
    advance, gap = 15, 8
    width = sum(len(t) * advance for t in tokens) + gap * (len(tokens) - 1)
    x = (WIDTH - width) / 2
    for token in tokens:
        turn = rng.randint(-12, 12)  # a number turns as one, its figures a little each
        for glyph in token:
            y = 35 + rng.uniform(-3, 3)
            colour = rng.choice(("#1b2a49", "#3b1f2b", "#1f3b2d", "#2d2d2d"))
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-family="DejaVu Sans, Arial, '
                         f'sans-serif" font-size="{rng.randint(25, 28)}" font-weight="bold" '
                         f'fill="{colour}" transform="rotate({turn + rng.randint(-4, 4)} '
                         f'{x + advance / 2:.1f} {y:.1f})" aria-hidden="true">'
                         f'{escape(glyph)}</text>')
            x += advance
        x += gap
    parts.append("</svg>")
    return "".join(parts)
