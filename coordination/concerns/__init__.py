"""Early concerns (RULES.md §5): raising one, routing it, matching alerts, sibling requests, and the Child
Contact's handling of it, including asking for a Support Coordinator.

* ``models``: concerns, their areas and agreements, matching alerts, sibling and coordinator requests.
* ``access/``: ``raising`` (the agency admin's queue and the raising pages' view models) and ``handling``
  (who sees a concern and how — ``decide_concern``: the whole concern, a content-free signal, or nothing
  → 404 —, the concern page's view model, the coordinator request's access).
* ``operations/``: ``raising`` (the discoverer's operations, on a child's page or by identity number),
  ``routing`` (where a concern goes, the agreement consent, its audit and chronology), ``matching``
  (alerts for concerns from two agencies within the window), ``unmatched`` (the agency admin's queue,
  registering the child, re-routing when a Child Contact is assigned), ``siblings``, ``handling``
  (acknowledge, record a conversation, close) and ``coordinators`` (ask, accept — the first wins —,
  decline).
* ``forms``: every form of the concerns' pages.
* ``views/``: ``raising`` (raising, the agency admin's queue) and ``concern`` (the concern page, coordinator
  requests).
"""
