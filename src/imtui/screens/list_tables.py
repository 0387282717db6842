"""The tables that carry a screen's printable keys (``n``, ``e``, ``]``, ``/``...): bound on the
table, they act only while the list holds focus, so text typed for a filter, or for a dialog that
failed to open, never runs them (issue 14, #12).  The actions are the screen's (``screen.``),
which also decides through ``check_action`` what this user may do."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable

from imtui.i18n import _


class IncidentTable(DataTable):
    """The list's printable keys are bound here, not on the screen: they act only while the list
    holds focus, so text typed for a filter or a dialog that failed to open never runs them."""

    BINDINGS = [
        Binding("right_square_bracket", "screen.next_page", _("Next page"), id="next-page", key_display="]"),
        Binding("left_square_bracket", "screen.previous_page", _("Previous page"), id="previous-page",
                key_display="["),
        Binding("n", "screen.new_incident", _("New"), id="new-incident"),
        Binding("delete", "screen.delete_incident", _("Delete"), id="delete-incident"),
        # also the screen's (from a filter): here too so that the footer shows it among the list's keys
        Binding("f5", "screen.refresh", _("Refresh"), id="refresh"),
        Binding("slash", "screen.focus_text_filter", _("Search"), id="focus-search", key_display="/"),
        Binding("p", "screen.playback", _("Playback"), id="playback"),
        Binding("l", "screen.live", _("Live"), id="live"),
        Binding("d", "screen.drafts", _("Drafts"), id="drafts"),
        Binding("r", "screen.report", _("Report"), id="report"),
        Binding("e", "screen.send_for_export", _("Send for export"), id="send-for-export"),
    ]
    PRINTABLE = frozenset(("next_page", "previous_page", "new_incident", "focus_text_filter", "playback", "live",
                           "drafts", "report", "send_for_export"))


class PickTable(DataTable):
    """The picker's list: paging and search only (its printable keys act while it holds focus)."""

    BINDINGS = [
        Binding("right_square_bracket", "screen.next_page", _("Next page"), id="next-page", key_display="]"),
        Binding("left_square_bracket", "screen.previous_page", _("Previous page"), id="previous-page",
                key_display="["),
        Binding("slash", "screen.focus_text_filter", _("Search"), id="focus-search", key_display="/"),
    ]


class LprEventTable(DataTable):
    """The LPR events (``#lpr-events-table``): its plate search and pages."""

    BINDINGS = [
        Binding("slash", "screen.focus_plate", _("Plate"), id="lpr-events-search", key_display="/"),
        Binding("right_square_bracket", "screen.page(1)", _("Older"), id="lpr-events-next", key_display="]"),
        Binding("left_square_bracket", "screen.page(-1)", _("Newer"), id="lpr-events-previous", key_display="["),
    ]


class MatchListTable(DataTable):
    """Both tables of the match lists (``#matchlists-lists``, ``#matchlist-entries``): the screen's
    actions decide from the focused table what they act on."""

    BINDINGS = [
        Binding("n", "screen.new_list", _("New list"), id="matchlists-new"),
        Binding("r", "screen.edit_list", _("Edit list"), id="matchlists-edit"),
        Binding("f", "screen.fields", _("Fields"), id="matchlists-fields"),
        Binding("a", "screen.add_plate", _("Add plate"), id="matchlists-add-plate"),
        Binding("e", "screen.edit_plates", _("Edit"), id="matchlists-edit-plates"),
        Binding("space", "screen.mark", _("Mark"), id="matchlists-mark", show=False),
        Binding("delete", "screen.delete", _("Delete"), id="matchlists-delete"),
        Binding("i", "screen.import_file", _("Import"), id="matchlists-import"),
        Binding("x", "screen.export_file", _("Export"), id="matchlists-export"),
        Binding("slash", "screen.search", _("Search"), id="matchlists-search", key_display="/"),
        Binding("right_square_bracket", "screen.page(1)", _("Next page"), id="matchlists-next", key_display="]"),
        Binding("left_square_bracket", "screen.page(-1)", _("Previous page"), id="matchlists-previous",
                key_display="["),
    ]
