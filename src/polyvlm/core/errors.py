"""The errors every layer may raise: core imports nothing of polyvlm, so any layer can use these."""


class RecipeError(ValueError):
    """A recipe (or a step's configuration) that cannot run, with the place and what to do."""


class StopRun(RuntimeError):
    """Raised by a step to stop the whole run (an endpoint is down): the unit stays unfinished, so the
    same command resumes it later."""
