"""The plugin's translation domain, ``deals`` (catalogs in ``translations/``).

``_`` translates now, ``_l`` lazily (module-level strings: labels, choices),
``ngettext`` picks the plural form. Templates of the plugin's blueprint use ``_()``
as usual; templates rendered on core pages and in emails use ``_p("deals", ...)``.
"""

from portal.plugin_i18n import PluginTranslations

translations = PluginTranslations("deals")
_ = translations.gettext
_l = translations.lazy_gettext
ngettext = translations.ngettext


def N_(message: str) -> str:
    """Mark a msgid for extraction; it is translated where it is shown (in-app
    notifications are stored untranslated and rendered in the reader's language)."""
    return message
