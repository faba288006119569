"""Templates get their data from page handlers: no database-reading globals, no hidden parts."""

from __future__ import annotations

from pathlib import Path

import airlock
from airlock import composition
from airlock.web.pages.render import TEMPLATES

TEMPLATE_DIR = Path(airlock.__file__).resolve().parent / "web/templates"
JINJA_DEFAULTS = {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "url_for"}


def test_no_template_global_beyond_jinjas_own_once_every_page_is_loaded():
    composition.api_routers()
    composition.page_routers()
    assert set(TEMPLATES.env.globals) - JINJA_DEFAULTS == set()


def test_no_template_hides_a_missing_or_failed_part():
    offenders = []
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        text = path.read_text()
        if "ignore missing" in text or "is defined" in text:
            offenders.append(str(path.relative_to(TEMPLATE_DIR)))
    assert offenders == []
