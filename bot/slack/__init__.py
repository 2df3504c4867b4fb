"""WAVE's Slack app (slack-bolt, async): /wave modal, message shortcut, mentions, reactions, gallery."""

from bot.slack.app import SlackWave
from bot.slack.server import run_slack, serve_slack, web_app

__all__ = ["SlackWave", "run_slack", "serve_slack", "web_app"]
