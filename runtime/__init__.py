"""What both roles need to run as a server: gunicorn's worker with its connection caps and head
deadline (worker, protocol, connections), Flask on threads with each body received first (bodies),
who a request comes from and how often it may ask (clients, ratelimit), and the settings parsers
(settings).

Imported by `tracker`, `edge`, `wsgi.py` and `gunicorn.conf.py`; imports no role.
"""
