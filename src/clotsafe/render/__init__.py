"""Renderers of one Decision: JSON, terminal text, Markdown."""
