"""The resource library: pages vendor staff publish for partners and the public.

:mod:`.views` serves the library, the pages and their management (blueprint
``resources``); :mod:`.queries` decides who sees which page; :mod:`.markdown`
renders bodies safely; :mod:`.search` hands published pages to the search index.
"""
