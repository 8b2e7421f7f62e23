"""Renderers of one Decision: the one presenter (present.py), terminal text, Markdown.

JSON is ``Decision.to_json``; every other surface takes its words from :mod:`.present`.
"""
