"""Reminders, the outbox and its channels (built in a later issue)."""
