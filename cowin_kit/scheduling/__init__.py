"""Centres, sessions and appointments, one thing per module: ``service`` (centres and their
import), ``sessions`` (making and changing sessions, the demo's) and ``session_import``
(sessions from CSV), ``slots`` (how a slot is written and read, and when it has ended),
``booking`` (schedule, reschedule, cancel), ``places`` (taking and giving back places),
``search`` (finding sessions and centres) and ``slip`` (the appointment slip)."""
