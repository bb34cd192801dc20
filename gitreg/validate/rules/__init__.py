"""The rules: pure functions from a snapshot view to findings. They import only the manifest models, the
layout, the findings and the view: no git, no blob store, no I/O (tests/validate/test_purity.py holds them
to it). Each rule id they emit is in the catalogue, ``gitreg.validate.catalogue``."""
