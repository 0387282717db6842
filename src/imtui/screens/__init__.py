"""Textual screens and dialogs.  They call engine services only; never storage, never permissions."""
