"""imtui: incident projects, video evidence and LPR for security control rooms, in a terminal."""

__version__ = "0.1.0"
