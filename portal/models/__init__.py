"""The core domain model. Import models from here: ``from portal.models import User``."""

from portal.models.audit import AuditEntry, AuditLogIsAppendOnly
from portal.models.branding import Branding
from portal.models.notification import Notification
from portal.models.onboarding import ApplicationStatus, PartnerApplication
from portal.models.organization import (
    ManagerAssignment,
    Organization,
    OrganizationStatus,
    PartnerType,
)
from portal.models.plugin import PluginSetting
from portal.models.program import Membership, Program, ProgramPlugin, Tier
from portal.models.search import SearchQueueEntry
from portal.models.settings_version import SettingsVersion
from portal.models.types import UTCDateTime, utcnow
from portal.models.user import PARTNER_ROLES, STAFF_ROLES, Invitation, Role, User
from portal.models.resource import (  # noqa: E402 - after Program and Tier, which it links to
    ResourceCategory,
    ResourcePage,
    ResourcePageAudience,
    ResourcePageTag,
    ResourceStatus,
)

__all__ = [
    "PARTNER_ROLES",
    "STAFF_ROLES",
    "ApplicationStatus",
    "AuditEntry",
    "AuditLogIsAppendOnly",
    "Branding",
    "Invitation",
    "ManagerAssignment",
    "Membership",
    "Notification",
    "Organization",
    "OrganizationStatus",
    "PartnerApplication",
    "PartnerType",
    "PluginSetting",
    "Program",
    "ProgramPlugin",
    "ResourceCategory",
    "ResourcePage",
    "ResourcePageAudience",
    "ResourcePageTag",
    "ResourceStatus",
    "Role",
    "SearchQueueEntry",
    "SettingsVersion",
    "Tier",
    "UTCDateTime",
    "User",
    "utcnow",
]
