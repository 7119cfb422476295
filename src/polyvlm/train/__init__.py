"""Training: staged configs, per-module optimisers, data mixtures with packing, the loop and its checkpoints."""
