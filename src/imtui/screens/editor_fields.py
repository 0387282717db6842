"""The editor's typed fields: the categories and incident data form (built from the definitions),
and the reading, comparing and putting back of every main-detail field, which lets f5 reload the
stored project and keep what the operator typed over it."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea
from textual.widgets.select import InvalidSelectValueError

from imtui.engine import datafields
from imtui.engine.incidents import Definitions, IncidentDetail
from imtui.i18n import _
from imtui.safetext import clean
from imtui.screens.base import AppAccess
from imtui.screens.render import options, plain, quiet_input, safe, tell


class EditorFields(AppAccess, Screen[None]):
    """Mixed into IncidentEditorScreen (which sets ``definitions``, ``detail`` and ``shown_fields``)."""

    definitions: Definitions | None
    detail: IncidentDetail | None
    shown_fields: dict[str, object]

    # -- categories and data fields ---------------------------------------------------------------
    async def _build_categories_form(self, defs: Definitions) -> None:
        """One Select per enabled category, one field per enabled data field (ids category-N, field-N)."""
        hints = {"integer": _("Whole number"), "decimal": _("Number, e.g. 1250.50"),
                 "datetime": _("YYYY-MM-DD HH:MM"), "text": ""}
        rows = []
        for cat in defs.categories:
            select: Select = Select(options(cat.values), allow_blank=True, id=f"category-{cat.slot}", compact=True,
                                    prompt=_("(none)"))
            select.tooltip = plain(cat.description) if cat.description else None
            rows.append(Horizontal(Label(safe(cat.name), classes="field-label wide"), select, classes="field-row"))
        for f in defs.fields:
            if f.kind == "checkbox":
                widget = Checkbox(plain(f.name), id=f"field-{f.id}", compact=True)
                rows.append(Horizontal(Label("", classes="field-label wide"), widget, classes="field-row"))
            else:
                widget = quiet_input(id=f"field-{f.id}", placeholder=hints.get(f.kind, ""))
                rows.append(Horizontal(Label(safe(f.name), classes="field-label wide"), widget, classes="field-row"))
            widget.tooltip = plain(f.description) if f.description else None
        if not rows:
            rows.append(Static(_("No categories or incident data fields are defined."), id="categories-empty"))
        await self.query_one("#categories-form").mount_all(rows)

    def _show_categories(self, d: IncidentDetail) -> None:
        if self.definitions is None:
            return
        tz = self.imtui.services.settings.timezone
        for cat in self.definitions.categories:
            self.query_one(f"#category-{cat.slot}", Select).value = d.categories.get(cat.slot, Select.NULL)
        for f in self.definitions.fields:
            stored = d.data.get(f.id, "")
            if f.kind == "checkbox":
                self.query_one(f"#field-{f.id}", Checkbox).value = stored == datafields.TRUE
            else:
                self.query_one(f"#field-{f.id}", Input).value = clean(datafields.display_value(f.kind, stored, tz))

    def _category_values(self) -> tuple[dict[int, int | None], dict[int, str]]:
        cats: dict[int, int | None] = {}
        data: dict[int, str] = {}
        if self.definitions is None:
            return cats, data
        for cat in self.definitions.categories:
            value = self.query_one(f"#category-{cat.slot}", Select).value
            cats[cat.slot] = value if isinstance(value, int) else None
        for f in self.definitions.fields:
            if f.kind == "checkbox":
                data[f.id] = datafields.TRUE if self.query_one(f"#field-{f.id}", Checkbox).value else datafields.FALSE
            else:
                data[f.id] = self.query_one(f"#field-{f.id}", Input).value
        return cats, data

    def _categories_dirty(self) -> bool:
        if self.detail is None or self.definitions is None:
            return False
        tz = self.imtui.services.settings.timezone
        cats, data = self._category_values()
        if any(self.detail.categories.get(slot) != value for slot, value in cats.items()):
            return True
        for f in self.definitions.fields:
            shown = datafields.display_value(f.kind, self.detail.data.get(f.id, ""), tz)
            if data[f.id] != clean(shown):
                return True
        return False

    def _field_widgets(self) -> list[Select | TextArea | Input | Checkbox]:
        return list(self.query("#main Select, #main TextArea, #categories-form Select, "
                               "#categories-form Input, #categories-form Checkbox").results())  # type: ignore[arg-type]

    def _field_values(self) -> dict[str, object]:
        return {w.id or "": w.text if isinstance(w, TextArea) else w.value for w in self._field_widgets()}

    def _typed_fields(self) -> dict[str, object]:
        """The fields the operator changed since the last load (only those are put back)."""
        return {k: v for k, v in self._field_values().items() if self.shown_fields.get(k) != v}

    def _put_fields(self, values: dict[str, object]) -> None:
        for widget in self._field_widgets():
            if widget.id not in values:
                continue
            value = values[widget.id]
            if isinstance(widget, TextArea):
                widget.load_text(str(value))
            else:
                try:
                    widget.value = value  # type: ignore[assignment]
                except InvalidSelectValueError:  # removed by an administrator meanwhile
                    tell(self, _("{field}: the value you chose no longer exists; choose another.").format(
                        field=self._field_name(widget)), error=True)

    def _field_name(self, widget: Select) -> str:
        names = {"type": _("Type"), "status": _("Status")}
        for cat in self.definitions.categories if self.definitions else []:
            names[f"category-{cat.slot}"] = plain(cat.name)
        return names.get(widget.id or "", widget.id or "")
