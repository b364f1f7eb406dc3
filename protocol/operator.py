"""The operator's bearer token, checked the same way on every node (EDGE_ADMIN_TOKEN, TRACKER_ADMIN_TOKEN)."""
import hmac


def token_refusal(token, authorization, setting):
    """None when `authorization` carries the operator's `token`, else (status, code, message): 403
    when the operator API is off (no token set) or the token is wrong, 401 when none was sent."""
    if not token:
        return 403, "operator_api_off", f"set {setting} to use operator actions"
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return 401, "unauthorized", f"send Authorization: Bearer <{setting}>"
    # Compared in constant time: the token is the whole of the operator's authority.
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 403, "forbidden", "wrong operator token"
    return None
