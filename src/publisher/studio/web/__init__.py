"""The studio's web app (Starlette): the pages and the JSON API they use, authentication, roles,
CSRF, security headers and the upload limit.

Every request is authenticated — by the sign-in session's cookie or `Authorization: Bearer TOKEN` —
except the sign-in and first-admin pages and the static files. One check (`require`) is used by
every view: it answers 401 (or, for a page, sends the browser to sign in), 403 when the role may
not do the action, and 403 when a cookie-authenticated form or request lacks its CSRF token. The
JSON API is described at /api/openapi.json (from the endpoints' docstrings).
"""

from publisher.studio.web.app import create_app

__all__ = ["create_app"]
