"""Onboarding of new partners: the public application form, the vendor's review
queue (approve creates the organization, membership and invitation), and the
onboarding checklist on the partner's home page."""
