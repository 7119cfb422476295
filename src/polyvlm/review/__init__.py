"""Human review of generated data: a project store, an annotation web app, export and agreement."""
