"""Local development and test tooling (not shipped to Lambda)."""
