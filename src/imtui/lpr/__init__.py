"""Licence-plate recognition: pure vision (numpy/OpenCV), no database, no UI.

Filled by the LPR issue; the package exists now so the layer rules are enforced from the start.
"""
