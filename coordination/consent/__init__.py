"""Consent (RULES.md §3): the consent ledger's writes, the versioned consent texts, and the pure
evaluation the access core builds on. Import from here; the modules are:

* ``ledger``: the writes (``request_consent``, ``record_consent``, ``add_consent_giver``,
  ``withdraw_consent``, ``record_maturity``) — validated first, so a refusal writes nothing; flushed and
  audited in the same transaction; the caller commits.
* ``lookups``: the reads the writes check against (custodians, maturity, overlaps, open requests).
* ``announcements``: what a consent change tells the rest of the platform — its chronology entry, and
  the "this role needs a consented agency" signal when a role holder's agency loses coordination consent.
* ``texts``: the versioned, translatable consent texts; a fresh database gets the built-in version 1.
* ``evaluation``: ``effective_areas`` and ``consent_status`` (pure), and ``consent_facts`` (the loader).
* ``common``: the shared vocabulary.

The ledger in one paragraph: a ``Consent`` row is one agency, one purpose, a set of Needs Compass areas
and a period. Its ``ConsentGiver`` rows say who gave it (each guardian separately, or the young person),
how, when and on what evidence. It is **in effect** on a day when it is recorded, the day is inside its
period, nobody has withdrawn it, and the right people have given it: every current custodial guardian,
or — for an agency the young person has been recorded as mature enough to decide for, while they are at
least ``MATURITY_MIN_AGE`` (configuration, default 12), and for every agency from 18 — the young person.
A consent whose legal basis is a social-services decision is in effect regardless of givers. A requested
consent grants nothing. Any one withdrawal ends a consent at once. The evaluation functions apply the age
rules when given the child's ``birth_date`` (and ``maturity_min_age``); callers should always pass them.
"""
