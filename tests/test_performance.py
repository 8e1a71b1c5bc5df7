"""The shortcuts taken for speed (issue 11) give exactly what the slow way gave."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from markupsafe import Markup

TEMPLATE = """{{ _("Save") }}|{{ _("Hello %(name)s", name=who) }}|\
{{ ngettext("%(num)d facility", "%(num)d facilities", n) }}|{{ _("Save") }}"""


def _expected(who: str, n: int) -> str:
    """What Jinja's own newstyle gettext makes of Flask-Babel's translations."""
    save = Markup(babel_gettext("Save")) % {}
    hello = Markup(babel_gettext("Hello %(name)s")) % {"name": who}
    count = Markup(babel_ngettext("%(num)d facility", "%(num)d facilities", n)) % {"num": n}
    return f"{save}|{hello}|{count}|{save}"


def test_template_translations_are_flask_babels_also_when_the_locale_changes(app):
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        who = "<b>Sofie</b>"
        dutch = render_template_string(TEMPLATE, who=who, n=3)
        assert dutch == _expected(who, 3)
        assert "Opslaan" in dutch and "&lt;b&gt;Sofie&lt;/b&gt;" in dutch
        with force_locale("en"):  # a mail in the recipient's language, mid-request
            english = render_template_string(TEMPLATE, who=who, n=1)
            assert english == _expected(who, 1)
            assert english.startswith("Save|")
        assert render_template_string(TEMPLATE, who=who, n=3) == dutch
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(TEMPLATE, who="An", n=2) == _expected("An", 2)


def test_text_templates_are_not_escaped(app):
    with app.test_request_context():
        env = app.jinja_env.overlay(autoescape=False)
        text = env.from_string('{{ _("Hello %(name)s", name=who) }}').render(who="<An>")
        assert text == babel_gettext("Hello %(name)s", name="<An>")
