"""Reference implementations, one module per topic.

Plain PyTorch: each module imports torch (and sibling modules) only, never
genprep, so any of them can be copied into a notebook as is.
"""
