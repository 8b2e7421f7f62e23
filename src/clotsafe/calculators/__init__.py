"""Clinical scores (FACTS.md §1–5): Wells DVT, Wells PE, PERC, Caprini 2005, Padua."""
