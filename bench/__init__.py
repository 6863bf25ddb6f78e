"""Benchmarks of the content API: cold start, warm overhead, DynamoDB work per request,
ingest scale and package size. ``python -m bench`` (``make bench``) runs them all.

Every figure is a median compared with a reference measured in the same run, interleaved
with it: the machines are shared and noisy, so absolute times mean little on their own.
"""
