"""The class report's formats, for `class report -f`: name -> the function of render/classroom.py
that makes it, the default first. Its own module, so the CLI reads the names at start-up without
importing the report's code."""

REPORT_FORMATS = {"md": "markdown", "html": "html", "csv": "csv_text"}
