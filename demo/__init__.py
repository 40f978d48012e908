"""Demo data generators: the synthetic customers and purchases behind seeds/, the tests and
bench/. Not part of the installed package."""
