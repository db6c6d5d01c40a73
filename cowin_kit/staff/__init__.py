"""The minimal staff web: log in, see the centres of one's area with their sessions, add a
session, import sessions from CSV. Routes in ``views``, rules in ``service``, forms in
``forms``; the full staff side comes later."""
