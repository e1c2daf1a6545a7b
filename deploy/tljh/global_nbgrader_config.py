"""nbgrader settings every user's server reads: copy to /opt/tljh/user/etc/jupyter/nbgrader_config.py.

Students only need the course id and the exchange. The instructor's own course
folder (made with ``kzcourse init ~/kzcourse``) has its own nbgrader_config.py, where
``c.Exchange.root`` must name the same folder as below.
"""
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "kzcourse"
# One shared exchange on this machine; create it once as root:
#   sudo mkdir -p /srv/nbgrader/exchange && sudo chmod 1777 /srv/nbgrader/exchange
c.Exchange.root = "/srv/nbgrader/exchange"
