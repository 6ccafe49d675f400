"""Barnkompass: the app shell and the coordination domain (children, guardians, Child Contacts)."""
