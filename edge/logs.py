"""Send the edge's own log lines (jobs, announces) to stderr, which gunicorn and honcho collect."""
import logging


def init_logging():
    """Log INFO and up from `edge.*` unless the process configured logging itself."""
    log = logging.getLogger("edge")
    if log.handlers or logging.getLogger().handlers:  # python -m edge, pytest: already configured
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] %(name)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
