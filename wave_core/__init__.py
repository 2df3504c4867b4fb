"""WAVE's wiring: settings, logging, metrics and the engine registries that the workers, the bots and the CLI share."""
