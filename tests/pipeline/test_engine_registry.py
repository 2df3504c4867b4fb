"""The engine registries are the one list of engine names: settings, the CLI and `wave models` follow them."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from pipeline.effects import EFFECTS
from pipeline.engines import EngineEntry, EngineRegistry, EngineUnavailableError
from pipeline.vision import VISION
from wave_app.models_cmd import models_for
from wave_core.engines import EFFECTS_OPTIONS, VISION_OPTIONS, model_ref
from wave_core.settings import Settings

STAGES = [("vision", VISION, VISION_OPTIONS), ("effects", EFFECTS, EFFECTS_OPTIONS)]


@pytest.mark.parametrize(("stage", "registry", "options"), STAGES)
def test_settings_accept_exactly_the_registered_names(stage, registry, options):
    for name in registry.names:
        assert getattr(Settings(**{f"{stage}_engine": name}), f"resolved_{stage}_engine") == name
    with pytest.raises(ValidationError):
        Settings(**{f"{stage}_engine": "no-such-engine"})
    assert set(options) <= set(registry.names), "options for an engine the registry does not know"


@pytest.mark.parametrize(("stage", "registry", "options"), STAGES)
def test_cli_offers_the_registered_names(stage, registry, options):
    from wave_app.cli import build_parser

    command = {"vision": "see", "effects": "hear"}[stage]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    engine = next(a for a in sub.choices[command]._actions if a.dest == "engine")
    assert tuple(engine.choices) == registry.names


@pytest.mark.parametrize(("stage", "registry", "options"), STAGES)
def test_models_lists_the_weights_of_every_model_engine(stage, registry, options):
    settings = Settings()
    for name in registry.names:
        entry = registry.entry(name)
        specs = [spec for spec in models_for(settings.model_copy(update={f"{stage}_engine": name})) if spec.role == stage]
        if entry.model_setting is None:
            assert specs == []
        else:
            assert [(s.setting, s.ref, s.kind) for s in specs] == [
                (entry.model_setting, model_ref(settings, entry.model_setting), entry.model_kind)]


def test_unknown_and_uninstallable_engines_raise_one_error():
    registry = EngineRegistry("effects", [EngineEntry("lite", "pipeline.effects.lite", "LiteEffectsEngine"),
                                          EngineEntry("ghost", "pipeline.effects.no_such_module", "Ghost",
                                                      needs="a ghost")])
    with pytest.raises(EngineUnavailableError, match="choose one of: lite, ghost"):
        registry.build("telepathy")
    with pytest.raises(EngineUnavailableError, match="needs a ghost"):
        registry.build("ghost")
    assert registry.build(" LITE ", effects_cache_dir=None).name == "lite"
