"""tajik-timeline: a curated event-timeline dataset served as a filtered JSON API."""

__version__ = "0.1.0"
