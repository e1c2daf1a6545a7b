"""Run a lesson notebook for the site: offline maps, widget state saved, text alternatives kept.

A prelude cell runs first in the kernel and is removed afterwards. It sets
``KZCOURSE_OFFLINE=1`` (every map inlines the vendored Leaflet and draws country
polygons, no tiles) and registers a display formatter that stores each kzcourse map's
text alternative (:func:`kzcourse.maps.describe`) beside its HTML, so the page can show it.
Errors do not stop the run: the student edition's answer cells raise, and the page drops
tracebacks (see :mod:`kzcourse.site.render`).
"""
from __future__ import annotations

from pathlib import Path

from kzcourse.site.render import ALT_MIME

PRELUDE = f'''
import os as _kz_os
_kz_os.environ["KZCOURSE_OFFLINE"] = "1"

def _kz_site_setup():
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter

    class AltFormatter(BaseFormatter):
        format_type = "{ALT_MIME}"
        print_method = "_kz_site_alt_"

    def alt(m):
        if getattr(m, "kz_alt", None) is None:
            return None
        from kzcourse import maps
        return maps.describe(m)._repr_html_()

    shell = get_ipython()
    formatter = AltFormatter(parent=shell.display_formatter)
    shell.display_formatter.formatters[formatter.format_type] = formatter
    formatter.for_type_by_name("folium.folium", "Map", alt)

_kz_site_setup()
del _kz_site_setup
'''


def execute(path: str | Path, *, timeout: int = 300):
    """Execute the notebook at ``path`` in its folder and return it (an ``nbformat`` node).

    The kernel is the current environment's ``python3``; each cell may run ``timeout`` s.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE))
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, store_widget_state=True,
                            kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    prelude = nb.cells.pop(0)
    errors = [o for o in prelude.outputs if o.get("output_type") == "error"]
    if errors:
        from kzcourse.site.editions import SiteError

        raise SiteError(f"The site's execution prelude failed in {path.name}: {errors[0].get('evalue')}. "
                        "Check that kzcourse is installed in the kernel's environment.")
    return nb
