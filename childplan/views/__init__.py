"""The Child's Plan's routes. The blueprints are made in ``childplan.views.blueprints``; every route module
attaches its routes to them, and importing this package imports every route module, so registering a
blueprint registers all of its routes (importing ``overview`` also puts the plan in brief on the child's
Overview)."""

from childplan.views import overview, pdf, plan, reviews, versions, worklist
from childplan.views.blueprints import plan as plan_blueprint
from childplan.views.blueprints import reviews as reviews_blueprint
from childplan.views.blueprints import worklist as worklist_blueprint

ROUTE_MODULES = (overview, pdf, plan, reviews, versions, worklist)

__all__ = ["ROUTE_MODULES", "plan_blueprint", "reviews_blueprint", "worklist_blueprint"]
