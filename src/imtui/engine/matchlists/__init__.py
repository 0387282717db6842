"""Licence-plate match lists (manual 004): import files in, export CSV out, and the lists' service."""
