"""Evidence export (manual 000, "Export an incident project"): the export list, video clips per
sequence, and evidence packages whose every file is listed with its SHA-256 in a manifest that
``imtui verify`` (or plain ``sha256sum -c``) checks."""
