"""Build the course website: pages, navigation, search index, launch links and shared assets.

The layout of a built site (every page at the top, so relative links work from disk)::

    index.html              home: what the course is, who it is for, the lesson table
    01-article.html ...     one page per lesson
    article.html            the annotated article
    data.html               the data dictionary
    instructor.html         the instructor guide (running a term; no mark scheme)
    credits.html, search.html
    notebooks/<id>/<id>.ipynb   the downloadable notebook (student edition, no outputs)
    maps/<page>-<n>.html    every map, as its own document
    assets/                 site.css, site.js, search.js, search-index.js, plotly.min.js, shared map assets
    site.json               what was built: edition, pages, counts, build time
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kzcourse.site.editions import SiteError, student_editions
from kzcourse.site.render import NotebookRenderer, SiteFiles, esc, headings_in_order, markdown, shift_headings

EDITIONS = ("student", "instructor")
MANIFEST = "site.json"
COURSE_NAME = "Kazakhstan, January 2022"


@dataclass(frozen=True)
class Launch:
    """Where the launch buttons point. Every field is optional; a button shows only when configured.

    binder : a Binder base URL for the repository, e.g. ``https://BINDER/v2/gh/ORG/REPO/BRANCH``;
        the button opens ``binder_path`` (``{id}`` is the lesson id) in JupyterLab.
    hub : a JupyterHub base URL; with ``repo`` the button is an nbgitpuller link that clones
        ``repo`` at ``branch`` (a branch holding the student editions as ``<id>/<id>.ipynb``) into
        the user's server and opens the lesson.
    lite : a JupyterLite deployment holding the student editions as ``<id>/<id>.ipynb``.
    """

    binder: str | None = None
    binder_path: str = "{id}/{id}.ipynb"
    hub: str | None = None
    repo: str | None = None
    branch: str = "student"
    lite: str | None = None

    def links(self, lesson_id: str) -> list[tuple[str, str]]:
        """``(label, url)`` of each configured button for ``lesson_id``.

        >>> Launch(hub="http://127.0.0.1:8000", repo="file:///srv/student.git").links("01-article")[0][1]
        'http://127.0.0.1:8000/hub/user-redirect/git-pull?repo=file%3A%2F%2F%2Fsrv%2Fstudent.git&branch=student&targetPath=student&urlpath=lab%2Ftree%2Fstudent%2F01-article%2F01-article.ipynb'
        """
        out = []
        if self.binder:
            path = self.binder_path.format(id=lesson_id)
            out.append(("Launch on Binder", f"{self.binder.rstrip('/')}?urlpath={quote('lab/tree/' + path, safe='')}"))
        if self.hub and self.repo:
            target = re.sub(r"\.git$", "", self.repo.rstrip("/").rsplit("/", 1)[-1]) or "kzcourse"
            urlpath = f"lab/tree/{target}/{lesson_id}/{lesson_id}.ipynb"
            out.append(("Open on JupyterHub", f"{self.hub.rstrip('/')}/hub/user-redirect/git-pull?repo="
                        f"{quote(self.repo, safe='')}&branch={quote(self.branch, safe='')}&targetPath="
                        f"{quote(target, safe='')}&urlpath={quote(urlpath, safe='')}"))
        if self.lite:
            out.append(("Try in JupyterLite", f"{self.lite.rstrip('/')}/lab/index.html?path="
                        f"{quote(f'{lesson_id}/{lesson_id}.ipynb', safe='')}"))
        return out


@dataclass
class Site:
    """A built site: where it is, what it holds, how long it took."""

    root: Path
    edition: str
    pages: list[str] = field(default_factory=list)
    lessons: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def __str__(self) -> str:
        maps = sum(c["maps"] for c in self.lessons.values())
        charts = sum(c["charts"] for c in self.lessons.values())
        widgets = sum(c["widgets"] for c in self.lessons.values())
        return (f"{self.edition} site in {self.root}: {len(self.pages)} pages, {len(self.lessons)} lessons "
                f"({maps} maps, {charts} charts, {widgets} widget snapshots), "
                f"{self.size_bytes / 1e6:.1f} MB, built in {self.seconds:.0f} s. Open {self.root / 'index.html'}")


# ---------------------------------------------------------------------------- page frame
def number(lesson: Any, position: int) -> str:
    """The lesson's number as its id gives it (``04-almaty`` is 4), else its position.

    >>> from kzcourse.lessons import lesson
    >>> number(lesson("04-almaty"), 99)
    '4'
    """
    head = lesson.id.split("-", 1)[0]
    return str(int(head)) if head.isdigit() else str(position)


def _nav(lessons: list[Any], current: str) -> str:
    def item(href: str, label: str) -> str:
        cur = ' aria-current="page"' if href == current else ""
        return f'<li><a href="{href}"{cur}>{esc(label)}</a></li>'

    items = [item("index.html", "Home")]
    items += [item(f"{l.id}.html", f"{number(l, n)}. {l.title}") for n, l in enumerate(lessons, 1)]
    items += [item("article.html", "The annotated article"), item("data.html", "Data dictionary"),
              item("instructor.html", "Instructor guide"), item("credits.html", "Credits"),
              item("search.html", "Search")]
    return f'<nav class="kz-nav" aria-label="Course pages"><ul>{"".join(items)}</ul></nav>'


def page(title: str, body: str, *, href: str, lessons: list[Any], edition: str, scripts: tuple[str, ...] = ()) -> str:
    """A whole HTML document around ``body`` (which holds the page's one ``<h1>``)."""
    banner = ""
    if edition == "instructor":
        banner = ('<p class="kz-banner" role="note"><strong>Instructor edition</strong>: this copy shows '
                  'solutions, hidden tests and mark schemes. Never publish it to students.</p>')
    tags = "".join(f'<script src="assets/{s}"></script>' for s in ("site.js",) + scripts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · {COURSE_NAME}</title>
<link rel="stylesheet" href="assets/site.css">
</head>
<body>
<a class="kz-skip" href="#main">Skip to the content</a>
<header class="kz-header">
<a class="kz-brand" href="index.html">{COURSE_NAME}: a course on one primary source</a>
<form class="kz-search" role="search" aria-label="Search the course" action="search.html">
<label for="kz-q">Search the course</label>
<input id="kz-q" name="q" type="search">
<button type="submit">Search</button>
</form>
</header>
{banner}
<div class="kz-layout">
{_nav(lessons, href)}
<main id="main" tabindex="-1">
{headings_in_order(body)}
</main>
</div>
<footer class="kz-footer"><p>kzcourse · {esc(edition)} edition · works offline: every page, map, chart and the
search need no network. <a href="credits.html">Credits and licences</a>.</p></footer>
{tags}
</body>
</html>
"""


# ---------------------------------------------------------------------------- pages
def _lesson_table(lessons: list[Any]) -> str:
    rows = []
    for n, l in enumerate(lessons, 1):
        objectives = "".join(f"<li>{esc(o)}</li>" for o in l.objectives)
        rows.append(f'<tr><td>{number(l, n)}</td><th scope="row"><a href="{l.id}.html">{esc(l.title)}</a></th>'
                    f'<td>{l.minutes} ({l.teaching_minutes} teaching, {l.exercise_minutes} exercises)</td>'
                    f'<td><ul>{objectives}</ul></td></tr>')
    total = sum(l.minutes for l in lessons)
    return ('<table class="kz-table"><caption>The lessons, in course order '
            f'({total} minutes in all)</caption><thead><tr><th scope="col">#</th><th scope="col">Lesson</th>'
            '<th scope="col">Minutes</th><th scope="col">Objectives</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def home_html(lessons: list[Any]) -> str:
    return (
        f"<h1>{COURSE_NAME}: the unrest in Kazakhstan and Tokayev's turn to Russia</h1>"
        "<p>A Jupyter course that teaches students to analyse a real political crisis from one primary source: "
        "a machine-translated news report of 8 January 2022, read paragraph by paragraph and checked against a "
        "cited dataset of actors, places, events and claims, with interactive maps, actor networks and "
        "charts.</p>"
        "<h2 id='who'>Who it is for</h2>"
        "<p>Students of politics, history, journalism or data science who know a little Python (variables, "
        "lists, a first look at pandas), and the instructors who teach them. Every lesson is a notebook with "
        "graded questions (checked by nbgrader) and at least one written answer.</p>"
        "<h2 id='how'>How to use this site</h2>"
        "<p>Each lesson page shows the whole lesson with its maps, charts and explorers as they appear when the "
        "notebook opens. The questions are left for you: download the notebook, or launch it, to answer them. "
        "Every claim the article makes that the course checked is marked on "
        "<a href='article.html'>the annotated article</a>.</p>"
        "<h2 id='lessons'>The lessons</h2>" + _lesson_table(lessons)
    )


def lesson_panel(lesson: Any, launch: Launch, edition: str) -> str:
    """The top of a lesson page: minutes, objectives, readings, download and launch buttons."""
    readings = ", ".join(f'<a href="article.html#{p}">paragraph {p}</a>' for p in lesson.readings) or "none"
    objectives = "".join(f"<li>{esc(o)}</li>" for o in lesson.objectives)
    buttons = [f'<a class="kz-button" href="notebooks/{lesson.id}/{lesson.id}.ipynb" download>'
               f'Download the notebook of “{esc(lesson.title)}” (.ipynb)</a>']
    if edition == "instructor":
        buttons.append(f'<a class="kz-button" href="notebooks/source/{lesson.id}.ipynb" download>'
                       f'Download the source notebook with solutions (.ipynb)</a>')
    buttons += [f'<a class="kz-button" href="{esc(url)}">{esc(label)}: {esc(lesson.title)}</a>'
                for label, url in launch.links(lesson.id)]
    if not launch.links(lesson.id):
        buttons.append('<span class="kz-note">Launch buttons (Binder, JupyterHub, JupyterLite) appear when '
                       'the site is built with <code>--binder</code>, <code>--hub</code>/<code>--repo</code> or '
                       '<code>--lite</code>.</span>')
    return (f'<section class="kz-panel" aria-labelledby="glance"><h2 id="glance">At a glance</h2>'
            f'<p><strong>Time:</strong> about {lesson.minutes} minutes ({lesson.teaching_minutes} teaching, '
            f'{lesson.exercise_minutes} exercises). <strong>Readings:</strong> {readings} of the article.</p>'
            f'<p><strong>Learning objectives</strong></p><ul>{objectives}</ul>'
            f'<div class="kz-buttons">{"".join(buttons)}</div></section>')


def _is_key_points(cell: dict[str, Any]) -> bool:
    return cell.get("cell_type") == "markdown" and re.match(r"\s*#+\s*Key points", "".join(cell.get("source", ""))) is not None


def lesson_html(lesson: Any, nb: dict[str, Any], renderer: NotebookRenderer, launch: Launch, edition: str,
                notes: str | None = None) -> str:
    """The body of a lesson page: title, panel, the notebook's cells, key points (and instructor notes)."""
    renderer.use_widget_state(nb)
    cells = list(nb.get("cells", []))
    # The first cell repeats title, minutes and objectives (course.toml is the source, shown in the panel);
    # the last repeats the key points (shown from course.toml below).
    if cells and cells[0].get("cell_type") == "markdown" and "".join(cells[0].get("source", "")).lstrip().startswith("# "):
        cells = cells[1:]
    if cells and _is_key_points(cells[-1]):
        cells = cells[:-1]
    body = [f"<h1>{esc(lesson.title)}</h1>", lesson_panel(lesson, launch, edition)]
    if notes is not None:
        body.append(f'<section class="kz-instructor" aria-labelledby="notes"><h2 id="notes">Instructor notes '
                    f'(instructor edition only)</h2>{shift_headings(markdown(notes), 2)}</section>')
    body += [renderer.cell(c) for c in cells]
    points = "".join(f"<li>{esc(p)}</li>" for p in lesson.key_points)
    body.append(f'<h2 id="key-points">Key points</h2><ul>{points}</ul>')
    return "\n".join(body)


def _readme_section(readme: str, heading: str) -> str:
    m = re.search(rf"(?m)^## {re.escape(heading)}\s*$", readme)
    if not m:
        return ""
    rest = readme[m.end():]
    end = re.search(r"(?m)^## ", rest)
    return rest[: end.start()] if end else rest


def _local_links_to_text(fragment: str, known: set[str]) -> str:
    """Links to repository files that are not site pages become plain text (they would be broken on the site)."""
    def repl(m: re.Match) -> str:
        href = m.group(1)
        if href.startswith(("http://", "https://", "#", "mailto:")) or href.split("#")[0] in known:
            return m.group(0)
        return f'<span class="kz-path">{m.group(2)}</span>'

    return re.sub(r'<a href="([^"]*)">(.*?)</a>', repl, fragment, flags=re.S)


def instructor_html(readme: str, known: set[str]) -> str:
    guide = _readme_section(readme, "Instructor guide") + "\n" + _readme_section(readme, "Running a class: one laptop, JupyterHub, Kubernetes")
    return ("<h1>Instructor guide</h1><p>How to run a term with the <code>kzcourse</code> command on nbgrader, "
            "from the project's README. Lesson-by-lesson teaching notes and mark schemes are in each lesson's "
            "<code>instructor.md</code>, which only the instructor edition of this site shows.</p>"
            + _local_links_to_text(shift_headings(markdown(guide), 1), known))


def data_html(dictionary: str, known: set[str]) -> str:
    body = markdown(dictionary)
    body = re.sub(r"<h1[^>]*>.*?</h1>", "", body, count=1, flags=re.S)
    return "<h1>Data dictionary</h1>" + _local_links_to_text(body, known)


def credits_html() -> str:
    from kzcourse import data

    sources = data.load("sources")
    rows = []
    for _, s in sources.iterrows():
        url = str(s.get("url") or "")
        title = f'<a href="{esc(url)}">{esc(s["title"])}</a>' if url.startswith("http") else esc(s["title"])
        date = "" if str(s["date"]) in ("NaT", "None") else str(s["date"])[:10]
        rows.append(f"<tr><td>{title}</td><td>{esc(s['publisher'])}</td><td>{esc(date)}</td><td>{esc(s['kind'])}</td></tr>")
    return (
        "<h1>Credits</h1>"
        "<h2 id='source'>The primary source</h2><p>The seed article (“In the midst of the crisis, the leader of "
        "Kazakhstan embraces Russia”, 8 January 2022) is kept as given, for teaching and criticism. All other "
        "text and code of the course are the project's own.</p>"
        "<h2 id='software'>Software and data shipped with the site</h2><ul>"
        "<li>Leaflet (BSD-2-Clause), the map library, shipped for offline use.</li>"
        "<li>plotly.js (MIT), the chart library, the copy that ships with the plotly Python package.</li>"
        "<li>Natural Earth (public domain) country geometry, via the world-atlas package.</li>"
        "<li>Okabe &amp; Ito's colour-blind-safe palette (<em>Color Universal Design</em>).</li>"
        "<li>Jupyter, nbgrader, nbconvert, folium, ipywidgets and pandas, which build and run the lessons.</li></ul>"
        f"<h2 id='sources'>The sources the dataset cites ({len(sources)})</h2>"
        '<table class="kz-table"><caption>Every source of the dataset</caption><thead><tr><th scope="col">Title'
        '</th><th scope="col">Publisher</th><th scope="col">Date</th><th scope="col">Kind</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def search_html() -> str:
    return ('<h1>Search</h1><form class="kz-search-page" role="search" aria-label="Search again" action="search.html">'
            '<label for="kz-q2">Words to find in the lessons, the article and the guides</label> '
            '<input id="kz-q2" name="q" type="search"> <button type="submit">Search</button></form>'
            '<div id="kz-results" role="status" aria-live="polite"><p>Type words above: every page of the site '
            'is searched in your browser, without a network.</p></div>')


# ---------------------------------------------------------------------------- search index
_TAG_RE = re.compile(r"<[^>]+>")


def _sections(href: str, title: str, body: str) -> list[dict[str, str]]:
    """Split a page body at its headings into search records ``{url, title, text}``."""
    import html as _html

    body = re.sub(r"<script\b.*?</script>|<style\b.*?</style>|<iframe\b.*?</iframe>", " ", body, flags=re.S)
    out = []
    parts = re.split(r'(<h[1-3][^>]*>.*?</h[1-3]>)', body, flags=re.S)
    anchor, heading = "", title
    for part in parts:
        m = re.match(r'<h[1-3]([^>]*)>(.*?)</h[1-3]>', part, re.S)
        if m:
            ident = re.search(r'id="([^"]+)"', m.group(1))
            anchor = f"#{ident.group(1)}" if ident else ""
            heading = _html.unescape(_TAG_RE.sub("", m.group(2))).strip()
            continue
        text = re.sub(r"\s+", " ", _html.unescape(_TAG_RE.sub(" ", part))).strip()
        if text:
            label = title if heading == title else f"{title} › {heading}"
            out.append({"url": href + anchor, "title": label, "text": text[:4000]})
    return out


# ---------------------------------------------------------------------------- the build
def _repo_root() -> Path:
    from kzcourse.lessons import lessons_dir

    return lessons_dir().parent


def _static(name: str) -> str:
    return resources.files("kzcourse.site").joinpath("static", name).read_text(encoding="utf-8")


def _prepare(out: Path, edition: str) -> None:
    if edition not in EDITIONS:
        raise SiteError(f"Unknown site edition {edition!r}: expected one of {', '.join(EDITIONS)}.")
    if out.exists() and any(out.iterdir()):
        manifest = out / MANIFEST
        if not manifest.is_file():
            raise SiteError(f"{out} is not empty and holds no {MANIFEST}: it is not a kzcourse site, so it is "
                            "left alone. Choose an empty or new folder.")
        try:
            old = json.loads(manifest.read_text(encoding="utf-8")).get("edition")
        except ValueError:
            old = None
        if old != edition:
            raise SiteError(f"{out} holds the {old} edition of the site; building the {edition} edition over it "
                            f"would mix the two. Choose another folder, or delete {out} first.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def build_site(out: str | Path, *, edition: str = "student", launch: Launch | None = None,
               lessons: list[str] | None = None, progress: bool = False) -> Site:
    """Build the course website into ``out`` and return what was built.

    Parameters
    ----------
    out : str or Path
        Folder for the site (created; an earlier build of the same edition there is replaced,
        any other non-empty folder is refused).
    edition : {'student', 'instructor'}
        ``'student'`` (the default) builds from the student editions nbgrader releases: no
        solution, hidden test or mark scheme. ``'instructor'`` builds from the source notebooks
        and adds each lesson's instructor notes: for a course team only.
    launch : Launch, optional
        Where the launch buttons point (none by default: download only).
    lessons : list of str, optional
        Lesson ids to build (default: all).
    progress : bool
        Print one line per lesson.

    Raises
    ------
    SiteError
        For an unknown edition or lesson, or a folder that is not a site of the same edition.
    """
    import nbformat

    from kzcourse.lessons import course

    started = time.monotonic()
    out = Path(out).absolute()
    _prepare(out, edition)
    launch = launch or Launch()
    meta = {l.id: l for l in course()}
    unknown = [l for l in lessons or [] if l not in meta]
    if unknown:
        raise SiteError(f"Unknown lesson {', '.join(map(repr, unknown))}: expected one of {', '.join(meta)}.")
    chosen = [meta[i] for i in (lessons or list(meta))]
    files = SiteFiles(out)
    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "site.js", "search.js"):
        (assets / name).write_text(_static(name), encoding="utf-8")
    import plotly

    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", assets / "plotly.min.js")
    site = Site(out, edition)
    pages: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    with tempfile.TemporaryDirectory(prefix="kzcourse-site-") as tmp:
        students = student_editions(Path(tmp) / "student", [l.id for l in chosen])
        for lesson in chosen:
            target = out / "notebooks" / lesson.id
            target.mkdir(parents=True, exist_ok=True)
            clean = nbformat.read(students[lesson.id], as_version=4)
            nbformat.write(clean, target / f"{lesson.id}.ipynb")
            if edition == "instructor":
                (out / "notebooks" / "source").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(lesson.notebook, out / "notebooks" / "source" / f"{lesson.id}.ipynb")
                run_dir = Path(tmp) / "source" / lesson.id
                shutil.copytree(lesson.notebook.parent, run_dir)
                path = run_dir / f"{lesson.id}.ipynb"
            else:
                path = students[lesson.id]
            t0 = time.monotonic()
            from kzcourse.site.execute import execute

            nb = execute(path)
            renderer = NotebookRenderer(files, lesson.id, edition)
            notes = lesson.instructor_notes.read_text(encoding="utf-8") if edition == "instructor" and \
                lesson.instructor_notes.is_file() else None
            body = lesson_html(lesson, nb, renderer, launch, edition, notes)
            scripts = ("plotly.min.js",) if renderer.counts.charts else ()
            pages[f"{lesson.id}.html"] = (lesson.title, body, scripts)
            site.lessons[lesson.id] = vars(renderer.counts).copy()
            if progress:
                c = renderer.counts
                print(f"  {lesson.id}: {c.maps} maps, {c.charts} charts, {c.widgets} widgets "
                      f"({time.monotonic() - t0:.1f} s)", flush=True)
    all_lessons = list(meta.values()) if lessons is None else chosen
    root = _repo_root()
    known = {f"{l.id}.html" for l in chosen} | {"index.html", "article.html", "data.html", "instructor.html",
                                                  "credits.html", "search.html"}
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").is_file() else ""
    dictionary = root / "docs" / "data-dictionary.md"
    if not dictionary.is_file():
        raise SiteError(f"{dictionary} is missing: the site needs the data dictionary. Rebuild it with "
                        "`python scripts/build_data_dictionary.py`.")
    from kzcourse.site.article import article_html

    pages["index.html"] = ("Home", home_html(all_lessons), ())
    pages["article.html"] = ("The annotated article", article_html(), ())
    pages["data.html"] = ("Data dictionary", data_html(dictionary.read_text(encoding="utf-8"), known), ())
    pages["instructor.html"] = ("Instructor guide", instructor_html(readme, known), ())
    pages["credits.html"] = ("Credits", credits_html(), ())
    pages["search.html"] = ("Search", search_html(), ("search-index.js", "search.js"))
    index = []
    for href, (title, body, scripts) in pages.items():
        (out / href).write_text(page(title, body, href=href, lessons=chosen, edition=edition, scripts=scripts),
                                encoding="utf-8")
        if href != "search.html":
            index += _sections(href, title, body)
    data = json.dumps(index, ensure_ascii=False).replace("</", "<\\/")
    (assets / "search-index.js").write_text(f"window.KZ_SEARCH_INDEX = {data};\n", encoding="utf-8")
    site.pages = sorted(pages)
    site.seconds = time.monotonic() - started
    (out / MANIFEST).write_text(json.dumps({"edition": edition, "pages": site.pages, "lessons": site.lessons,
                                            "seconds": round(site.seconds, 1)}, indent=1), encoding="utf-8")
    if edition == "instructor":
        (out / "INSTRUCTOR-EDITION.txt").write_text(
            "This site shows solutions, hidden tests and mark schemes. Never publish it to students.\n",
            encoding="utf-8")
    return site
