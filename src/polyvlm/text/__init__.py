"""Language rules and text filters as steps."""
