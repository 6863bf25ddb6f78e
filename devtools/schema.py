"""Prints the upload contract's JSON Schema, generated from ``newsroom.models.StoryIn``."""

import json

from newsroom.models import story_json_schema

if __name__ == "__main__":
    print(json.dumps(story_json_schema(), indent=2, ensure_ascii=False))
