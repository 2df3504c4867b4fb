"""Engine contracts: one test class per stage states what every engine of that stage must do, and one subclass
per engine supplies the engine (as diffusers' PipelineTesterMixin does for pipelines)."""

from __future__ import annotations

from pipeline.engines import EngineRegistry


def contract_subclasses(contract: type) -> list[type]:
    """Every class below ``contract``, at any depth."""
    found = []
    for subclass in contract.__subclasses__():
        found += [subclass, *contract_subclasses(subclass)]
    return found


def engines_without_contract(registry: EngineRegistry, contract: type) -> list[str]:
    """Names in ``registry`` that no subclass of ``contract`` tests (subclasses say which with ``engine_name``)."""
    covered = {getattr(subclass, "engine_name", None) for subclass in contract_subclasses(contract)}
    return [name for name in registry.names if name not in covered]
