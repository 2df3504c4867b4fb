"""The two Slack manifests (Socket Mode, HTTP mode): both parse, describe the same app, and are up to date."""

from __future__ import annotations

import yaml

from bot.slack import manifest as manifests
from bot.slack.server import EVENTS_PATH


def load(mode: str) -> dict:
    return yaml.safe_load(manifests.FILES[mode].read_text(encoding="utf-8"))


def what_the_app_uses(data: dict) -> tuple:
    features, settings = data["features"], data["settings"]
    return (
        sorted(c["command"] for c in features["slash_commands"]),
        sorted(s["callback_id"] for s in features["shortcuts"]),
        sorted(settings["event_subscriptions"]["bot_events"]),
        sorted(data["oauth_config"]["scopes"]["bot"]),
        features["app_home"]["home_tab_enabled"],
        settings["interactivity"]["is_enabled"],
    )


def request_urls(data: dict) -> list[str]:
    settings = data["settings"]
    return [c.get("url") for c in data["features"]["slash_commands"]] + [
        settings["event_subscriptions"].get("request_url"), settings["interactivity"].get("request_url"),
        settings["interactivity"].get("message_menu_options_url")]


def test_both_manifests_describe_the_same_app_with_its_home_tab():
    socket, http = load("socket"), load("http")
    assert what_the_app_uses(socket) == what_the_app_uses(http)
    commands, shortcuts, events, scopes, home, interactive = what_the_app_uses(socket)
    assert commands == ["/wave"] and shortcuts == ["wave_picture"] and home is True and interactive is True
    assert {"app_home_opened", "app_mention", "reaction_added", "reaction_removed"} == set(events)
    assert {"commands", "chat:write", "files:read", "files:write", "reactions:read", "reactions:write"} <= set(scopes)


def test_socket_mode_needs_no_url_and_http_mode_has_one_everywhere():
    socket, http = load("socket"), load("http")
    assert socket["settings"]["socket_mode_enabled"] is True and set(request_urls(socket)) == {None}
    assert http["settings"]["socket_mode_enabled"] is False
    assert set(request_urls(http)) == {manifests.PLACEHOLDER_URL + EVENTS_PATH}


def test_the_http_manifest_takes_its_urls_from_one_public_url(capsys):
    assert manifests.main(["http", "--url", "https://music.example.org/"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert set(request_urls(printed)) == {"https://music.example.org/slack/events"}
    assert what_the_app_uses(printed) == what_the_app_uses(load("http"))


def test_the_checked_in_manifests_are_up_to_date():
    assert manifests.main(["--check"]) == 0
