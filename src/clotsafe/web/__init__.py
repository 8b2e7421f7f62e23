"""The clotsafe web app (Django): clinics, clients, screenings, clearances, audit, client intake.

Settings module: ``clotsafe.web.settings``. Run a local demo with :func:`clotsafe.web.serve.run`.
"""
