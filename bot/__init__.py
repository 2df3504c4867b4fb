"""Chat adapters (Discord, Slack)."""
