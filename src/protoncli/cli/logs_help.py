"""The help of the `logs` commands' options, shared by `svc logs` and `env logs`; a module of
its own, so the command groups can name them without importing the logs view."""

SINCE_HELP = "Events from this far back (10m, 2h, 1d) or since an ISO 8601 time (default: 10m)."
FOLLOW_HELP = "Keep printing new events (polling every 1 to 5 s) until Ctrl-C."
FILTER_HELP = "A CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"error\" }'."
JSON_HELP = (
    "NDJSON: one JSON object per event (timestamp, instance, log_group, log_stream, message)."
)
