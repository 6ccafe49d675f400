"""Every model module, imported once so that the metadata (Alembic, the schema tests) and the mappers
(the app) know every table. A new model module is added here."""

from __future__ import annotations

import agencies.models  # noqa: F401
import childplan.models  # noqa: F401
import coordination.children.models  # noqa: F401
import coordination.chronology.models  # noqa: F401
import coordination.concerns.models  # noqa: F401
import coordination.consent.models  # noqa: F401
import coordination.models  # noqa: F401
import coordination.registration.models  # noqa: F401
import coordination.reports.models  # noqa: F401
import coordination.teams.models  # noqa: F401
import notifications.models  # noqa: F401
