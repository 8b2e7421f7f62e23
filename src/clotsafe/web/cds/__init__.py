"""CDS Hooks 2.0 service (a small Django app): discovery, hook calls, feedback.

Thin views over :mod:`clotsafe.fhir`; settings in :mod:`clotsafe.web.cds.conf`.
"""
