"""Clients: models behind an interface (image-text scorers, NSFW detectors, chat), configured and cached."""
