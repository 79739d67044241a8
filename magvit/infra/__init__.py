"""The machinery every stage shares: the fit loop, the artifact cache, files, locks, results, hardware, scale-out."""
