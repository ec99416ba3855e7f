"""The vendor side: organizations, users, programs and tiers, the audit log.

One blueprint, ``admin`` under ``/admin``; each screen lives in its own module
(:mod:`.organizations`, :mod:`.users`, :mod:`.programs`, :mod:`.plugins`,
:mod:`.audit`) and its forms in :mod:`.forms`.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Imported for their routes, which register on ``bp``.
from portal.admin import audit, branding, organizations, plugins, programs, users  # noqa: E402,F401
