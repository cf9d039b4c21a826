"""genprep: a bilingual interview-prep bank for generative AI, verified by tests."""

__version__ = "0.1.0"
