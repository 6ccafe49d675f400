"""The child's chronology: significant events, newest first, each visible only as RULES.md §4 allows."""
