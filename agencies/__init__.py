"""Agencies, their units, staff memberships and roles."""
