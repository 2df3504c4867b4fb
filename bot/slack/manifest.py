"""The Slack app manifests, one per way Slack reaches the app, from one description:

- ``manifest.yml``: Socket Mode (no request URLs; the app token opens the connection);
- ``manifest-http.yml``: HTTP mode, every request URL built from one public base URL.

    python -m bot.slack.manifest http --url https://wave.example.org   # prints the HTTP manifest for that host
    python -m bot.slack.manifest http                                  # ... for WAVE_SLACK_PUBLIC_URL
    python -m bot.slack.manifest --write                               # rewrites both files (placeholder host)
    python -m bot.slack.manifest --check                               # exit 1 when a file is out of date
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Literal

import yaml

from bot.slack.server import EVENTS_PATH

Mode = Literal["socket", "http"]
HERE = Path(__file__).resolve().parent
FILES: dict[Mode, Path] = {"socket": HERE / "manifest.yml", "http": HERE / "manifest-http.yml"}
PLACEHOLDER_URL = "https://wave.example.com"

HEADERS: dict[Mode, str] = {
    "socket": (
        "# Slack app manifest for WAVE in Socket Mode (https://api.slack.com/reference/manifests).\n"
        "# The app needs WAVE_SLACK_BOT_TOKEN and WAVE_SLACK_APP_TOKEN (connections:write); no public URL.\n"
    ),
    "http": (
        "# Slack app manifest for WAVE in HTTP mode (https://api.slack.com/reference/manifests).\n"
        "# Every request URL is <public URL>/slack/events: print this manifest for your host with\n"
        "#   python -m bot.slack.manifest http --url https://<your host>   (or set WAVE_SLACK_PUBLIC_URL)\n"
        "# and run the app with WAVE_SLACK_MODE=http and WAVE_SLACK_SIGNING_SECRET.\n"
    ),
}
GENERATED = "# Written by `python -m bot.slack.manifest --write`; edit the description in bot/slack/manifest.py.\n"

# What the app is, whichever way Slack reaches it.
APP: dict = {
    "display_information": {
        "name": "WAVE",
        "description": "Turns a photo into music played by the photo's own sounds.",
        "background_color": "#1d3557",
    },
    "features": {
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False},  # help and the latest mixes
        "bot_user": {"display_name": "WAVE", "always_online": True},
        "slash_commands": [{
            "command": "/wave",
            "description": "Make music from a photo (or help, top, me, show, settings, gallery #channel)",
            "usage_hint": "[help | top [week] | me | show [job] | settings … | gallery #channel]",
            "should_escape": True,  # channels arrive as <#C123|name>
        }],
        "shortcuts": [{
            "name": "Make music with WAVE", "type": "message", "callback_id": "wave_picture",
            "description": "Make music from this message's photo",
        }],
    },
    "oauth_config": {"scopes": {"bot": [
        "commands",           # /wave and the message shortcut
        "chat:write",         # progress, results, sound messages, gallery posts
        "files:read",         # download the photo people attach
        "files:write",        # upload the mix, the sheet, the casting and the sounds
        "reactions:read",     # reaction_added / reaction_removed
        "reactions:write",    # the session reactions on each sound
        "app_mentions:read",  # @WAVE with a photo
        "users:read",         # is the person a workspace admin (gallery channel, remapping others' mixes)
    ]}},
    "settings": {
        "event_subscriptions": {"bot_events": ["app_home_opened", "app_mention", "reaction_added", "reaction_removed"]},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "token_rotation_enabled": False,
    },
}


def manifest(mode: Mode, public_url: str = PLACEHOLDER_URL) -> dict:
    """The manifest for ``mode``; in HTTP mode every request URL is ``public_url`` + the app's events path."""
    data = copy.deepcopy(APP)
    settings = data["settings"]
    settings["socket_mode_enabled"] = mode == "socket"
    if mode == "http":
        url = public_url.rstrip("/") + EVENTS_PATH
        for command in data["features"]["slash_commands"]:
            command["url"] = url
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"].update(request_url=url, message_menu_options_url=url)
    return data


def render(mode: Mode, public_url: str = PLACEHOLDER_URL) -> str:
    body = yaml.safe_dump(manifest(mode, public_url), sort_keys=False, allow_unicode=True, width=120)
    return HEADERS[mode] + GENERATED + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="WAVE's Slack app manifests.")
    parser.add_argument("mode", nargs="?", choices=["socket", "http"], help="print this mode's manifest")
    parser.add_argument("--url", help="public https base URL of the app (HTTP mode; default WAVE_SLACK_PUBLIC_URL)")
    parser.add_argument("--write", action="store_true", help="rewrite the checked-in manifests")
    parser.add_argument("--check", action="store_true", help="exit 1 when a checked-in manifest is out of date")
    args = parser.parse_args(argv)
    if args.write or args.check:
        stale = [path for mode, path in FILES.items()
                 if not path.exists() or path.read_text(encoding="utf-8") != render(mode)]
        if args.check:
            for path in stale:
                print(f"{path.name} is out of date: run python -m bot.slack.manifest --write", file=sys.stderr)
            return 1 if stale else 0
        for mode, path in FILES.items():
            path.write_text(render(mode), encoding="utf-8")
            print(f"wrote {path}")
        return 0
    if args.mode is None:
        parser.error("name a mode (socket or http), or use --write / --check")
    url = args.url
    if args.mode == "http" and url is None:
        from wave_core.settings import get_settings

        url = get_settings().slack_public_url
    elif url is not None:
        from wave_core.settings import Settings

        url = Settings(slack_public_url=url).slack_public_url  # the same check as the setting's
    print(render(args.mode, url or PLACEHOLDER_URL), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
