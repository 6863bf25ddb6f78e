"""Prints the upload contract's JSON Schema, generated from ``StoryIn`` (stories.contract)."""

import json

from newsroom.stories.contract import story_json_schema

if __name__ == "__main__":
    print(json.dumps(story_json_schema(), indent=2, ensure_ascii=False))
