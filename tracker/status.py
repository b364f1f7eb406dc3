"""`GET /healthz` for load balancers and test harnesses, `GET /metrics` for Prometheus."""
from flask import Blueprint

from . import metrics
from .db import database

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz():
    database.execute_sql("SELECT 1")  # healthy means the database answers too
    return {"status": "ok"}


@bp.get("/metrics")
def prometheus():
    return metrics.exposition()
