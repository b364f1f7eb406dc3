"""The tracker operator's authority: routes under /api/v1/admin/ take `Authorization: Bearer
<TRACKER_ADMIN_TOKEN>`; with no token set they are off (403), so a tracker started without one has no
operator API for anyone to guess at."""
import functools

from flask import current_app, request

from protocol.operator import token_refusal

from .errors import ApiError


def require_admin():
    """Refuse the request unless it carries the operator's token."""
    refusal = token_refusal(current_app.config["TRACKER_ADMIN_TOKEN"], request.headers.get("Authorization", ""),
                            "TRACKER_ADMIN_TOKEN")
    if refusal:
        raise ApiError(*refusal)


def admin_only(view):
    """A view decorator for operator routes."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        require_admin()
        return view(*args, **kwargs)
    return guarded
