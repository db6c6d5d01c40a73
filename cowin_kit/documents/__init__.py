"""Rendering documents people download: appointment slips today, certificates and reports next.

One way to set text in any shipped language (``fonts``: which Noto font covers which script;
``pdf``: pages built with fpdf2, text shaped by HarfBuzz, right-to-left aware), QR codes
(``qr``) and rendered files kept once and served as stored bytes (``storage``). Knows nothing
of Flask or of the database: callers pass the text, already translated.
"""
