"""Reports of concern to social services (the duty to report, RULES.md §5) and the intake queue."""
