"""The plugin's own translation domain ("hello", catalogs in ``translations/``).

Python code uses ``_`` (now) and ``_l`` (lazy, for module-level strings).
Templates of the plugin's blueprint use ``_()`` as usual (the portal looks in
this catalog first, then the core's); templates rendered on core pages (the
dashboard widget) use ``_p("hello", ...)``.
"""

from portal.plugin_i18n import PluginTranslations

translations = PluginTranslations("hello")
_ = translations.gettext
_l = translations.lazy_gettext
ngettext = translations.ngettext
