"""The Child's Plan's blueprints, made here so that every route module can attach its routes to them
without importing another route module (``childplan.views`` imports the route modules and exposes them).

plan      the Plan tab, its keeper's forms, the published versions and their diff, the PDF
reviews   reviews of the plan and their ratings
worklist  ``/worklist`` and the agency's actions (``/agency/actions``)
"""

from __future__ import annotations

from flask import Blueprint

plan = Blueprint("plan", __name__)
reviews = Blueprint("reviews", __name__)
worklist = Blueprint("worklist", __name__)
