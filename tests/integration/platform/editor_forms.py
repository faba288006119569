"""Read an HTML form the way a browser submits it (the successful controls), for page tests."""

from __future__ import annotations

from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.disabled = 0
        self.fields: list[tuple[str, str]] = []
        self.names: set[str] = set()
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self._option: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "fieldset" and "disabled" in a:
            self.disabled += 1
        if tag == "fieldset":
            self._fieldsets = [*getattr(self, "_fieldsets", []), "disabled" in a]
        name = a.get("name", "")
        if name:
            self.names.add(name)
        if self.disabled:
            return
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value", ""), "selected" in a]  # type: ignore[list-item]
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "form":
            self.inside = False
        elif tag == "fieldset":
            stack = getattr(self, "_fieldsets", [])
            if stack and stack.pop():
                self.disabled -= 1
        elif tag == "option" and self._option is not None:
            self._options.append((str(self._option[0]), bool(self._option[1])))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            self.fields.append((self._select, chosen[0] if chosen else ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._text[1:] if self._text.startswith("\n") else self._text
            self.fields.append((self._textarea, text))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def successful_controls(html: str, form_id: str) -> tuple[list[tuple[str, str]], set[str]]:
    """The (name, value) pairs a browser would post from the form, and every control name."""
    parser = _Form(form_id)
    parser.feed(html)
    return parser.fields, parser.names
