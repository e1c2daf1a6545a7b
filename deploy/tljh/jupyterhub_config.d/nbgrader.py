"""JupyterHub settings for kzcourse on TLJH: copy to /opt/tljh/config/jupyterhub_config.d/.

Adds the course's groups (nbgrader's convention: ``formgrade-<course>`` for
instructors and graders, ``nbgrader-<course>`` for students) and the instructor as
an admin. TLJH runs each user's server as a real Unix user (``jupyter-<name>``),
so nbgrader tells students apart by their account and the exchange's Unix
permissions apply.
"""
c = get_config()  # noqa: F821

COURSE = "kzcourse"
INSTRUCTORS = ["instructor"]
STUDENTS: list[str] = []  # or leave empty and add students in the hub's admin page

# A server without internet: uncomment so every lesson's maps inline Leaflet and need no CDN or tiles.
# c.Spawner.environment = {"KZCOURSE_OFFLINE": "1"}

c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": INSTRUCTORS},
    f"nbgrader-{COURSE}": {"users": STUDENTS},
}
