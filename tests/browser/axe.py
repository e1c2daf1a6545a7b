"""Accessibility audit with axe-core (npm ``axe-core``, installed into ./.node by the Makefile).

:func:`audit` injects axe into a page opened by Playwright and returns its violations, each
node marked as kzcourse's own content (a markdown cell or a cell output of the notebook, or
the body of a kzcourse page) or as the chrome of the tool that made the page (nbconvert's
prompts, code highlighting, page-level structure).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / ".node" / "node_modules" / "axe-core" / "axe.min.js"
#: Where a notebook exported by nbconvert (lab template) or nbgrader's feedback (classic template) holds what
#: kzcourse wrote or drew: markdown cells and outputs, but not error tracebacks (IPython's colours) and not
#: code inputs (nbconvert's syntax highlighting).
CONTENT = (".jp-RenderedMarkdown, .jp-MarkdownOutput, "
           ".jp-OutputArea-output:not([data-mime-type='application/vnd.jupyter.stderr']), "
           ".text_cell_render, .output_subarea:not(.output_error)")

_RUN = """async (content) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
      let el = null;
      try { el = document.querySelector(n.target[0]); } catch (e) { el = null; }
      // nbconvert's heading anchors (the pilcrow links) are its chrome, even inside a markdown cell; so is
      // nbgrader's feedback template making a text output's <pre> scroll sideways without a tab stop.
      const templateScroll = v.id === 'scrollable-region-focusable' && el && el.matches('.output_subarea pre, .output_subarea > pre');
      const ours = content === null || !!(el && el.closest(content) && !el.closest('.anchor-link') && !templateScroll);
      return {target: n.target.join(' '), impact: n.impact, ours: ours,
              html: n.html.slice(0, 200)};
    }),
  }));
}"""


def audit(page: Any, content: str | None = CONTENT) -> list[dict[str, Any]]:
    """Run axe-core on the page; ``content`` is the selector of kzcourse's content (None: the whole page is ours)."""
    if not AXE_JS.is_file():
        import pytest

        pytest.skip(f"{AXE_JS} is missing: run `make proxy` (npm install axe-core)")
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN, content)


def serious(violations: list[dict[str, Any]], *, ours: bool) -> list[str]:
    """``rule: target`` of every serious or critical node, of kzcourse's content (``ours``) or of the chrome."""
    return [f"{v['id']} ({n['impact']}): {n['target']} {n['html']}" for v in violations for n in v["nodes"]
            if (n["impact"] or v["impact"]) in ("serious", "critical") and n["ours"] == ours]
