"""The instructor's side: nbgrader configuration helpers and preprocessors.

Knows nothing of maps or charts. nbgrader stays the engine and the gradebook.
"""
