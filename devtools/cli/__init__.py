"""Editors' command-line tools: ``newsroom-validate`` and ``newsroom-upload``."""
