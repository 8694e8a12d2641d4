"""Django shell around the pure ``fundtrace`` core: settings, URLs, the ``fundtrace`` CLI."""
