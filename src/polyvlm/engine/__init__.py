"""Engines that run a recipe: local (processes over shards) and ray (Ray Data)."""
