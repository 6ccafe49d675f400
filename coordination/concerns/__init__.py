"""Early concerns (RULES.md §5): raising one, routing it, matching alerts, sibling requests, and the Child
Contact's handling of it, including asking for a Support Coordinator."""
