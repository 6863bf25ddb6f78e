"""``make dev``: ingest the sample stories through the real ingest handler against moto's
embedded server and print what was stored.

(The full local stack, with the API and S3 notifications, is tracked in issue 4.)
"""

import json
import os
import sys
from pathlib import Path

from devtools.backend import start_backend
from devtools.events import s3_event, s3_record
from devtools.functions import load_function_module
from devtools.template import ROOT, function_environment

SAMPLES = ROOT / "samples" / "stories"


def main() -> int:
    backend = start_backend()
    try:
        os.environ.update(function_environment("IngestFunction"))
        os.environ.update(
            {
                "STORIES_TABLE": backend.table,
                "AWS_ENDPOINT_URL": backend.endpoint_url,
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        ingest = load_function_module("ingest")
        s3 = backend.client("s3")
        print(f"embedded AWS endpoint: {backend.endpoint_url}")
        for path in sorted(SAMPLES.iterdir()):
            key = f"incoming/samples/{path.name}"
            body = Path(path).read_bytes()
            s3.put_object(Bucket=backend.bucket, Key=key, Body=body)
            result = ingest.handler(
                s3_event(s3_record(backend.bucket, key, size=len(body))), _Context()
            )
            for file in result["files"]:
                print(f"{file['key']}: {file['status']} {json.dumps(file['counts'])}")
        feed = backend.client("dynamodb").query(
            TableName=backend.table,
            IndexName="feed",
            KeyConditionExpression="feed_pk = :f",
            ExpressionAttributeValues={":f": {"S": "feed"}},
            ScanIndexForward=False,
        )["Items"]
        print(f"\nRecent Stories ({len(feed)} published):")
        for item in feed:
            print(f"  {item['published_at']['S'][:10]}  {item['title']['S']}")
        return 0
    finally:
        backend.stop()


class _Context:
    function_name = "IngestFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:IngestFunction"
    aws_request_id = "local-dev"


if __name__ == "__main__":
    sys.exit(main())
