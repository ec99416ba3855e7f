"""Builders for test data: the portal's test kit (:mod:`portal.testing.factories`),
re-exported so the core's tests keep ``from tests import factories``."""

from portal.testing.factories import (  # noqa: F401
    PASSWORD,
    TIER_NAMES,
    _HASHES,
    _hash,
    _seq,
    ManagerAssignment,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerType,
    Program,
    Role,
    Tier,
    User,
    assign_manager,
    organization,
    program,
    resource_page,
    user,
)
