"""English — metrics and demo data."""

METRICS: dict[str, str] = {
    "metrics.sent": "Sent",
    "metrics.received": "Received",
    "metrics.failures": "Failures",
    "metrics.optouts": "Opt-outs",
    "metrics.demo_loaded": "Demo data loaded.",
    "metrics.days7": "7 days",
    "metrics.days30": "30 days",
    "metrics.all_numbers": "All numbers",
    "metrics.all_conversations": "All conversations",
    "metrics.load_demo": "Load demo data",
    "metrics.loading_demo": "Loading demo data…",
    "metrics.per_day": "Messages per day",
    "metrics.per_number": "Sent vs received per number",
    "metrics.heatmap": "Activity by hour and weekday",
    "metrics.topics": "Topic ranking",
    "metrics.latency": "Reply latency per number (s)",
    "metrics.failures_optouts": "Failures and opt-outs",
    "metrics.failure_rate": "Failure rate",
    "metrics.avg_latency": "Average latency",
    "metrics.empty": "No messages in this period yet. Connect numbers and activate a conversation — or load the demo data.",
}
