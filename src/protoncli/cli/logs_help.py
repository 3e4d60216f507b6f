"""The options of the `logs` commands, shared by `svc logs` and `env logs` (as `deploying.py`
shares HISTORY_*_OPTION); a module of its own, so the command groups can declare them without
importing the logs view."""

import typer

SINCE_OPTION = typer.Option(
    None,
    "--since",
    metavar="10m|ISO",
    help="Events from this far back (10m, 2h, 1d) or since an ISO 8601 time (default: 10m).",
)
FOLLOW_OPTION = typer.Option(
    False, "--follow", "-f", help="Keep printing new events (polling every 1 to 5 s) until Ctrl-C."
)
FILTER_OPTION = typer.Option(
    None,
    "--filter",
    metavar="PATTERN",
    help="A CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"error\" }'.",
)
JSON_OPTION = typer.Option(
    False,
    "--json",
    help="NDJSON: one JSON object per event (timestamp, instance, log_group, log_stream, message).",
)
