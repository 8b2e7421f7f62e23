"""clotsafe: massage-therapy screening for blood-clot risk (decision support, not diagnosis)."""

__version__ = "0.1.0"
POLICY_VERSION = "1.1"
