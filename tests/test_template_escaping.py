"""The portal's output escaping (portal.templating.output_escape): the page is
the one Jinja's own escaping writes, for every kind of value."""

from __future__ import annotations

from markupsafe import Markup, escape

from portal.templating import PortalTemplate, output_escape


class Html:
    def __html__(self) -> str:
        return "<b>kept</b>"


class Text:
    def __str__(self) -> str:
        return "<i>'quoted' & \"double\"</i>"


VALUES = ["plain", "<script>alert('x')</script> & \"q\"", Markup("<em>safe</em>"), Html(), Text(),
          42, 3.5, None, "", "ünïcödé <>"]


def test_output_escape_writes_what_escape_writes():
    for value in VALUES:
        assert str(output_escape(value)) == str(escape(value)), value


def test_templates_use_it_and_render_the_same_page(app):
    env = app.jinja_env
    assert env.template_class is PortalTemplate
    source = ("{% macro m(x) %}<p>{{ x }}</p>{% endmacro %}"
              "{% set block %}{{ values[1] }}{% endset %}"
              "{% for v in values %}[{{ v }}]{% endfor %}{{ m(values[1]) }}{{ block }}"
              "{{ values[1] ~ '<' }}{{ values[1]|e }}{{ '<lit>' }}")
    with app.test_request_context():
        rendered = env.from_string(source).render(values=VALUES)
    reference = env.overlay()
    reference.template_class = type("Plain", (PortalTemplate.__mro__[1],), {})
    with app.test_request_context():
        expected = reference.from_string(source).render(values=VALUES)
    assert rendered == expected
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered
    assert "<em>safe</em>" in rendered and "<b>kept</b>" in rendered
