"""The paper's claims and tables: the claims registry, the verdict rules, one module per table or figure."""
