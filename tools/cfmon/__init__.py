"""cfmon: render and verify the CreativeFlow monitoring stack with the real tools."""

__version__ = "0.1.0"
