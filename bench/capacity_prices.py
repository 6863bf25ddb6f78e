"""AWS list prices and quotas the capacity model uses: each one a ``Quote`` that names its
source. Region us-east-1, on-demand/pay-as-you-go, no free tier, no savings plans.

``confirmed`` says whether the figure was checked against a stored copy of its source (or a
copy quoting it) while the model was written; an unconfirmed one is the documented figure as
remembered, to be checked before relying on it. ``assumption`` marks the few figures that no
AWS document gives (latencies): they are the model's guesses, printed as such.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quote:
    """One price, quota or assumed figure, with where it comes from."""

    value: float
    unit: str
    source: str
    confirmed: bool = True
    assumption: bool = False


MILLION = 1_000_000
GB = 1024**3  # AWS bills data transfer and log ingestion per GB of 2**30 bytes

# -- prices -----------------------------------------------------------------------------------

CLOUDFRONT_HTTPS_REQUEST = Quote(
    0.0100 / 10_000,
    "$ per HTTPS request",
    "Amazon CloudFront pricing (aws.amazon.com/cloudfront/pricing), pay-as-you-go: $0.0100 per "
    "10,000 HTTPS requests, United States, Mexico, Canada and Europe",
)
CLOUDFRONT_DATA_OUT = Quote(
    0.085,
    "$ per GB",
    "Amazon CloudFront pricing, regional data transfer out to the internet, first 10 TB a "
    "month, United States, Mexico, Canada and Europe: $0.085 per GB",
)
CLOUDFRONT_ORIGIN_FETCH = Quote(
    0.0,
    "$ per GB",
    "Amazon CloudFront pricing: data transfer from AWS origins (API Gateway here) to CloudFront "
    "edge locations is free",
)
API_GATEWAY_REST_REQUEST = Quote(
    3.50 / MILLION,
    "$ per request",
    "Amazon API Gateway pricing (aws.amazon.com/api-gateway/pricing), REST APIs: $3.50 per "
    "million requests, first 333 million a month",
)
LAMBDA_REQUEST = Quote(
    0.20 / MILLION,
    "$ per invocation",
    "AWS Lambda pricing (aws.amazon.com/lambda/pricing): $0.20 per 1 million requests",
)
LAMBDA_GB_SECOND = Quote(
    0.0000166667,
    "$ per GB-second",
    "AWS Lambda pricing, x86, first 6 billion GB-seconds a month: $0.0000166667 per GB-second; "
    "duration rounded up to the nearest 1 ms",
)
DYNAMODB_READ_REQUEST_UNIT = Quote(
    0.125 / MILLION,
    "$ per read request unit",
    "Amazon DynamoDB pricing for on-demand capacity (aws.amazon.com/dynamodb/pricing/on-demand), "
    "Standard table class: $0.125 per million read request units (since 1 November 2024)",
)
DYNAMODB_WRITE_REQUEST_UNIT = Quote(
    0.625 / MILLION,
    "$ per write request unit",
    "Amazon DynamoDB pricing for on-demand capacity, Standard table class: $0.625 per million "
    "write request units (since 1 November 2024)",
)
WAF_REQUEST = Quote(
    0.60 / MILLION,
    "$ per request inspected",
    "AWS WAF pricing (aws.amazon.com/waf/pricing): $0.60 per million requests processed by a "
    "web ACL",
)
WAF_WEB_ACL_MONTH = Quote(5.00, "$ per web ACL per month", "AWS WAF pricing: $5.00 per web ACL")
WAF_RULE_MONTH = Quote(
    1.00,
    "$ per rule per month",
    "AWS WAF pricing: $1.00 per rule (a managed rule group counts as one) per web ACL",
)
LOGS_INGESTED = Quote(
    0.50,
    "$ per GB ingested",
    "Amazon CloudWatch pricing (aws.amazon.com/cloudwatch/pricing), Logs, Standard class: $0.50 "
    "per GB ingested (Lambda's logs: the first tier of the vended-logs prices, since May 2025)",
)
LOG_EVENT_OVERHEAD = Quote(
    26,
    "bytes per log event",
    "CloudWatch Logs API reference, PutLogEvents: a batch's size is its events' UTF-8 messages "
    "plus 26 bytes each; taken here as the ingested size of an event",
)
XRAY_TRACE_RECORDED = Quote(
    5.00 / MILLION,
    "$ per trace recorded",
    "AWS X-Ray pricing (aws.amazon.com/xray/pricing): $5.00 per million traces recorded",
)
XRAY_RESERVOIR = Quote(
    1,
    "traces per second",
    "AWS X-Ray developer guide, sampling rules: the default rule records the first request each "
    "second (reservoir 1) and 5 percent of any additional requests",
)
XRAY_FIXED_RATE = Quote(0.05, "fraction", "AWS X-Ray developer guide, default sampling rule: 5 %")
SES_EMAIL = Quote(
    0.10 / 1000,
    "$ per email",
    "Amazon SES pricing (aws.amazon.com/ses/pricing): $0.10 per 1,000 outbound emails",
)
SQS_REQUEST = Quote(
    0.40 / MILLION,
    "$ per request (64 KB chunk)",
    "Amazon SQS pricing (aws.amazon.com/sqs/pricing), standard queues: $0.40 per million "
    "requests, each 64 KB chunk of a payload one request",
)
ALARM_MONTH = Quote(
    0.10,
    "$ per alarm per month",
    "Amazon CloudWatch pricing, alarms: $0.10 per standard-resolution metric alarm a month",
)
DASHBOARD_MONTH = Quote(
    3.00, "$ per dashboard per month", "Amazon CloudWatch pricing: $3.00 per dashboard a month"
)

# -- quotas -----------------------------------------------------------------------------------

CLOUDFRONT_RPS = Quote(
    250_000,
    "requests per second per distribution",
    "Amazon CloudFront developer guide, Quotas, general quotas: requests per second per "
    "distribution 250,000 (adjustable)",
)
CLOUDFRONT_REGIONAL_EDGE_CACHES = Quote(
    13,
    "regional edge caches",
    "Amazon CloudFront developer guide, 'How CloudFront works with regional edge caches'; AWS "
    "global infrastructure page: 13 regional edge caches between the POPs and the origin",
)
API_GATEWAY_ACCOUNT_RPS = Quote(
    10_000,
    "requests per second per account and region",
    "Amazon API Gateway developer guide, Quotas: throttle quota per account, per Region across "
    "HTTP, REST and WebSocket APIs: 10,000 RPS (adjustable)",
)
API_GATEWAY_ACCOUNT_BURST = Quote(
    5_000,
    "requests (token bucket)",
    "Amazon API Gateway developer guide, Quotas: burst capacity, a bucket of 5,000 requests",
)
LAMBDA_CONCURRENCY = Quote(
    1_000,
    "concurrent executions per account and region",
    "AWS Lambda developer guide, Lambda quotas: concurrent executions 1,000 (adjustable)",
)
LAMBDA_RPS_PER_CONCURRENCY = Quote(
    10,
    "requests per second per unit of concurrency",
    "AWS Lambda developer guide, 'Understanding Lambda function scaling': a requests-per-second "
    "limit of 10 times the account's concurrency",
)
LAMBDA_SCALING_RATE = Quote(
    1_000,
    "new execution environments per 10 s per function",
    "AWS Lambda developer guide, 'Lambda scaling behavior': 1,000 execution environments every "
    "10 seconds for each function",
)
LAMBDA_FULL_VCPU_MB = Quote(
    1769,
    "MB of memory for one vCPU",
    "AWS Lambda developer guide, 'Configure Lambda function memory': at 1,769 MB a function has "
    "the equivalent of one vCPU; CPU is allocated in proportion to memory",
)
DYNAMODB_PARTITION_READ = Quote(
    3_000,
    "read units per second per partition",
    "Amazon DynamoDB developer guide, warm throughput and partitions: each partition is limited "
    "to 3,000 read units and 1,000 write units per second",
)
DYNAMODB_PARTITION_WRITE = Quote(
    1_000,
    "write units per second per partition",
    "Amazon DynamoDB developer guide, warm throughput and partitions: 1,000 write units per "
    "second per partition",
)
DYNAMODB_TABLE_ON_DEMAND = Quote(
    40_000,
    "read (and write) request units per second per table",
    "Amazon DynamoDB developer guide, Quotas, throughput default quotas: on-demand, per table, "
    "40,000 read request units and 40,000 write request units (adjustable)",
)
DYNAMODB_NEW_TABLE_WRITES = Quote(
    4_000,
    "write request units per second",
    "Amazon DynamoDB developer guide, on-demand capacity mode, 'Initial throughput and scaling "
    "properties': a new on-demand table sustains up to 4,000 writes and 12,000 reads per "
    "second, then double its previous peak",
)
DYNAMODB_NEW_TABLE_READS = Quote(
    12_000, "read request units per second", DYNAMODB_NEW_TABLE_WRITES.source
)
DYNAMODB_READ_BLOCK = Quote(
    4096,
    "bytes per read unit",
    "Amazon DynamoDB developer guide, read/write capacity: one read unit is one strongly "
    "consistent read (or two eventually consistent ones) of up to 4 KB; a Query sums the sizes "
    "of the items it reads and rounds up to 4 KB",
    confirmed=False,  # the 4 KB unit was checked (DynamoDB pricing page); the Query rule not
)
DYNAMODB_WRITE_BLOCK = Quote(
    1024,
    "bytes per write unit",
    "Amazon DynamoDB developer guide, read/write capacity: one write unit writes an item of up "
    "to 1 KB; a global secondary index write costs the same for the projected item",
    confirmed=False,  # the 1 KB unit was checked (DynamoDB pricing page); the GSI rule not
)

# -- assumptions (no AWS document gives these) ---------------------------------------------

DYNAMODB_CALL_MS = Quote(
    5.0,
    "ms per DynamoDB call, Lambda to DynamoDB in one region",
    "Assumption: DynamoDB promises 'single-digit millisecond' latency (DynamoDB developer "
    "guide, on-demand capacity mode); 5 ms is the middle of that range",
    confirmed=False,
    assumption=True,
)
SES_SEND_MS = Quote(
    50.0,
    "ms per SendRawEmail call",
    "Assumption: one SES API round trip from Lambda in the same region (SES documents rates, "
    "not latencies); the figure DigestSenderMaxConcurrency's description in template.yaml uses",
    confirmed=False,
    assumption=True,
)
SQS_CALL_MS = Quote(
    10.0,
    "ms per SQS call",
    "Assumption: one SQS API round trip from Lambda in the same region",
    confirmed=False,
    assumption=True,
)


def all_quotes() -> dict[str, Quote]:
    """Every quote of this module by its name (for the JSON, the table and the tests)."""
    return {name: value for name, value in globals().items() if isinstance(value, Quote)}
