# kzcourse — two commands: `make lab` (students; `make lab-instructor` for the sources and the
# Formgrader) and `make test` (maintainers, CI).
# Everything installs into ./.venv; Jupyter's config, data and runtime folders are kept
# inside the project (./.jupyter), never in your home folder.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JUPYTER_ENV := JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter/config JUPYTER_DATA_DIR=$(CURDIR)/.jupyter/data \
               JUPYTER_RUNTIME_DIR=$(CURDIR)/.jupyter/runtime IPYTHONDIR=$(CURDIR)/.jupyter/ipython \
               PATH=$(CURDIR)/$(VENV)/bin:$$PATH
PYTEST_ARGS ?=

.PHONY: lab lab-copy lab-instructor test venv test-venv chromium proxy axe site site-instructor lessons-clean bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

test-venv: $(VENV)/.installed-test

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

## Open JupyterLab on the student editions (the main job): a working copy in build/lab (made once;
## your answers stay there), landing on its start page, the lesson list. The repository stays clean.
LAB_DIR ?= build/lab
# Jupyter refuses to run as root unless told (containers, CI machines).
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# LabApp.default_url (not ServerApp's, which JupyterLab replaces): the token URL it prints opens the start page.
LAB_ARGS = --LabApp.default_url=/lab/tree/START.md --LabApp.user_settings_dir=$(CURDIR)/.jupyter/lab-settings \
           --LabApp.news_url= --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(LAB_AS_ROOT)
# Students' Jupyter config folder: nbgrader's instructor tools (Formgrader, course list, Create
# Assignment) off; `make lab-instructor` keeps .jupyter/config, with everything on.
STUDENT_CONFIG := $(CURDIR)/.jupyter/student-config
lab: lab-copy
	cd $(LAB_DIR) && $(JUPYTER_ENV) JUPYTER_CONFIG_DIR=$(STUDENT_CONFIG) $(CURDIR)/$(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(LAB_ARGS)

## The working copy alone: student editions of every lesson and the start page in $(LAB_DIR)
## (lessons already there are kept), and the JupyterLab settings `make lab` uses.
lab-copy: venv
	mkdir -p .jupyter
	$(JUPYTER_ENV) $(PY) -m kzcourse lessons $(LAB_DIR) --lab-settings $(CURDIR)/.jupyter/lab-settings --jupyter-config $(STUDENT_CONFIG)

## The instructor's view: JupyterLab on the sources (lessons/) with the Formgrader on a graded sample
## term, made once by `kzcourse demo` in build/demo-term.
DEMO_TERM ?= build/demo-term
DEMO_LESSONS ?= 01-article 02-geography 03-timeline
lab-instructor: venv
	mkdir -p .jupyter
	test -f $(DEMO_TERM)/course/nbgrader_config.py || \
	  $(JUPYTER_ENV) $(PY) -m kzcourse demo $(DEMO_TERM) --lessons $(DEMO_LESSONS)
	cd $(DEMO_TERM)/course && $(JUPYTER_ENV) $(CURDIR)/$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.default_url=/lab/tree/lessons $(LAB_AS_ROOT)

## Debian's Chromium for the browser tests (Playwright never downloads a browser here),
## bubblewrap for the grading sandbox and PostgreSQL for the shared-gradebook test.
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	@command -v bwrap >/dev/null 2>&1 || \
	  { echo "Installing Debian's bubblewrap for the grading sandbox"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { echo "Installing Debian's postgresql for the PostgreSQL gradebook test"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

## configurable-http-proxy (npm) for the JupyterHub end-to-end test, installed into ./.node;
## axe-core (npm) for the accessibility audit of the exported lessons and the report page.
CHP := .node/node_modules/.bin/configurable-http-proxy
AXE := .node/node_modules/axe-core/axe.min.js
proxy: $(CHP) $(AXE)
$(CHP):
	npm install --silent --no-audit --no-fund --prefix .node configurable-http-proxy
$(AXE):
	npm install --silent --no-audit --no-fund --prefix .node axe-core

## axe-core alone (the site's accessibility checks use the same copy).
axe: $(AXE)

## The course website from the student editions (offline; open $(SITE)/index.html from disk).
## Launch buttons: make site SITE_ARGS="--binder URL --hub URL --repo GIT_URL --branch student --lite URL"
SITE ?= build/site
SITE_ARGS ?=
site: venv
	mkdir -p .jupyter
	$(JUPYTER_ENV) $(VENV)/bin/kzcourse site $(SITE) $(SITE_ARGS)

## The instructor edition (solutions, hidden tests, mark schemes): for the course team, never publish it.
site-instructor: venv
	mkdir -p .jupyter
	$(JUPYTER_ENV) $(VENV)/bin/kzcourse site build/site-instructor --instructor $(SITE_ARGS)

## Run the whole test suite (unit, doctests, notebooks, nbgrader, browser, JupyterLab and JupyterHub end to end).
test: test-venv chromium proxy axe
	mkdir -p .jupyter
	$(JUPYTER_ENV) $(PY) -m pytest $(PYTEST_ARGS)

## Print the benchmark figures.
bench: test-venv
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(JUPYTER_ENV) $(PY) $$b; done

## Strip outputs from the lesson notebooks before committing.
lessons-clean: venv
	$(PY) -m kzcourse.lessons --clear-outputs

clean:
	rm -rf $(VENV) .jupyter .pytest_cache build *.egg-info .node test-artifacts
