"""Study-site generation: Markdown pages derived from the bank (see generate.py)."""
