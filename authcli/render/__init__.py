"""Rendering walkthrough steps: terminal (rich), Markdown or JSON. The only package importing rich."""
