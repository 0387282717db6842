"""Activity-log action codes (stored) and their labels (shown).

The codes follow manual 000, "View user activity log entries": create, edit and open; type, status
and category changes; comment and call add/edit/delete; send for export; report generated or
printed; sequence add/remove; and a project made of an alarm (architecture 002).  Codes are stored, labels are translated at display time.
"""

from __future__ import annotations

from imtui.i18n import _

CREATED = "created"
OPENED = "opened"
EDITED = "edited"
TYPE_CHANGED = "type_changed"
STATUS_CHANGED = "status_changed"
DESCRIPTION_CHANGED = "description_changed"
CATEGORY_CHANGED = "category_changed"
DATA_CHANGED = "data_changed"
COMMENT_ADDED = "comment_added"
COMMENT_EDITED = "comment_edited"
COMMENT_DELETED = "comment_deleted"
CALL_ADDED = "call_added"
CALL_EDITED = "call_edited"
CALL_DELETED = "call_deleted"
SEQUENCE_ADDED = "sequence_added"
SEQUENCE_REMOVED = "sequence_removed"
SENT_FOR_EXPORT = "sent_for_export"
REPORT_GENERATED = "report_generated"
REPORT_PRINTED = "report_printed"
EXPORTED = "exported"
DELETED = "deleted"
FROM_ALARM = "from_alarm"  # created by the alarm manager; the details name the alarm


def label(code: str) -> str:
    labels = {
        CREATED: _("Created incident project"),
        OPENED: _("Opened incident project"),
        EDITED: _("Edited incident project"),
        TYPE_CHANGED: _("Changed type"),
        STATUS_CHANGED: _("Changed status"),
        DESCRIPTION_CHANGED: _("Changed description"),
        CATEGORY_CHANGED: _("Changed category"),
        DATA_CHANGED: _("Changed incident data"),
        COMMENT_ADDED: _("Added comment"),
        COMMENT_EDITED: _("Edited comment"),
        COMMENT_DELETED: _("Deleted comment"),
        CALL_ADDED: _("Added call"),
        CALL_EDITED: _("Edited call"),
        CALL_DELETED: _("Deleted call"),
        SEQUENCE_ADDED: _("Added sequence"),
        SEQUENCE_REMOVED: _("Removed sequence"),
        SENT_FOR_EXPORT: _("Sent for export"),
        REPORT_GENERATED: _("Generated report"),
        REPORT_PRINTED: _("Printed report"),
        EXPORTED: _("Exported"),
        DELETED: _("Deleted incident project"),
        FROM_ALARM: _("Created from alarm"),
    }
    return labels.get(code, code)
