"""Services: rules, permissions, activity log.  Screens call these; these call storage and lpr.

Never imports Textual (tests/test_layers.py enforces it).
"""
