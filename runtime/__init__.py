"""What both roles need to run as a server: gunicorn's worker and the settings parsers.

Imported by `tracker`, `edge`, `wsgi.py` and `gunicorn.conf.py`; imports no role.
"""
